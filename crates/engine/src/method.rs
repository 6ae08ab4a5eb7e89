//! Records or Bulk Write: what each way of writing an import step costs (credits) and takes
//! (wall time, estimated), and which one a step uses: the one the pipeline names, else the
//! cheaper by credits (ties: the faster). Only v8 offers Bulk Write; steps with line items
//! always use records.

use zcrm_client::bulk::MAX_BULK_ROWS;
use zcrm_client::{CallKind, CrmApi, Dialect};
use zcrm_pipeline::Method;

/// Seconds one record-API write call takes, answer included (an estimate).
const SECS_PER_WRITE_CALL: f64 = 1.0;
/// Seconds a Bulk Write job spends besides its rows: upload, queue, download (an estimate).
const SECS_PER_JOB: f64 = 30.0;
/// Rows a Bulk Write job processes per second (an estimate).
const BULK_ROWS_PER_SEC: f64 = 500.0;

/// The two ways of writing a step, side by side.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodChoice {
    /// The way the step is written.
    pub method: Method,
    /// Credits (calls on XML) through the record API.
    pub records_cost: u64,
    /// Estimated seconds through the record API.
    pub records_secs: u64,
    /// Bulk Write jobs (none when Bulk Write is not offered).
    pub jobs: u64,
    /// Credits through Bulk Write (`None`: not offered).
    pub bulk_cost: Option<u64>,
    /// Estimated seconds through Bulk Write.
    pub bulk_secs: u64,
    /// Why, in words ("bulk: 4 jobs = 2,012 credits vs records: 10,000 credits").
    pub why: String,
}

/// `n` with thousands separators.
pub(crate) fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// How step rows are written: `rows` valid rows to send, `batch` rows per record-API call,
/// `in_flight` record calls at once, `fixed` the pipeline's `method`, `line_items` whether the
/// step sends line items, `open_jobs` whether the journal has Bulk Write jobs to finish.
pub fn choose(
    client: &dyn CrmApi,
    rows: u64,
    batch: u32,
    in_flight: u32,
    fixed: Option<Method>,
    line_items: bool,
    open_jobs: bool,
) -> MethodChoice {
    let batch = u64::from(batch.max(1));
    let payloads = rows.div_ceil(batch);
    let write = |n: u64| {
        u64::from(client.cost(CallKind::Write { rows: u32::try_from(n).unwrap_or(u32::MAX) }))
    };
    let last = rows - rows.saturating_sub(1) / batch * batch;
    let records_cost = match payloads {
        0 => 0,
        n => (n - 1) * write(batch) + write(last),
    };
    let records_secs =
        (payloads as f64 * SECS_PER_WRITE_CALL / f64::from(in_flight.max(1))).ceil() as u64;
    let offered = client.dialect() == Dialect::V8 && !line_items;
    let jobs = rows.div_ceil(MAX_BULK_ROWS as u64);
    // Each job: its creation, one upload, at least one status poll and one download.
    let per_job = u64::from(client.cost(CallKind::BulkJob))
        + u64::from(client.cost(CallKind::BulkUpload))
        + 2 * u64::from(client.cost(CallKind::BulkStatus));
    let bulk_cost = offered.then_some(jobs * per_job);
    let bulk_secs = (jobs as f64 * SECS_PER_JOB + rows as f64 / BULK_ROWS_PER_SEC).ceil() as u64;
    let records_words = format!("records: {} credits", thousands(records_cost));
    let bulk_words = |c: u64| {
        format!("bulk: {} job{} = {} credits", jobs, if jobs == 1 { "" } else { "s" }, thousands(c))
    };
    let (method, why) = match (fixed, bulk_cost) {
        (_, _) if open_jobs && offered => {
            (Method::Bulk, "bulk: the journal has Bulk Write jobs to finish".to_owned())
        }
        (Some(Method::Records), Some(c)) => {
            (Method::Records, format!("method = \"records\" ({records_words}; {})", bulk_words(c)))
        }
        (Some(Method::Bulk), Some(c)) => {
            (Method::Bulk, format!("method = \"bulk\" ({}; {records_words})", bulk_words(c)))
        }
        (_, None) => (
            Method::Records,
            if line_items && client.dialect() == Dialect::V8 {
                "records: line items go through the record API".to_owned()
            } else {
                "records: the only way on this API".to_owned()
            },
        ),
        (None, Some(_)) if rows == 0 => (Method::Records, "records: nothing to send".to_owned()),
        (None, Some(c)) => {
            let bulk = c < records_cost || (c == records_cost && bulk_secs < records_secs);
            if bulk {
                (Method::Bulk, format!("{} vs {records_words}", bulk_words(c)))
            } else {
                (Method::Records, format!("{records_words} vs {}", bulk_words(c)))
            }
        }
    };
    MethodChoice { method, records_cost, records_secs, jobs, bulk_cost, bulk_secs, why }
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(2_500_000), "2,500,000");
    }
}
