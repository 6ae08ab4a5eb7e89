//! One getRecords page body turned into an Arrow batch, on whatever thread runs it: what
//! exports (and the export benchmark) hand to rayon's threads.

use arrow::record_batch::RecordBatch;
use zcrm_protocol::{RecordsPage, ResponseError};

use crate::ExportError;
use crate::parquet_sink::BatchConverter;

/// The label of the modification time every export reads (watermarks need it).
pub const MODIFIED: &str = "Modified Time";

/// A page decoded and turned into an Arrow batch of all its rows, with each row's id and
/// Modified Time for the bookkeeping that must happen in page order (which rows to keep).
#[derive(Debug)]
pub struct ConvertedPage {
    /// Per row: the record id and its Modified Time.
    pub keys: Vec<(Option<u64>, Option<String>)>,
    /// Every row of the page (`None` for an empty page).
    pub batch: Option<RecordBatch>,
}

/// How a page's body is decoded: the dialect's `CrmApi::decode_page` (or `RecordsPage::decode`
/// for the XML API's bodies).
pub type DecodePage<'d> =
    &'d (dyn for<'b> Fn(&'b [u8]) -> Result<RecordsPage<'b>, ResponseError> + Sync);

/// Decodes a page body with `decode` and builds its batch with `conv`; `id_field` names the id
/// column.
pub fn convert_page(
    conv: &BatchConverter,
    id_field: &str,
    body: &[u8],
    decode: DecodePage<'_>,
) -> Result<ConvertedPage, ExportError> {
    let page = decode(body)?;
    let keys = page
        .rows()
        .map(|r| (r.id(id_field).map(|i| i.0), r.text(MODIFIED).map(str::to_owned)))
        .collect();
    let all = vec![true; page.len()];
    Ok(ConvertedPage { keys, batch: conv.convert(&page, &all)? })
}
