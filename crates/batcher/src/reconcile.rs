//! In-doubt payloads: a write that was sent but whose answer was lost. Before anything else is
//! sent, zcrm reads what was created since the payload left and records the Ids of the rows
//! that made it; the others are sent again. Updates and duplicate-checked upserts are
//! idempotent, so their rows are simply sent again.
//!
//! A record is claimed for a row only when the payload can have created it: its creation time
//! (the CRM's clock) lies inside the call's window, from the moment the payload left (the
//! server's time, as its `Date` headers show it) to the moment its call ended (the failure's
//! answer, or the call deadline when the run was killed); every value the row sent is equal;
//! no other row of the step holds it; and no more such records exist than rows with those
//! values. A record that existed before the payload left, or was created after its call could
//! have ended, is never claimed; when the match is ambiguous the rows are sent again (a
//! possible duplicate is preferred to claiming someone else's record).

use std::collections::HashMap;

use jiff::civil::DateTime;
use tracing::warn;
use zcrm_client::CrmApi;
use zcrm_protocol::params::{ApiVersion, ReadParams, SelectColumns, Sort, Window};
use zcrm_protocol::value::parse_datetime;
use zcrm_protocol::{Direction, ModuleFields, RecordId};

use crate::error::BatchError;
use crate::fingerprint;
use crate::journal::{InFlight, Journal, RowOutcome, SentValues};
use crate::row::Action;

/// The slack added to the end of a call's window: the server stamps records with whole
/// seconds, and its clock is known only to the second through its `Date` headers.
pub const WINDOW_SLACK_SECS: i64 = 2;

/// What reconciliation found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Rows found in the CRM.
    pub found: u64,
    /// Rows that will be sent again.
    pub resend: u64,
    /// Read calls spent.
    pub reads: u64,
}

/// When the call of `payload` ended at the latest, in the org's civil time: `failed_at` (the
/// server's time when this run saw the call fail) or, for a payload left in flight by an
/// earlier run, the time it left plus the call deadline. `None` when `sent_at` does not parse.
pub fn call_end(
    payload: &InFlight,
    failed_at: Option<jiff::Timestamp>,
    deadline: std::time::Duration,
    tz: &jiff::tz::TimeZone,
) -> Option<DateTime> {
    let slack = jiff::SignedDuration::from_secs(WINDOW_SLACK_SECS);
    let end = match failed_at {
        Some(t) => t.checked_add(slack).ok()?,
        None => {
            let left = tz.to_timestamp(parse_datetime(&payload.sent_at).ok()?).ok()?;
            let deadline = jiff::SignedDuration::try_from(deadline).ok()?;
            left.checked_add(deadline).ok()?.checked_add(slack).ok()?
        }
    };
    Some(end.to_zoned_datetime(tz.clone()).datetime())
}

