//! Parquet output: an Arrow schema from the field metadata (Int64, Decimal128, Date32,
//! timestamps with the org's time zone, Boolean, List<Utf8>, Utf8), field labels as column
//! names, the module and export time in the key-value metadata, bounded row groups. Every column
//! maps to a Parquet type with a logical type any reader knows: ids and integers INT64, dates
//! DATE, date-times TIMESTAMP(MICROS, adjusted to UTC), decimals DECIMAL(38, s), text STRING.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Int64Builder, ListBuilder,
    StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow::record_batch::RecordBatch;
use jiff::tz::TimeZone;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use zcrm_protocol::{Cell, RecordsPage};

use crate::ExportError;
use crate::atomic::AtomicFile;
use crate::columns::{ColumnKind, ExportColumn};
use crate::convert;
use crate::sink::{Sink, cell_text, label_map, place};

/// Parquet compression codecs offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Codec {
    /// zstd (default).
    #[default]
    Zstd,
    /// snappy.
    Snappy,
    /// No compression.
    None,
}

impl Codec {
    /// Parses `zstd`, `snappy` or `none`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "zstd" => Some(Self::Zstd),
            "snappy" => Some(Self::Snappy),
            "none" | "uncompressed" => Some(Self::None),
            _ => None,
        }
    }

    fn compression(self) -> Compression {
        match self {
            Self::Zstd => Compression::ZSTD(ZstdLevel::default()),
            Self::Snappy => Compression::SNAPPY,
            Self::None => Compression::UNCOMPRESSED,
        }
    }
}

/// Rows per row group: bounded so memory stays flat for wide CRM rows.
pub const ROW_GROUP_ROWS: usize = 50_000;

/// The Arrow schema of an export. Date-times are microsecond timestamps in UTC (Parquet's
/// TIMESTAMP(MICROS, isAdjustedToUTC)) whose Arrow time zone is the org's, for Arrow readers;
/// Parquet has no seconds unit, so a seconds timestamp would be a bare INT64 to other readers.
pub fn schema(cols: &[ExportColumn], tz_name: &str) -> Schema {
    let fields: Vec<Field> = cols
        .iter()
        .map(|c| {
            let t = match c.kind {
                ColumnKind::Id => DataType::Int64,
                ColumnKind::Text => DataType::Utf8,
                ColumnKind::Integer => DataType::Int64,
                ColumnKind::Decimal { scale } => DataType::Decimal128(38, scale),
                ColumnKind::Boolean => DataType::Boolean,
                ColumnKind::Date => DataType::Date32,
                ColumnKind::DateTime => {
                    DataType::Timestamp(TimeUnit::Microsecond, Some(tz_name.into()))
                }
                ColumnKind::MultiSelect => {
                    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
                }
            };
            Field::new(c.label.clone(), t, true)
        })
        .collect();
    Schema::new(fields)
}

enum Builder {
    Id(Int64Builder),
    Text(StringBuilder),
    Integer(Int64Builder),
    Decimal(Decimal128Builder, i8),
    Boolean(BooleanBuilder),
    Date(Date32Builder),
    DateTime(TimestampMicrosecondBuilder, Arc<str>),
    Multi(ListBuilder<StringBuilder>),
}

impl Builder {
    fn new(kind: ColumnKind, tz: &Arc<str>) -> Self {
        match kind {
            ColumnKind::Id => Self::Id(Int64Builder::new()),
            ColumnKind::Text => Self::Text(StringBuilder::new()),
            ColumnKind::Integer => Self::Integer(Int64Builder::new()),
            ColumnKind::Decimal { scale } => Self::Decimal(Decimal128Builder::new(), scale),
            ColumnKind::Boolean => Self::Boolean(BooleanBuilder::new()),
            ColumnKind::Date => Self::Date(Date32Builder::new()),
            ColumnKind::DateTime => Self::DateTime(TimestampMicrosecondBuilder::new(), tz.clone()),
            ColumnKind::MultiSelect => Self::Multi(ListBuilder::new(StringBuilder::new())),
        }
    }

