//! Exports that also download each exported record's attachments (`attachments = "DIR"`,
//! `zcrm export --attachments DIR`): on v8 the files land byte for byte under
//! `DIR/<record>/<attachment>-<safe name>` with a manifest, a rerun downloads nothing again;
//! on XML the step is refused before any call.

use std::collections::BTreeMap;
use std::path::Path;

use zcrm_client::FilePart;
use zcrm_emulator::EmulatorHandle;
use zcrm_protocol::request::Request;
use zcrm_protocol::response::misc::UploadResult;
use zcrm_protocol::{RecordId, RowOutcome, WriteResponse, XmlDataBuilder};

use crate::crm::check_client;
use crate::v8::{credits, emulator, pipeline, workdir};

/// Creates leads named `names` through the XML face; their ids in order.
fn leads(emu: &EmulatorHandle, names: &[&str]) -> Vec<RecordId> {
    let mut x = XmlDataBuilder::new("Leads", names.len() as u32);
    for n in names {
        x.push_row([("Last Name", *n), ("Company", "Acme")]).unwrap();
    }
    let params = zcrm_protocol::params::WriteParams::multi_row();
    match check_client(emu).insert_records("Leads", x.finish().unwrap(), &params).unwrap() {
        WriteResponse::Rows(rows) => rows
            .iter()
            .map(|r| match &r.outcome {
                RowOutcome::Added(d) => d.id,
                other => panic!("{other:?}"),
            })
            .collect(),
        WriteResponse::Single { details, .. } => details.iter().map(|d| d.id).collect(),
    }
}

/// Attaches `bytes` as `name` to lead `id`; the attachment's id.
fn attach(emu: &EmulatorHandle, id: RecordId, name: &str, bytes: &[u8]) -> RecordId {
    let file = FilePart { file_name: name, bytes: bytes.to_vec() };
    check_client(emu).upload_file("Leads", id, &file).unwrap().detail.id
}

/// Attaches a link to lead `id`; the attachment's id.
fn attach_link(emu: &EmulatorHandle, id: RecordId, url: &str) -> RecordId {
    let req = Request::upload_file("Leads", id, Some(url));
    check_client(emu).call(&req, None, UploadResult::decode).unwrap().detail.id
}

/// The manifest's rows by attachment id.
fn manifest(path: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().clone();
    assert_eq!(
        header.iter().collect::<Vec<_>>(),
        ["record_id", "attachment_id", "file_name", "bytes", "path", "link_url", "status"]
    );
    r.records()
        .map(|row| {
            let row = row.unwrap();
            let m: BTreeMap<String, String> =
                header.iter().zip(row.iter()).map(|(h, v)| (h.to_owned(), v.to_owned())).collect();
            (m["attachment_id"].clone(), m)
        })
        .collect()
}

const STEP: &str = "[[steps]]\nname = \"leads\"\nexport = \"Leads\"\nto = \"out/leads.csv\"\nattachments = \"out/files\"\n";

