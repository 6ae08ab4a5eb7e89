//! `zcrm plan PIPELINE.toml`: rows, payloads and calls per step, the day's budget and share,
//! and the days the pipeline needs. It sends no write call.

use anyhow::Result;
use zcrm_batcher::plan::{StepPlan, schedule};
use zcrm_batcher::{ImportStep as BatchStep, Journal, MatchStrategy, Mode};
use zcrm_client::MetadataCache;
use zcrm_pipeline::Step;
use zcrm_protocol::limits::MAX_READ_ROWS;
use zcrm_protocol::params::{ReadParams, SelectColumns, Window};

use crate::cmd::run::{Compiled, compile, journal_path};
use crate::connection::consumer;

/// Runs the command; returns the plan to print.
pub fn run(path: &std::path::Path) -> Result<String> {
    let p = zcrm_pipeline::load_checked(path, crate::connection::metadata_for)?;
    let conn = zcrm_connect::connect(&p.connection, &p.state_dir, &consumer(&p))?;
    let client = &conn.client;
    let org = p.connection.org()?;
    let cache = MetadataCache::new(&p.state_dir, &org);
    let journal = Journal::open(&journal_path(&p))?;
    let import_names: Vec<String> = p.imports().map(|s| s.name.clone()).collect();
    let batch = p.connection.write_batch;
    let mut out = format!("plan for {} ({} rows per write call)\n\n", path.display(), batch);
    out.push_str("step              rows   valid  done  to send  payloads  reads  calls  how\n");
    let mut total = 0u64;
    for step in &p.steps {
        match step {
            Step::Import(s) => {
                let metadata = u64::from(cache.cached(&s.module).is_none());
                let Compiled { fields, reader, mapper, .. } =
                    compile(&p, s, client, &cache, &import_names)?;
                let (mut rows, mut valid) = (0u64, 0u64);
                let known = journal.known_rows(&s.name)?;
                let mut to_send = 0u64;
                zcrm_mapping::map_blocks(
                    reader.blocks(),
                    &mapper,
                    true,
                    |c| -> Result<(), zcrm_readers::ReadError> {
                        rows += c.rows_read as u64;
                        valid += c.valid as u64;
                        to_send +=
                            c.rows.iter().filter(|r| !known.contains(&r.pos.row)).count() as u64;
                        Ok(())
                    },
                )?;
                let mode = match s.mode {
                    zcrm_pipeline::Mode::Insert => Mode::Insert,
                    zcrm_pipeline::Mode::Update => Mode::Update { match_on: s.match_on.clone() },
                    zcrm_pipeline::Mode::Upsert => {
                        Mode::Upsert { match_on: s.match_on.clone().unwrap_or_default() }
                    }
                };
                let bs = BatchStep {
                    name: s.name.clone(),
                    module: s.module.clone(),
                    mode,
                    write_batch: batch,
                    in_flight: p.connection.writes_in_flight,
                    fields,
                    timezone: zcrm_client::budget::timezone(&p.connection.timezone)?,
                };
                let in_flight = journal.in_flight(&s.name)?.len() as u64;
                let (reads, how) = match bs.strategy() {
                    MatchStrategy::None => (in_flight, "insert".to_owned()),
                    MatchStrategy::DuplicateCheck => (
                        in_flight,
                        format!(
                            "upsert with duplicateCheck=2 on {:?}: no reads",
                            s.match_on.clone().unwrap_or_default()
                        ),
                    ),
                    MatchStrategy::Index if to_send == 0 => {
                        (in_flight, "upsert: nothing to send".to_owned())
                    }
                    MatchStrategy::Index => {
                        let existing = count_records(client, &s.module)?;
                        let index = existing.div_ceil(u64::from(MAX_READ_ROWS)).max(1);
                        (
                            index + in_flight,
                            format!(
                                "upsert: index of {existing} existing records = {index} read(s), vs {to_send} searches one row at a time"
                            ),
                        )
                    }
                };
                let plan = StepPlan::new(to_send, batch, reads, metadata);
                total += plan.calls();
                out.push_str(&format!(
                    "{:<16} {:>6}  {:>6}  {:>4}  {:>7}  {:>8}  {:>5}  {:>5}  {how}\n",
                    s.name,
                    rows,
                    valid,
                    known.len(),
                    to_send,
                    plan.payloads,
                    plan.reads,
                    plan.calls()
                ));
            }
            Step::Export(e) => {
                out.push_str(&format!(
                    "{:<16} export {} → {}: 1 call per 200 records, +1 for records deleted meanwhile when more than 200 (+1 metadata if not cached)\n",
                    e.name,
                    e.module,
                    e.to.display()
                ));
            }
        }
    }
    let status = client.ledger().status()?;
    out.push_str(&format!(
        "\nimport calls: {total}; daily budget {} (share limit {}), spent today {}, left today {}\n",
        status.budget, status.share_limit, status.spent_by_consumer, status.remaining
    ));
    let today: jiff::civil::Date = status.day.parse()?;
    let days = schedule(total, u64::from(status.remaining), u64::from(status.share_limit), today);
    out.push_str(&format!("days needed: {}\n", days.len().max(1)));
    for (day, calls) in days {
        out.push_str(&format!("  {day}: {calls} call(s)\n"));
    }
    Ok(out)
}

/// Counts the module's records by paging ids only (one read per 200 records).
fn count_records(client: &zcrm_client::Client, module: &str) -> Result<u64> {
    let id_field = module
        .parse::<zcrm_protocol::Module>()
        .map(|m| m.id_field().into_owned())
        .unwrap_or_default();
    let mut n = 0u64;
    let mut page = 0;
    loop {
        let params = ReadParams {
            select: SelectColumns::fields(module, [id_field.clone()]),
            window: Window::page(page),
            ..ReadParams::default()
        };
        let got = client.get_records(module, &params, |p| p.len())?;
        n += got as u64;
        if got < MAX_READ_ROWS as usize {
            return Ok(n);
        }
        page += 1;
    }
}