    fn append(&mut self, cell: Option<&Cell<'_>>, tz: &TimeZone) -> Result<(), String> {
        let text = cell_text(cell);
        let t = text.as_deref();
        match self {
            Self::Id(b) => b.append_option(t.map(convert::id).transpose()?.flatten()),
            Self::Text(b) => b.append_option(t),
            Self::Integer(b) => b.append_option(t.map(convert::integer).transpose()?.flatten()),
            Self::Decimal(b, scale) => {
                b.append_option(t.map(|t| convert::decimal(t, *scale)).transpose()?.flatten())
            }
            Self::Boolean(b) => b.append_option(t.map(convert::boolean).transpose()?.flatten()),
            Self::Date(b) => b.append_option(t.map(convert::date).transpose()?.flatten()),
            Self::DateTime(b, _) => {
                b.append_option(t.map(|t| convert::datetime(t, tz)).transpose()?.flatten())
            }
            Self::Multi(b) => match t.and_then(convert::multi) {
                None => b.append_null(),
                Some(items) => {
                    for i in items {
                        b.values().append_value(i);
                    }
                    b.append(true);
                }
            },
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<ArrayRef, arrow::error::ArrowError> {
        Ok(match self {
            Self::Id(b) => Arc::new(b.finish()),
            Self::Text(b) => Arc::new(b.finish()),
            Self::Integer(b) => Arc::new(b.finish()),
            Self::Decimal(b, scale) => Arc::new(b.finish().with_precision_and_scale(38, *scale)?),
            Self::Boolean(b) => Arc::new(b.finish()),
            Self::Date(b) => Arc::new(b.finish()),
            Self::DateTime(b, tz) => Arc::new(b.finish().with_timezone(tz.clone())),
            Self::Multi(b) => Arc::new(b.finish()),
        })
    }
}

/// Turns decoded pages into Arrow batches of the export's schema. Shared (`Arc`) by the threads
/// that convert pages in parallel; holds no per-page state.
pub struct BatchConverter {
    cols: Vec<ExportColumn>,
    schema: Arc<Schema>,
    tz: TimeZone,
    tz_name: Arc<str>,
}

impl BatchConverter {
    /// The batch of the rows of `page` whose `keep` flag is set (`None` when none is).
    pub fn convert(
        &self,
        page: &RecordsPage<'_>,
        keep: &[bool],
    ) -> Result<Option<RecordBatch>, ExportError> {
        let mut builders: Vec<Builder> =
            self.cols.iter().map(|c| Builder::new(c.kind, &self.tz_name)).collect();
        let map = label_map(page, &self.cols);
        let mut slots = Vec::new();
        let mut n = 0;
        for (row, _) in page.rows.iter().zip(keep).filter(|(_, k)| **k) {
            place(row, &map, &mut slots, self.cols.len());
            for ((b, cell), col) in builders.iter_mut().zip(&slots).zip(&self.cols) {
                b.append(*cell, &self.tz).map_err(|reason| ExportError::Value {
                    id: cell_text(slots[0]).map_or_else(|| "?".to_owned(), |t| t.into_owned()),
                    field: col.label.clone(),
                    reason,
                })?;
            }
            n += 1;
        }
        if n == 0 {
            return Ok(None);
        }
        let arrays = builders.iter_mut().map(Builder::finish).collect::<Result<Vec<_>, _>>();
        arrays
            .and_then(|a| RecordBatch::try_new(self.schema.clone(), a))
            .map(Some)
            .map_err(|e| ExportError::Usage(format!("building an Arrow batch: {e}")))
    }
}

/// Writes Parquet. Arrow batches are built on the caller's thread (or, through
/// [`BatchConverter`], on several) while a writer thread encodes, compresses and writes the
/// previous ones.
pub struct ParquetSink {
    tx: Option<std::sync::mpsc::SyncSender<RecordBatch>>,
    writer: Option<std::thread::JoinHandle<Result<File, String>>>,
    file: AtomicFile,
    converter: Arc<BatchConverter>,
}

/// Batches in flight between the builder and the writer thread (bounded: memory stays flat).
const WRITER_QUEUE: usize = 4;

/// Key-value metadata written into the file footer.
pub struct FileInfo<'a> {
    /// The module exported.
    pub module: &'a str,
    /// The org's time zone (date-time columns carry its IANA name too).
    pub timezone: TimeZone,
    /// When the export started (RFC 3339).
    pub exported_at: &'a str,
    /// The `lastModifiedTime` the export started from, for incremental parts.
    pub since: Option<&'a str>,
}

impl ParquetSink {
    /// Creates the file (under a temporary name).
    pub fn create(
        dest: &Path,
        cols: Vec<ExportColumn>,
        info: &FileInfo<'_>,
        codec: Codec,
    ) -> Result<Self, ExportError> {
        let tz = info.timezone.clone();
        let tz_name = tz.iana_name().unwrap_or("UTC").to_owned();
        let schema = Arc::new(schema(&cols, &tz_name));
        let mut kv = vec![
            KeyValue::new("zcrm.module".to_owned(), info.module.to_owned()),
            KeyValue::new("zcrm.exported_at".to_owned(), info.exported_at.to_owned()),
            KeyValue::new("zcrm.timezone".to_owned(), tz_name.clone()),
        ];
        if let Some(s) = info.since {
            kv.push(KeyValue::new("zcrm.since".to_owned(), s.to_owned()));
        }
        // Dictionary encoding only where values repeat (picklists, owners, lookups): for
        // free text it costs a hash per value and saves little once zstd has run.
        let mut props = WriterProperties::builder()
            .set_compression(codec.compression())
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_key_value_metadata(Some(kv))
            .set_dictionary_enabled(false);
        for c in cols.iter().filter(|c| c.repetitive) {
            props = props.set_column_dictionary_enabled(ColumnPath::from(c.label.as_str()), true);
        }
        let (file, handle) = AtomicFile::create(dest)?;
        let mut writer = ArrowWriter::try_new(handle, schema.clone(), Some(props.build()))
            .map_err(|e| ExportError::io(dest, e))?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<RecordBatch>(WRITER_QUEUE);
        let thread = std::thread::Builder::new()
            .name("zcrm-parquet-writer".into())
            .spawn(move || {
                for batch in rx {
                    writer.write(&batch).map_err(|e| e.to_string())?;
                }
                writer.into_inner().map_err(|e| e.to_string())
            })
            .map_err(|e| ExportError::io(dest, e))?;
        let converter = Arc::new(BatchConverter { cols, schema, tz, tz_name: tz_name.into() });
        Ok(Self { tx: Some(tx), writer: Some(thread), file, converter })
    }

