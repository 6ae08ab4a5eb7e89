//! Pages encoded here as getRecords sends them and written through a sink: the writers without
//! an emulator.

use std::path::Path;

use zcrm_protocol::response::records::{OutField, encode_records_page};
use zcrm_protocol::{FieldMeta, FieldType, ModuleFields, RecordsPage, Section};
use zcrm_writers::columns;
use zcrm_writers::csv_sink::CsvSink;
use zcrm_writers::parquet_sink::{Codec, FileInfo, ParquetSink};
use zcrm_writers::sink::Sink;

/// The org's time zone of these files.
pub const TZ: &str = "America/Los_Angeles";

/// The label of the test field of type `t`.
pub fn label(t: &FieldType) -> String {
    format!("F {}", t.as_str())
}

/// A Leads module with one field of each of `types`.
pub fn module(types: &[FieldType]) -> ModuleFields {
    ModuleFields {
        module: "Leads".into(),
        sections: vec![Section {
            name: "Lead Information".into(),
            display_name: "Lead Information".into(),
            fields: types.iter().map(|t| FieldMeta::new(label(t), t.clone())).collect(),
        }],
    }
}

/// A getRecords page of `rows`: each row is `(label, value, bare)`.
pub fn page(rows: &[Vec<(String, Option<String>, bool)>]) -> String {
    let out: Vec<Vec<OutField<'_>>> = rows
        .iter()
        .map(|r| r.iter().map(|(l, v, b)| OutField::text(l, v.as_deref(), *b)).collect())
        .collect();
    encode_records_page("/crm/private/xml/Leads/getRecords", "Leads", &out).unwrap()
}

/// The footer metadata.
pub fn info() -> FileInfo<'static> {
    FileInfo {
        module: "Leads",
        timezone: jiff::tz::TimeZone::get(TZ).unwrap(),
        exported_at: "2026-01-01T00:00:00Z",
        since: None,
    }
}

/// Writes `body` through a sink made by `make` and returns the file.
pub fn write(
    body: &str,
    meta: &ModuleFields,
    make: impl FnOnce(Vec<columns::ExportColumn>) -> Box<dyn Sink>,
) -> Result<std::path::PathBuf, zcrm_writers::ExportError> {
    let mut cols = columns::plan("LEADID", meta, None).unwrap();
    columns::add_seen_ids(&mut cols, ["SMOWNERID"]);
    let mut sink = make(cols);
    let page = RecordsPage::decode(body.as_bytes()).unwrap();
    let keep = vec![true; page.len()];
    sink.write_page(&page, &keep)?;
    sink.finish()
}

/// A Parquet sink at `path`.
pub fn parquet_sink(path: &Path) -> impl FnOnce(Vec<columns::ExportColumn>) -> Box<dyn Sink> + '_ {
    move |cols| Box::new(ParquetSink::create(path, cols, &info(), Codec::Zstd).unwrap())
}

/// A guarded CSV sink at `path`.
pub fn csv_sink(path: &Path) -> impl FnOnce(Vec<columns::ExportColumn>) -> Box<dyn Sink> + '_ {
    move |cols| Box::new(CsvSink::create(path, cols, true).unwrap())
}
