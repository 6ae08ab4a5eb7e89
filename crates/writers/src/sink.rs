//! Where exported rows go: a sink receives each page with a mask of the rows to keep.

use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use zcrm_protocol::{Cell, RecordsPage};

use crate::parquet_sink::BatchConverter;

use crate::ExportError;
use crate::columns::ExportColumn;

/// An output format.
pub trait Sink {
    /// Appends the kept rows of `page`; returns how many were written.
    fn write_page(&mut self, page: &RecordsPage<'_>, keep: &[bool]) -> Result<usize, ExportError>;
    /// For sinks that take Arrow batches: the converter other threads use to turn pages into
    /// batches for [`Sink::write_batch`].
    fn batch_converter(&self) -> Option<Arc<BatchConverter>> {
        None
    }
    /// Appends the rows of a batch made by the sink's converter whose `keep` flag is set (an
    /// empty `keep` keeps every row); returns how many were written.
    fn write_batch(&mut self, batch: RecordBatch, keep: &[bool]) -> Result<usize, ExportError> {
        let _ = (batch, keep);
        Err(ExportError::Usage("this output format does not take Arrow batches".into()))
    }
    /// Completes the file and moves it into place.
    fn finish(self: Box<Self>) -> Result<std::path::PathBuf, ExportError>;
}

/// For each label of the page, the output column it feeds (if any).
pub(crate) fn label_map(page: &RecordsPage<'_>, cols: &[ExportColumn]) -> Vec<Option<usize>> {
    page.labels.iter().map(|l| cols.iter().position(|c| c.label == **l)).collect()
}

/// The cells of one row, placed by output column.
pub(crate) fn place<'p, 'a>(
    row: &'p zcrm_protocol::response::records::Row<'a>,
    map: &[Option<usize>],
    slots: &mut Vec<Option<&'p Cell<'a>>>,
    width: usize,
) {
    slots.clear();
    slots.resize(width, None);
    for (idx, cell) in &row.cells {
        if let Some(Some(col)) = map.get(usize::from(*idx)) {
            slots[*col] = Some(cell);
        }
    }
}

/// Line items as JSON text (for a text column).
pub(crate) fn line_items_json(items: &[Vec<(String, Option<String>)>]) -> String {
    let arr: Vec<serde_json::Value> = items
        .iter()
        .map(|item| {
            serde_json::Value::Object(
                item.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.clone().map_or(serde_json::Value::Null, serde_json::Value::String),
                        )
                    })
                    .collect(),
            )
        })
        .collect();
    serde_json::Value::Array(arr).to_string()
}

/// The text of a cell (None for null).
pub(crate) fn cell_text<'c>(cell: Option<&'c Cell<'_>>) -> Option<std::borrow::Cow<'c, str>> {
    match cell? {
        Cell::Null => None,
        Cell::Text(t) => Some(std::borrow::Cow::Borrowed(t.as_ref())),
        Cell::LineItems(items) => Some(std::borrow::Cow::Owned(line_items_json(items))),
    }
}