    /// The writer thread's error, once it has stopped.
    fn writer_failed(&mut self) -> ExportError {
        self.tx = None;
        let reason = match self.writer.take().map(std::thread::JoinHandle::join) {
            Some(Ok(Err(e))) => e,
            Some(Err(_)) => "the Parquet writer thread panicked".to_owned(),
            _ => "the Parquet writer stopped".to_owned(),
        };
        ExportError::io(self.file.dest(), reason)
    }
}

impl Sink for ParquetSink {
    fn write_page(&mut self, page: &RecordsPage<'_>, keep: &[bool]) -> Result<usize, ExportError> {
        match self.converter.convert(page, keep)? {
            Some(batch) => self.write_batch(batch, &[]),
            None => Ok(0),
        }
    }

    fn batch_converter(&self) -> Option<Arc<BatchConverter>> {
        Some(self.converter.clone())
    }

    fn write_batch(&mut self, batch: RecordBatch, keep: &[bool]) -> Result<usize, ExportError> {
        let batch = if keep.iter().all(|k| *k) {
            batch
        } else {
            let mask = arrow::array::BooleanArray::from(keep.to_vec());
            arrow::compute::filter_record_batch(&batch, &mask)
                .map_err(|e| ExportError::io(self.file.dest(), e))?
        };
        let n = batch.num_rows();
        if n == 0 {
            return Ok(0);
        }
        let sent = self.tx.as_ref().is_some_and(|tx| tx.send(batch).is_ok());
        if !sent {
            return Err(self.writer_failed());
        }
        Ok(n)
    }

    fn finish(mut self: Box<Self>) -> Result<PathBuf, ExportError> {
        self.tx = None;
        let handle = match self.writer.take().map(std::thread::JoinHandle::join) {
            Some(Ok(Ok(file))) => file,
            Some(Ok(Err(e))) => return Err(ExportError::io(self.file.dest(), e)),
            _ => {
                return Err(ExportError::io(
                    self.file.dest(),
                    "the Parquet writer thread panicked",
                ));
            }
        };
        let Self { file, .. } = *self;
        file.commit(handle)
    }
}
