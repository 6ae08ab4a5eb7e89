//! In-doubt payloads: a write that was sent but whose answer was lost. Before anything else is
//! sent, zcrm reads what was created or modified since the payload left and records the Ids of
//! the rows that made it; the others are sent again. Updates and duplicate-checked upserts are
//! idempotent, so their rows are simply sent again.

use std::collections::HashMap;

use zcrm_client::Client;
use zcrm_protocol::params::{ApiVersion, ReadParams, SelectColumns, Sort, Window};
use zcrm_protocol::value::{format_datetime, parse_datetime};
use zcrm_protocol::{Direction, ModuleFields, RecordId, decode_xml_data};

use crate::error::BatchError;
use crate::fingerprint;
use crate::journal::{InFlight, Journal, RowOutcome};
use crate::row::Action;

/// How far before `sent_at` to look (clock differences between this machine and the CRM).
pub const MARGIN_SECS: i64 = 600;

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

/// Reconciles one in-flight payload of `step` in `module`.
pub fn reconcile(
    client: &Client,
    journal: &mut Journal,
    step: &str,
    module: &str,
    fields: &ModuleFields,
    payload: &InFlight,
) -> Result<Reconciled, BatchError> {
    let mut result = Reconciled::default();
    if !payload.insert || payload.xml_data.is_empty() {
        let outcome: Vec<RowOutcome> =
            payload.rows.iter().map(|(_, row)| RowOutcome::NotApplied { row: *row }).collect();
        result.resend = outcome.len() as u64;
        journal.complete_payload(step, payload.seq, &outcome, "reconciled: idempotent, resent")?;
        return Ok(result);
    }
    let doc = decode_xml_data(&payload.xml_data)
        .map_err(|e| BatchError::Journal(format!("stored xmlData: {e}")))?;
    let mut labels: Vec<String> = Vec::new();
    for r in &doc.rows {
        for (l, _) in &r.fields {
            if !labels.contains(l) {
                labels.push(l.clone());
            }
        }
    }
    let id_field = module
        .parse::<zcrm_protocol::Module>()
        .map(|m| m.id_field().into_owned())
        .unwrap_or_default();
    let since = parse_datetime(&payload.sent_at)
        .ok()
        .and_then(|t| t.checked_sub(jiff::Span::new().seconds(MARGIN_SECS)).ok())
        .map(format_datetime);
    // Fingerprint → unclaimed record ids, from everything created or modified since.
    let mut candidates: HashMap<String, Vec<RecordId>> = HashMap::new();
    let mut page = 0;
    loop {
        let params = ReadParams {
            select: SelectColumns::fields(module, labels.iter().cloned()),
            window: Window::page(page),
            sort: Some(Sort::asc("Created Time")),
            last_modified: since.as_deref().and_then(|s| parse_datetime(s).ok()),
            version: ApiVersion::V2,
            ..ReadParams::default()
        };
        let (n, found) = client
            .get_records(module, &params, |p| {
                let rows: Vec<(Option<RecordId>, String)> = p
                    .rows()
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
                (p.len(), rows)
            })
            .map_err(BatchError::Client)?;
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
    let mut outcome = Vec::new();
    for (no, row) in &payload.rows {
        let Some(sent) = doc.rows.iter().find(|r| r.no == *no) else {
            outcome.push(RowOutcome::NotApplied { row: *row });
            continue;
        };
        let fp =
            fingerprint::of(fields, &labels, |l| sent.get(l).map(str::to_owned), Direction::Input);
        match candidates
            .get_mut(&fp)
            .and_then(|ids| if ids.is_empty() { None } else { Some(ids.remove(0)) })
        {
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
