//! An export's attachments: for every record the export writes, its attachments listed and
//! each file downloaded into `DIR/<record id>/<attachment id>-<safe file name>`, with a manifest
//! `DIR/attachments.csv` of the records of this run.
//!
//! The export hands each record it writes to a bounded queue as its page is handed on; plain
//! worker threads (as many as the export's reads in flight) list a record's attachments and
//! download its files one after the other. Every call of a worker, like every page of records,
//! first takes one of the export's slots ([`gate::Slots`]), so the export never has more calls
//! in flight than `reads_in_flight`. A file is written under a temporary name beside its final
//! one and renamed when complete: a file present under its final name is complete, and a
//! rerun (after a kill or a failure) lists the record again but does not download it again.
//! Link attachments have no content: they are rows of the manifest only. An attachment deleted
//! between the listing and its download is skipped with a warning and a manifest row; any
//! other failure stops the export, naming the record and the attachment, before its files and
//! watermark are committed.

mod gate;
pub mod names;

use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tracing::warn;
use zcrm_client::{AttachmentFile, CallKind, ClientError, CrmApi};
use zcrm_protocol::RecordId;
use zcrm_protocol::formula_guard::guard;

use crate::ExportError;
use crate::atomic::AtomicFile;
pub(crate) use gate::{Slot, Slots};

/// The manifest's name in the attachments folder.
pub const MANIFEST: &str = "attachments.csv";

/// The manifest's columns.
const HEADER: [&str; 7] =
    ["record_id", "attachment_id", "file_name", "bytes", "path", "link_url", "status"];

/// Fresh starts of one download cut short.
const DOWNLOAD_TRIES: u32 = 3;

/// What the attachments of an export did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttachmentsSummary {
    /// The folder.
    pub dir: PathBuf,
    /// The manifest written.
    pub manifest: PathBuf,
    /// Records whose attachments were listed.
    pub records: u64,
    /// Listing calls made.
    pub listing_calls: u64,
    /// Files downloaded in this run.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Files already present under their final name (an earlier run downloaded them).
    pub present: u64,
    /// Link attachments (no content: manifest rows only).
    pub links: u64,
    /// Attachments deleted between their listing and their download (skipped).
    pub gone: u64,
    /// Download calls made.
    pub download_calls: u64,
    /// What the listings and downloads cost, in the dialect's unit (credits on v8).
    pub cost: u64,
}

/// The open manifest.
struct Manifest {
    file: AtomicFile,
    csv: csv::Writer<BufWriter<std::fs::File>>,
}

