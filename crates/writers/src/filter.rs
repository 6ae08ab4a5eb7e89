//! One page of an export's records: the whole module's (`getRecords`), or those of its filter
//! (a search criteria or a custom view) through the dialect's filtered read.

use zcrm_client::CrmApi;
use zcrm_protocol::params::ReadParams;

use crate::ExportError;
use crate::export::ExportSpec;

/// The body of the page `params` asks for and an upper bound of its rows.
pub(crate) fn read_body(
    client: &dyn CrmApi,
    spec: &ExportSpec,
    params: &ReadParams,
) -> Result<(Vec<u8>, usize), ExportError> {
    Ok(match &spec.options.filter {
        None => client.read_body(&spec.module, params)?,
        Some(f) => client.read_filtered_body(&spec.module, f, params)?,
    })
}