/// Reconciles one in-flight payload of `step` in `module` whose call ended by `until` (see
/// [`call_end`]; `None`: no end is known, only the start bounds the window).
pub fn reconcile(
    client: &dyn CrmApi,
    journal: &mut Journal,
    step: &str,
    module: &str,
    fields: &ModuleFields,
    payload: &InFlight,
    until: Option<DateTime>,
) -> Result<Reconciled, BatchError> {
    let mut result = Reconciled::default();
    if !payload.insert || payload.xml_data.is_empty() {
        let outcome: Vec<RowOutcome> =
            payload.rows.iter().map(|(_, row)| RowOutcome::NotApplied { row: *row }).collect();
        result.resend = outcome.len() as u64;
        journal.complete_payload(step, payload.seq, &outcome, "reconciled: idempotent, resent")?;
        return Ok(result);
    }
    let (labels, sent) = sent_fingerprints(client, step, fields, payload)?;
    let id_field = module
        .parse::<zcrm_protocol::Module>()
        .map(|m| m.id_field().into_owned())
        .unwrap_or_default();
    // Without the time the payload left there is no window, and nothing can be proved.
    let since = parse_datetime(&payload.sent_at).ok();
    let created = "Created Time";
    let in_window = |text: Option<&str>| {
        let Some(t) = text.and_then(|t| parse_datetime(t).ok()) else { return false };
        since.is_some_and(|s| t >= s) && until.is_none_or(|u| t <= u)
    };
    // Fingerprint → unclaimed record ids created inside the call's window.
    let mut candidates: HashMap<String, Vec<RecordId>> = HashMap::new();
    let mut page = 0;
    while since.is_some() {
        let params = ReadParams {
            select: SelectColumns::fields(module, labels.iter().cloned().chain([created.into()])),
            window: Window::page(page),
            sort: Some(Sort::asc(created)),
            last_modified: since,
            version: ApiVersion::V2,
            ..ReadParams::default()
        };
        let mut got = (0, Vec::new());
        client
            .read(module, &params, &mut |p| {
                let rows: Vec<(Option<RecordId>, String)> = p
                    .rows()
                    .filter(|r| in_window(r.text(created)))
                    .map(|r| {
                        (
                            r.id(&id_field),
                            fingerprint::of(
                                fields,
                                &labels,
                                |l| r.text(l).map(str::to_owned),
                                Direction::Output,
                            ),
                        )
                    })
                    .collect();
                got = (p.len(), rows);
            })
            .map_err(BatchError::Client)?;
        let (n, found) = got;
        result.reads += 1;
        for (id, fp) in found {
            if let Some(id) = id
                && !journal.id_claimed(id)?
            {
                candidates.entry(fp).or_default().push(id);
            }
        }
        if n < 200 {
            break;
        }
        page += 1;
    }
    // The sent rows' fingerprints, and how many rows share each: more candidates than rows
    // means someone else created the same values in the window too, and nothing tells which
    // records are this payload's.
    let mut rows_per_fp: HashMap<&str, usize> = HashMap::new();
    for fp in sent.iter().flatten() {
        *rows_per_fp.entry(fp).or_default() += 1;
    }
    let mut outcome = Vec::new();
    for ((_, row), fp) in payload.rows.iter().zip(&sent) {
        let claim = fp.as_deref().and_then(|fp| {
            let ids = candidates.get_mut(fp)?;
            if ids.len() > rows_per_fp.get(fp).copied().unwrap_or(0) {
                warn!(
                    step,
                    row,
                    candidates = ids.len(),
                    "records with this row's values were created by someone else while its payload was in doubt: none is claimed, the row is sent again"
                );
                return None;
            }
            if ids.is_empty() { None } else { Some(ids.remove(0)) }
        });
        match claim {
            Some(id) => {
                result.found += 1;
                outcome.push(RowOutcome::Done { row: *row, id, action: Action::Created });
            }
            None => {
                result.resend += 1;
                outcome.push(RowOutcome::NotApplied { row: *row });
            }
        }
    }
    journal.complete_payload(
        step,
        payload.seq,
        &outcome,
        &format!("reconciled: {} found, {} to resend", result.found, result.resend),
    )?;
    Ok(result)
}

/// The labels a payload sent (in the order first seen) and each row's fingerprint over them
/// (in the order of `payload.rows`; `None` for a row the payload does not hold). From the
/// values the journal kept for each row when it has them; else (journals written before
/// they were kept) from the payload's text, read back through the dialect.
fn sent_fingerprints(
    client: &dyn CrmApi,
    step: &str,
    fields: &ModuleFields,
    payload: &InFlight,
) -> Result<(Vec<String>, Vec<Option<String>>), BatchError> {
    let kept: Option<Vec<&SentValues>> = (payload.sent.len() == payload.rows.len())
        .then(|| payload.sent.iter().map(Option::as_ref).collect())
        .flatten();
    if let Some(rows) = kept {
        let mut labels: Vec<String> = Vec::new();
        for (l, _) in rows.iter().flat_map(|r| r.iter()) {
            if !labels.contains(l) {
                labels.push(l.clone());
            }
        }
        let fps = rows
            .iter()
            .map(|r| {
                let get = |l: &str| r.iter().find(|(k, _)| k == l).map(|(_, v)| v.clone());
                Some(fingerprint::of_canonical(&labels, get))
            })
            .collect();
        return Ok((labels, fps));
    }
    let doc = client.decode_payload(&payload.xml_data).map_err(|source| {
        BatchError::StoredPayload { step: step.to_owned(), seq: payload.seq, source }
    })?;
    let mut labels: Vec<String> = Vec::new();
    for r in &doc.rows {
        for (l, _) in &r.fields {
            if !labels.contains(l) {
                labels.push(l.clone());
            }
        }
    }
    let fps = payload
        .rows
        .iter()
        .map(|(no, _)| {
            let r = doc.rows.iter().find(|r| r.no == *no)?;
            Some(fingerprint::of(
                fields,
                &labels,
                |l| r.get(l).map(str::to_owned),
                Direction::Input,
            ))
        })
        .collect();
    Ok((labels, fps))
}