#[test]
fn a_v8_export_downloads_every_records_files_once_and_lists_links() {
    let mut w = workdir();
    let emu = emulator(w.path(), |c| c);
    let ids = leads(&emu, &["None", "One", "Two", "Link"]);
    let pdf: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    let a1 = attach(&emu, ids[1], "report.pdf", &pdf);
    let a2 = attach(&emu, ids[2], "../../escape.txt", b"not outside");
    let a3 = attach(&emu, ids[2], "dir/sub|name.txt", b"second");
    let link = attach_link(&emu, ids[3], "https://example.com/spec.pdf");

    let p = pipeline(&w, &emu, "v8", "", STEP);
    let plan = w.expect(&["plan", &p], 0);
    assert!(plan.contains("1 listing call per exported record"), "{plan}");
    assert!(plan.contains("plus 1 download per file"), "{plan}");

    let (before, _) = credits(&emu);
    let out = w.expect(&["run", &p], 0);
    let first = credits(&emu).0 - before;
    assert!(out.contains("3 file(s) downloaded"), "{out}");

    let dir = w.path().join("out/files");
    let file = |rec: RecordId, name: &str| dir.join(rec.to_string()).join(name);
    assert_eq!(std::fs::read(file(ids[1], &format!("{a1}-report.pdf"))).unwrap(), pdf);
    assert_eq!(
        std::fs::read(file(ids[2], &format!("{a2}-.__.__escape.txt"))).unwrap(),
        b"not outside"
    );
    assert_eq!(std::fs::read(file(ids[2], &format!("{a3}-dir_sub_name.txt"))).unwrap(), b"second");
    // No folder for a record without files; nothing but the files and the manifest.
    assert!(!dir.join(ids[0].to_string()).exists());
    assert!(!dir.join(ids[3].to_string()).exists());
    let mut entries: Vec<String> = walk(&dir);
    entries.sort();
    let mut want = vec![
        "attachments.csv".to_owned(),
        format!("{}/{a1}-report.pdf", ids[1]),
        format!("{}/{a2}-.__.__escape.txt", ids[2]),
        format!("{}/{a3}-dir_sub_name.txt", ids[2]),
    ];
    want.sort();
    assert_eq!(entries, want);

    let m = manifest(&dir.join("attachments.csv"));
    assert_eq!(m.len(), 4, "{m:?}");
    let row = &m[&a1.to_string()];
    assert_eq!(row["record_id"], ids[1].to_string());
    assert_eq!(row["file_name"], "report.pdf");
    assert_eq!(row["bytes"], pdf.len().to_string());
    assert_eq!(row["path"], format!("{}/{a1}-report.pdf", ids[1]));
    assert_eq!(row["status"], "downloaded");
    assert_eq!(m[&a2.to_string()]["file_name"], "../../escape.txt");
    assert_eq!(m[&a2.to_string()]["bytes"], "11");
    let l = &m[&link.to_string()];
    assert_eq!(
        (l["record_id"].as_str(), l["link_url"].as_str(), l["path"].as_str(), l["status"].as_str()),
        (ids[3].to_string().as_str(), "https://example.com/spec.pdf", "", "link")
    );

    // A rerun lists each record again (4 credits) and reads the page (1), downloads nothing.
    let before = credits(&emu).0;
    let out = w.expect(&["run", &p], 0);
    assert_eq!(credits(&emu).0 - before, 1 + 4, "{out}");
    assert!(out.contains("0 file(s) downloaded"), "{out}");
    assert!(out.contains("3 already there"), "{out}");
    assert_eq!(first, 1 + 1 + 4 + 3, "metadata, the page, 4 listings, 3 downloads");
    let m = manifest(&dir.join("attachments.csv"));
    assert_eq!(m[&a1.to_string()]["status"], "present");
    assert_eq!(m[&a1.to_string()]["bytes"], pdf.len().to_string());

    // A file removed (a run killed before it was renamed into place) is downloaded again,
    // and only it.
    std::fs::remove_file(file(ids[2], &format!("{a3}-dir_sub_name.txt"))).unwrap();
    let before = credits(&emu).0;
    let out = w.expect(&["run", &p], 0);
    assert_eq!(credits(&emu).0 - before, 1 + 4 + 1, "{out}");
    assert_eq!(std::fs::read(file(ids[2], &format!("{a3}-dir_sub_name.txt"))).unwrap(), b"second");

    // The same through `zcrm export --attachments`.
    w.env("ZCRM_URL", emu.url())
        .env("ZCRM_API", "v8")
        .env("ZCRM_CLIENT_ID", crate::v8::CLIENT_ID)
        .env("ZCRM_CLIENT_SECRET", crate::v8::CLIENT_SECRET)
        .env("ZCRM_REFRESH_TOKEN", crate::v8::REFRESH_TOKEN)
        .env("ZCRM_EDITION", "enterprise")
        .env("ZCRM_LICENSES", "10");
    let out =
        w.expect(&["export", "Leads", "--to", "cli/leads.csv", "--attachments", "cli/files"], 0);
    assert!(out.contains("3 file(s) downloaded"), "{out}");
    assert_eq!(
        std::fs::read(w.path().join(format!("cli/files/{}/{a1}-report.pdf", ids[1]))).unwrap(),
        pdf
    );
}

/// Every file under `dir`, relative, with `/`.
fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&e.path()).into_iter().map(|f| format!("{name}/{f}")));
        } else {
            out.push(name);
        }
    }
    out
}