/// The attachments of one export: the queue, the workers' shared state, the manifest.
pub(crate) struct Downloads<'a> {
    client: &'a dyn CrmApi,
    module: &'a str,
    dir: &'a Path,
    queue: gate::Queue,
    pub(crate) slots: Slots,
    manifest: Mutex<Option<Manifest>>,
    totals: Mutex<AttachmentsSummary>,
    failure: Mutex<Option<ExportError>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<'a> Downloads<'a> {
    /// Opens the manifest (under a temporary name) in `dir`; `in_flight` calls at once.
    pub(crate) fn new(
        client: &'a dyn CrmApi,
        module: &'a str,
        dir: &'a Path,
        in_flight: u32,
    ) -> Result<Self, ExportError> {
        let (file, f) = AtomicFile::create(&dir.join(MANIFEST))?;
        let mut csv = csv::WriterBuilder::new().from_writer(BufWriter::new(f));
        csv.write_record(HEADER).map_err(|e| ExportError::io(file.dest(), e))?;
        Ok(Self {
            client,
            module,
            dir,
            queue: gate::Queue::new(in_flight as usize * 64),
            slots: Slots::new(in_flight),
            manifest: Mutex::new(Some(Manifest { file, csv })),
            totals: Mutex::new(AttachmentsSummary {
                dir: dir.to_owned(),
                manifest: dir.join(MANIFEST),
                ..AttachmentsSummary::default()
            }),
            failure: Mutex::new(None),
        })
    }

    /// A slot for one call of the export's own (a page of records).
    pub(crate) fn slot(&self) -> Slot<'_> {
        self.slots.acquire()
    }

    /// Hands record `id` (written by this run) to the workers, waiting while they lag; the
    /// workers' failure when one failed.
    pub(crate) fn push(&self, id: u64) -> Result<(), ExportError> {
        if self.queue.push(id) { Ok(()) } else { Err(self.take_failure()) }
    }

    fn take_failure(&self) -> ExportError {
        lock(&self.failure).take().unwrap_or_else(|| {
            ExportError::Usage("the attachment downloads stopped after a failure".into())
        })
    }

    /// One worker: records from the queue until it is closed and empty, or a worker failed.
    pub(crate) fn work(&self) {
        while let Some(id) = self.queue.pop() {
            let outcome = self.record(RecordId(id));
            if let Err(e) = &outcome {
                let mut f = lock(&self.failure);
                if f.is_none() {
                    *f = outcome.err();
                } else {
                    warn!(record = id, error = %e, "another attachment failed too");
                }
            }
            let failed = lock(&self.failure).is_some();
            self.queue.done(failed);
        }
    }

    /// Stops the workers without waiting for what is queued (the export failed).
    pub(crate) fn abort(&self) {
        self.queue.close(true);
    }

    /// Waits until every record handed on is done; the first failure, if any.
    pub(crate) fn drain(&self) -> Result<(), ExportError> {
        self.queue.drain();
        match lock(&self.failure).take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Commits the manifest (after [`Downloads::drain`]); what was done.
    pub(crate) fn finish(&self) -> Result<AttachmentsSummary, ExportError> {
        if let Some(Manifest { file, csv }) = lock(&self.manifest).take() {
            let dest = file.dest().to_owned();
            let w = csv.into_inner().map_err(|e| ExportError::io(&dest, e.into_error()))?;
            let f = w.into_inner().map_err(|e| ExportError::io(&dest, e.into_error()))?;
            file.commit(f)?;
        }
        let mut t = lock(&self.totals).clone();
        t.cost = t.listing_calls * u64::from(self.client.cost(CallKind::Related))
            + t.download_calls * u64::from(self.client.cost(CallKind::File));
        Ok(t)
    }

    /// Lists record `id`'s attachments and takes each.
    fn record(&self, id: RecordId) -> Result<(), ExportError> {
        let mut files: Vec<AttachmentFile> = Vec::new();
        let calls = {
            let _slot = self.slots.acquire();
            self.client.attachment_pages(self.module, id, &mut |page| {
                files.extend_from_slice(page);
                std::ops::ControlFlow::Continue(())
            })
        }
        .map_err(|e| ExportError::Attachment {
            record: id.0,
            attachment: None,
            source: Box::new(e),
        })?;
        let Some(calls) = calls else {
            return Err(ExportError::Usage(format!(
                "the {:?} dialect cannot list a record's attachments",
                self.client.dialect()
            )));
        };
        {
            let mut t = lock(&self.totals);
            t.records += 1;
            t.listing_calls += u64::from(calls);
        }
        for f in &files {
            self.file(id, f)?;
        }
        Ok(())
    }

    /// Takes one attachment: a manifest row for a link, nothing more for a file already
    /// present, else its download.
    fn file(&self, record: RecordId, f: &AttachmentFile) -> Result<(), ExportError> {
        if let Some(url) = &f.link_url {
            lock(&self.totals).links += 1;
            return self.row(record, f, None, "", url, "link");
        }
        let name = format!("{}-{}", f.id, names::safe_file_name(&f.file_name));
        let rel = format!("{record}/{name}");
        let dest = self.dir.join(record.to_string()).join(&name);
        if let Ok(m) = std::fs::metadata(&dest)
            && m.is_file()
        {
            lock(&self.totals).present += 1;
            return self.row(record, f, Some(m.len()), &rel, "", "present");
        }
        let failed = |e| ExportError::Attachment {
            record: record.0,
            attachment: Some(f.id.0),
            source: Box::new(e),
        };
        for attempt in 1..=DOWNLOAD_TRIES {
            let (tmp, file) = AtomicFile::create(&dest)?;
            let mut w = BufWriter::with_capacity(256 * 1024, file);
            let got = {
                let _slot = self.slots.acquire();
                self.client.download_attachment(self.module, record, f.id, &mut w)
            };
            lock(&self.totals).download_calls += 1;
            match got {
                Ok(Some(n)) => {
                    let file =
                        w.into_inner().map_err(|e| ExportError::io(&dest, e.into_error()))?;
                    tmp.commit(file)?;
                    {
                        let mut t = lock(&self.totals);
                        t.files += 1;
                        t.bytes += n;
                    }
                    return self.row(record, f, Some(n), &rel, "", "downloaded");
                }
                Ok(None) => {
                    warn!(
                        record = record.0,
                        attachment = f.id.0,
                        "the attachment was deleted before it could be downloaded; skipped"
                    );
                    lock(&self.totals).gone += 1;
                    return self.row(record, f, None, "", "", "deleted before download");
                }
                Err(ClientError::Transport { .. }) if attempt < DOWNLOAD_TRIES => {
                    warn!(record = record.0, attachment = f.id.0, attempt, "downloading again");
                }
                Err(e) => return Err(failed(e)),
            }
        }
        Err(ExportError::Usage(format!("attachment {} of record {record}: no download", f.id)))
    }

    /// A manifest row (text cells guarded against spreadsheet formulas).
    fn row(
        &self,
        record: RecordId,
        f: &AttachmentFile,
        bytes: Option<u64>,
        path: &str,
        link: &str,
        status: &str,
    ) -> Result<(), ExportError> {
        let mut m = lock(&self.manifest);
        let Some(m) = m.as_mut() else { return Ok(()) };
        let bytes = bytes.map(|b| b.to_string()).unwrap_or_default();
        let (record, id) = (record.to_string(), f.id.to_string());
        let row = [
            record.as_str(),
            id.as_str(),
            &guard(&f.file_name),
            bytes.as_str(),
            path,
            &guard(link),
            status,
        ];
        m.csv.write_record(row).map_err(|e| ExportError::io(m.file.dest(), e))
    }
}

/// Runs `body` with the attachments of `dir` downloaded alongside (`in_flight` workers). The
/// body drains them ([`Downloads::drain`]) and commits the manifest ([`Downloads::finish`])
/// before it commits its own files; the workers are stopped when it returns, whatever happened.
pub(crate) fn with_downloads<T>(
    client: &dyn CrmApi,
    module: &str,
    dir: &Path,
    in_flight: u32,
    body: impl FnOnce(&Downloads<'_>) -> Result<T, ExportError>,
) -> Result<T, ExportError> {
    let downloads = Downloads::new(client, module, dir, in_flight)?;
    std::thread::scope(|s| {
        for _ in 0..in_flight.max(1) {
            s.spawn(|| downloads.work());
        }
        let out = body(&downloads);
        // Drained already when the body succeeded.
        downloads.abort();
        out
    })
}
