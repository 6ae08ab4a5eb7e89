//! A Bulk Write job's result file: a ZIP holding one CSV with the job's first columns plus
//! `STATUS`, `RECORD_ID` and `ERRORS`, one row per input row in input order. Read row by row
//! from the ZIP (never whole), and turned into the outcome of each row.

use std::fs::File;
use std::path::Path;

use zcrm_protocol::RecordId;

use crate::error::BatchError;
use crate::row::Action;

/// What the result says of one input row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowResult {
    /// In the CRM: created, updated, or matched (skipped as an existing record).
    Done {
        /// The record.
        id: RecordId,
        /// What happened.
        action: Action,
    },
    /// Refused: the first error's code and the whole `ERRORS` text.
    Refused {
        /// The first error's code (`MANDATORY_NOT_FOUND`).
        code: String,
        /// The server's `ERRORS` text (`MANDATORY_NOT_FOUND-Company,Last_Name:DUPLICATE_DATA-Email`).
        errors: String,
    },
    /// Not processed (no status, no record, no error): the row was not written.
    NotProcessed,
}

/// One result row's `STATUS`, `RECORD_ID` and `ERRORS` as the outcome of its input row.
pub fn interpret(status: &str, record_id: &str, errors: &str) -> RowResult {
    let errors = errors.trim();
    let id = record_id.trim().parse::<u64>().ok().map(RecordId);
    let status = status.trim().to_ascii_uppercase();
    let written = matches!(status.as_str(), "ADDED" | "UPDATED") && id.is_some();
    if !errors.is_empty() && !written {
        let code = errors.split(['-', ':']).next().unwrap_or(errors).trim().to_owned();
        return RowResult::Refused { code, errors: errors.to_owned() };
    }
    match (status.as_str(), id) {
        ("ADDED" | "CREATED", Some(id)) => RowResult::Done { id, action: Action::Created },
        ("UPDATED", Some(id)) => RowResult::Done { id, action: Action::Updated },
        ("SKIPPED", Some(id)) => RowResult::Done { id, action: Action::Matched },
        ("SKIPPED" | "FAILED" | "ERROR", None) => RowResult::Refused {
            code: if status == "SKIPPED" { "SKIPPED".into() } else { status.clone() },
            errors: format!("{status} by the Bulk Write job (no reason given)"),
        },
        _ => RowResult::NotProcessed,
    }
}

fn bad(path: &Path, what: impl std::fmt::Display) -> BatchError {
    BatchError::BulkFile {
        path: path.to_owned(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string()),
    }
}

/// Reads the result ZIP at `path`, handing each row's outcome to `row` with its index in the
/// input (0-based); the number of rows read. A ZIP cut short, without a CSV, or without a
/// `STATUS` column is an error (nothing of it should be believed).
pub fn read_results(
    path: &Path,
    row: &mut dyn FnMut(usize, RowResult) -> Result<(), BatchError>,
) -> Result<usize, BatchError> {
    let file = File::open(path)
        .map_err(|source| BatchError::BulkFile { path: path.to_owned(), source })?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| bad(path, e))?;
    let index = (0..zip.len())
        .find(|&i| {
            zip.name_for_index(i)
                .is_some_and(|n| n.is_ok_and(|n| n.to_ascii_lowercase().ends_with(".csv")))
        })
        .ok_or_else(|| bad(path, "the result ZIP holds no CSV"))?;
    let entry = zip.by_index(index).map_err(|e| bad(path, e))?;
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(entry);
    let headers = csv.headers().map_err(|e| bad(path, e))?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
    let status = col("STATUS").ok_or_else(|| bad(path, "the result CSV has no STATUS column"))?;
    let (id, errors) = (col("RECORD_ID"), col("ERRORS"));
    let mut rec = csv::StringRecord::new();
    let mut n = 0;
    while csv.read_record(&mut rec).map_err(|e| bad(path, e))? {
        let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("");
        row(n, interpret(get(Some(status)), get(id), get(errors)))?;
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use std::io::Write;

    fn zip_of(path: &Path, csv: &str) {
        let mut z = zip::ZipWriter::new(File::create(path).unwrap());
        z.start_file("Leads-1.csv", zip::write::SimpleFileOptions::default()).unwrap();
        z.write_all(csv.as_bytes()).unwrap();
        z.finish().unwrap();
    }

    #[test]
    fn statuses_record_ids_and_errors_become_outcomes() {
        assert_eq!(
            interpret("ADDED", "111", ""),
            RowResult::Done { id: RecordId(111), action: Action::Created }
        );
        assert_eq!(
            interpret("UPDATED", "112", ""),
            RowResult::Done { id: RecordId(112), action: Action::Updated }
        );
        assert_eq!(
            interpret("SKIPPED", "113", ""),
            RowResult::Done { id: RecordId(113), action: Action::Matched }
        );
        assert_eq!(
            interpret("SKIPPED", "", "MANDATORY_NOT_FOUND-Company,Last_Name:DUPLICATE_DATA-Email"),
            RowResult::Refused {
                code: "MANDATORY_NOT_FOUND".into(),
                errors: "MANDATORY_NOT_FOUND-Company,Last_Name:DUPLICATE_DATA-Email".into()
            }
        );
        assert_eq!(interpret("", "", ""), RowResult::NotProcessed);
        assert_eq!(interpret("unprocessed", "", ""), RowResult::NotProcessed);
    }

    #[test]
    fn the_result_csv_is_read_row_by_row_in_input_order() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.zip");
        zip_of(
            &p,
            "Last_Name,Email,Company,STATUS,RECORD_ID,ERRORS\r\n\
             A,a@x.com,X,ADDED,5001,\r\n\
             ,b@x.com,Y,SKIPPED,,MANDATORY_NOT_FOUND-Last_Name\r\n\
             C,\"c,@x.com\",Z,UPDATED,5003,\r\n",
        );
        let mut got = Vec::new();
        let n = read_results(&p, &mut |i, r| {
            got.push((i, r));
            Ok(())
        })
        .unwrap();
        assert_eq!(n, 3);
        assert_eq!(got[0], (0, RowResult::Done { id: RecordId(5001), action: Action::Created }));
        assert!(
            matches!(&got[1], (1, RowResult::Refused { code, .. }) if code == "MANDATORY_NOT_FOUND")
        );
        assert_eq!(got[2], (2, RowResult::Done { id: RecordId(5003), action: Action::Updated }));
    }

    #[test]
    fn a_result_cut_short_or_without_status_is_not_believed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.zip");
        zip_of(&p, "Last_Name,STATUS,RECORD_ID,ERRORS\r\nA,ADDED,1,\r\n");
        let whole = std::fs::read(&p).unwrap();
        std::fs::write(&p, &whole[..whole.len() / 2]).unwrap();
        assert!(read_results(&p, &mut |_, _| Ok(())).is_err());
        zip_of(&p, "Last_Name,RECORD_ID\r\nA,1\r\n");
        assert!(read_results(&p, &mut |_, _| Ok(())).is_err());
    }
}