#[test]
fn an_xml_pipeline_with_attachments_is_refused_before_any_call() {
    let mut w = workdir();
    let emu = emulator(w.path(), |c| c);
    let p = pipeline(&w, &emu, "xml", "", STEP);
    let calls = emu.calls_today();
    for cmd in ["run", "plan", "validate"] {
        let out = w.expect(&[cmd, &p], 2);
        assert!(
            out.contains("attachments needs api = \"v8\": the XML API has no call that lists a record's attachments"),
            "{cmd}: {out}"
        );
    }
    w.env("ZCRM_URL", emu.url())
        .env("ZCRM_AUTHTOKEN", crate::crm::TOKEN)
        .env("ZCRM_EDITION", "enterprise")
        .env("ZCRM_LICENSES", "10");
    let out = w.expect(&["export", "Leads", "--to", "x.csv", "--attachments", "files"], 2);
    assert!(out.contains("the XML API has no call that lists a record's attachments"), "{out}");
    assert_eq!(emu.calls_today(), calls, "nothing was sent");
    assert!(!w.path().join("files").exists());
}

/// An incremental export lists and downloads only for the records the run writes (those
/// changed since the last run); through Bulk Read the records it writes get their files too.
#[test]
fn an_incremental_run_and_a_bulk_read_download_for_the_records_they_write() {
    let w = workdir();
    let emu = emulator(w.path(), |mut c| {
        c.bulk_job_delay = std::time::Duration::ZERO;
        c
    });
    let ids = leads(&emu, &["Stays", "Changes"]);
    let a0 = attach(&emu, ids[0], "a.txt", b"first record");
    let a1 = attach(&emu, ids[1], "b.txt", b"second record");
    let step = "[[steps]]\nname = \"leads\"\nexport = \"Leads\"\nto = \"out/leads/\"\nsince = \"last-run\"\nattachments = \"out/files\"\n";
    let p = pipeline(&w, &emu, "v8", "", step);
    let out = w.expect(&["run", &p], 0);
    assert!(out.contains("2 file(s) downloaded"), "{out}");

    // Past the watermark's minute of clock skew, one record changes and gains a file.
    emu.advance_secs(120).unwrap();
    let xml = "<Leads><row no=\"1\"><FL val=\"Last Name\">Changed</FL></row></Leads>";
    check_client(&emu)
        .update_records(
            "Leads",
            Some(ids[1]),
            xml.into(),
            &zcrm_protocol::params::WriteParams::default(),
        )
        .unwrap();
    let a2 = attach(&emu, ids[1], "c.txt", b"added later");
    let before = credits(&emu).0;
    let out = w.expect(&["run", &p], 0);
    assert!(out.contains("1 file(s) downloaded"), "{out}");
    // The fields (a folder of parts checks its schema each run), the page of changes, the
    // deleted-ids list, one listing, one download.
    assert_eq!(credits(&emu).0 - before, 1 + 1 + 1 + 1 + 1, "{out}");
    let m = manifest(&w.path().join("out/files/attachments.csv"));
    let rows: Vec<(String, String)> =
        m.iter().map(|(a, r)| (a.clone(), r["status"].clone())).collect();
    let mut want =
        vec![(a1.to_string(), "present".to_owned()), (a2.to_string(), "downloaded".to_owned())];
    want.sort();
    assert_eq!(rows, want, "the manifest covers the records this run wrote");
    assert!(!m.contains_key(&a0.to_string()));
    let file = w.path().join(format!("out/files/{}/{a2}-c.txt", ids[1]));
    assert_eq!(std::fs::read(file).unwrap(), b"added later");

    // Bulk Read: every record it writes gets its files.
    let bulk = "[[steps]]\nname = \"bulk\"\nexport = \"Leads\"\nto = \"out/bulk.csv\"\nmethod = \"bulk\"\nattachments = \"out/bulk-files\"\n";
    let p = pipeline(&w, &emu, "v8", "", bulk);
    let out = w.expect(&["run", &p], 0);
    assert!(out.contains("3 file(s) downloaded"), "{out}");
    for (rec, att, name, bytes) in [
        (ids[0], a0, "a.txt", &b"first record"[..]),
        (ids[1], a1, "b.txt", &b"second record"[..]),
        (ids[1], a2, "c.txt", &b"added later"[..]),
    ] {
        let f = w.path().join(format!("out/bulk-files/{rec}/{att}-{name}"));
        assert_eq!(std::fs::read(&f).unwrap(), bytes, "{}", f.display());
    }
}
