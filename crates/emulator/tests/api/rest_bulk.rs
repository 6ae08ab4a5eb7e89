//! The v8 Bulk APIs through raw HTTP: uploads, Bulk Write jobs (insert, upsert, update; result
//! CSV; records read through the XML face; resumed exactly once across a restart), Bulk Read
//! jobs (pages followed by `next_page_token`, incremental criteria), credits, the download
//! limit, creation errors and the two bulk faults.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use zcrm_emulator::{Emulator, EmulatorConfig, FaultSpec, OAuthClient};

use super::harness::{Env, TOKEN};
use super::rest::{CLIENT, REFRESH, SECRET, credits_used, start_v8, token};

const ORG: &str = "900000001";

fn start(f: impl FnOnce(&mut EmulatorConfig)) -> Env {
    start_v8(|c| {
        c.bulk_job_delay = Duration::ZERO;
        f(c);
    })
}

struct Reply {
    status: u16,
    body: Value,
    remaining: Option<String>,
}

fn reply(r: reqwest::blocking::Response) -> Reply {
    let status = r.status().as_u16();
    let remaining =
        r.headers().get("X-API-CREDITS-REMAINING").map(|v| v.to_str().unwrap().to_owned());
    let text = r.text().unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply { status, body, remaining }
}

fn zip_of(name: &str, csv: &str) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        z.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        z.write_all(csv.as_bytes()).unwrap();
        z.finish().unwrap();
    }
    buf.into_inner()
}

fn unzip(bytes: &[u8]) -> (String, String) {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(z.len(), 1, "one CSV per result ZIP");
    let mut f = z.by_index(0).unwrap();
    let name = f.name().unwrap().into_owned();
    let mut text = String::new();
    f.read_to_string(&mut text).unwrap();
    (name, text)
}

fn upload_with(env: &Env, tok: &str, bytes: Vec<u8>, org: &str) -> Reply {
    let part = reqwest::blocking::multipart::Part::bytes(bytes).file_name("data.zip");
    let form = reqwest::blocking::multipart::Form::new().part("file", part);
    reply(
        env.http
            .post(format!("{}/crm/v8/upload", env.emu.url()))
            .header("Authorization", format!("Zoho-oauthtoken {tok}"))
            .header("feature", "bulk-write")
            .header("X-CRM-ORG", org)
            .multipart(form)
            .send()
            .unwrap(),
    )
}

fn upload(env: &Env, tok: &str, csv: &str) -> String {
    let r = upload_with(env, tok, zip_of("Leads.csv", csv), ORG);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["code"], "FILE_UPLOAD_SUCCESS");
    assert_eq!(r.body["message"], "file uploaded.");
    r.body["details"]["file_id"].as_str().unwrap().to_owned()
}

fn post(env: &Env, tok: &str, path: &str, body: &Value) -> Reply {
    reply(
        env.http
            .post(format!("{}{path}", env.emu.url()))
            .header("Authorization", format!("Zoho-oauthtoken {tok}"))
            .json(body)
            .send()
            .unwrap(),
    )
}

fn get(env: &Env, tok: &str, path: &str) -> Reply {
    reply(
        env.http
            .get(format!("{}{path}", env.emu.url()))
            .header("Authorization", format!("Zoho-oauthtoken {tok}"))
            .send()
            .unwrap(),
    )
}

fn download(env: &Env, tok: &str, url: &str) -> reqwest::blocking::Response {
    let url =
        if url.starts_with("http") { url.to_owned() } else { format!("{}{url}", env.emu.url()) };
    env.http.get(url).header("Authorization", format!("Zoho-oauthtoken {tok}")).send().unwrap()
}

/// Polls a job's status until it is finished (a few ms between polls).
fn wait(env: &Env, tok: &str, kind: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = get(env, tok, &format!("/crm/bulk/v8/{kind}/{id}"));
        assert_eq!(r.status, 200, "{}", r.body);
        let job = if kind == "read" { r.body["data"][0].clone() } else { r.body };
        let state =
            job[if kind == "read" { "state" } else { "status" }].as_str().unwrap().to_owned();
        if matches!(state.as_str(), "COMPLETED" | "FAILED" | "FAILURE") {
            return job;
        }
        assert!(Instant::now() < deadline, "job {id} stuck in {state}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn write_job(env: &Env, tok: &str, op: &str, file_id: &str, find_by: Option<&str>) -> String {
    let mut res = json!({
        "type": "data",
        "module": {"api_name": "Leads"},
        "file_id": file_id,
        "field_mappings": [
            {"api_name": "Company", "index": 0},
            {"api_name": "Last_Name", "index": 1},
            {"api_name": "Email", "index": 2},
        ],
    });
    if let Some(f) = find_by {
        res["find_by"] = json!(f);
    }
    let r = post(env, tok, "/crm/bulk/v8/write", &json!({"operation": op, "resource": [res]}));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["status"], "success");
    assert_eq!(r.body["code"], "SUCCESS");
    r.body["details"]["id"].as_str().unwrap().to_owned()
}

fn leads_csv(n: usize, tag: &str, bad: &[usize]) -> String {
    let mut s = String::from("Company,Last_Name,Email\n");
    for i in 0..n {
        match i {
            _ if bad.first() == Some(&i) => s.push_str(&format!("Acme,,{tag}{i}@example.com\n")),
            _ if bad.get(1) == Some(&i) => s.push_str(&format!("Acme,{tag}{i},not-an-email\n")),
            _ => s.push_str(&format!("Acme,{tag}{i},{tag}{i}@example.com\n")),
        }
    }
    s
}

fn result_rows(env: &Env, tok: &str, job: &Value) -> (String, Vec<Vec<String>>) {
    let url = job["result"]["download_url"].as_str().unwrap();
    assert!(url.starts_with(env.emu.url()), "absolute on this origin: {url}");
    let r = download(env, tok, url);
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    let (name, text) = unzip(&r.bytes().unwrap());
    let mut rd = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    let rows = rd.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
    (name, rows)
}

#[test]
fn a_bulk_insert_writes_each_valid_row_once_and_reports_the_bad_ones_in_input_order() {
    let env = start(|_| {});
    let tok = token(&env);
    let file = upload(&env, &tok, &leads_csv(30, "bw", &[4, 16]));
    let id = write_job(&env, &tok, "insert", &file, None);
    let job = wait(&env, &tok, "write", &id);
    assert_eq!(job["status"], "COMPLETED", "{job}");
    assert_eq!(job["operation"], "insert");
    let f = &job["resource"][0]["file"];
    assert_eq!(
        (
            f["added_count"].as_u64(),
            f["updated_count"].as_u64(),
            f["skipped_count"].as_u64(),
            f["total_count"].as_u64()
        ),
        (Some(28), Some(0), Some(2), Some(30)),
        "{job}"
    );
    assert_eq!(job["resource"][0]["module"]["api_name"], "Leads");
    let (name, rows) = result_rows(&env, &tok, &job);
    assert_eq!(name, "Leads.csv");
    assert_eq!(rows[0], ["Company", "Last_Name", "Email", "STATUS", "RECORD_ID", "ERRORS"]);
    assert_eq!(rows.len(), 31);
    assert_eq!(rows[5][3..], ["SKIPPED", "", "MANDATORY_NOT_FOUND-Last_Name"]);
    assert_eq!(rows[17][3], "SKIPPED");
    assert_eq!(rows[17][5], "INVALID_DATA-Email");
    for (i, row) in rows[1..].iter().enumerate() {
        if i == 4 || i == 16 {
            continue;
        }
        assert_eq!(row[1], format!("bw{i}"), "rows in input order");
        assert_eq!(row[3], "ADDED");
        assert_eq!(row[5], "");
        // Readable through the XML face.
        let xml = env.get("Leads", "getRecordById", &[("id", &row[4])]);
        assert!(xml.contains(&format!("bw{i}@example.com")), "{xml}");
    }
    assert_eq!(env.emu.record_counts().get("Leads"), Some(&28));
    assert_eq!(credits_used(&env), 500, "upload, polls and download are free");
    let jobs: Value = env
        .http
        .get(format!("{}/__emulator/bulk-jobs", env.emu.url()))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(jobs[0]["id"], id.as_str());
    assert_eq!(jobs[0]["kind"], "write");
    assert_eq!(jobs[0]["state"], "COMPLETED");
    assert_eq!(jobs[0]["rows"], 30);
    let _ = TOKEN;
}

#[test]
fn upsert_by_a_unique_field_updates_matches_and_inserts_the_rest_and_update_skips_unknown_keys() {
    let env = start(|_| {});
    let tok = token(&env);
    let first = upload(&env, &tok, &leads_csv(3, "up", &[]));
    let job = wait(&env, &tok, "write", &write_job(&env, &tok, "insert", &first, None));
    assert_eq!(job["resource"][0]["file"]["added_count"], 3);
    let (_, rows) = result_rows(&env, &tok, &job);
    let id0 = rows[1][4].clone();

    let csv = "Company,Last_Name,Email\nNewCo,up0,UP0@EXAMPLE.COM\nNewCo,up2,up2@example.com\nNewCo,up9,up9@example.com\n";
    let file = upload(&env, &tok, csv);
    let job = wait(&env, &tok, "write", &write_job(&env, &tok, "upsert", &file, Some("Email")));
    let f = &job["resource"][0]["file"];
    assert_eq!(
        (f["added_count"].as_u64(), f["updated_count"].as_u64()),
        (Some(1), Some(2)),
        "{job}"
    );
    let (_, rows) = result_rows(&env, &tok, &job);
    assert_eq!(rows[1][3..5], ["UPDATED".to_owned(), id0.clone()]);
    assert_eq!(rows[3][3], "ADDED");
    assert_eq!(env.emu.record_counts().get("Leads"), Some(&4));
    let rec = get(&env, &tok, &format!("/crm/v8/Leads/{id0}"));
    assert_eq!(rec.body["data"][0]["Company"], "NewCo");

    let csv = "Company,Last_Name,Email\nOther,up1,up1@example.com\nOther,zz,nobody@example.com\n";
    let file = upload(&env, &tok, csv);
    let job = wait(&env, &tok, "write", &write_job(&env, &tok, "update", &file, Some("Email")));
    let (_, rows) = result_rows(&env, &tok, &job);
    assert_eq!(rows[1][3], "UPDATED");
    assert_eq!(rows[2][3..], ["SKIPPED", "", "RESOURCE_NOT_FOUND-Email"]);
    assert_eq!(env.emu.record_counts().get("Leads"), Some(&4));

    // Insert with find_by skips rows that match.
    let file = upload(&env, &tok, "Company,Last_Name,Email\nX,up3,up1@example.com\n");
    let job = wait(&env, &tok, "write", &write_job(&env, &tok, "insert", &file, Some("Email")));
    let (_, rows) = result_rows(&env, &tok, &job);
    assert_eq!(rows[1][3..], ["SKIPPED", "", "DUPLICATE_DATA-Email"]);
}

fn restart(dir: &std::path::Path, halt: Option<u64>) -> Env {
    let mut c = super::harness::config(dir);
    c.oauth_clients.push(OAuthClient::new(CLIENT, SECRET, REFRESH));
    c.bulk_job_delay = Duration::ZERO;
    c.bulk_halt_after_rows = halt;
    let emu = Emulator::start(c).unwrap();
    Env {
        emu,
        dir: tempfile::tempdir().unwrap(),
        http: reqwest::blocking::Client::builder().no_proxy().build().unwrap(),
    }
}

#[test]
fn a_job_cut_off_by_a_restart_resumes_after_its_last_committed_row_and_never_runs_twice() {
    let dir = tempfile::tempdir().unwrap();
    let env = restart(dir.path(), Some(10));
    let tok = token(&env);
    let file = upload(&env, &tok, &leads_csv(30, "rs", &[]));
    let id = write_job(&env, &tok, "insert", &file, None);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = get(&env, &tok, &format!("/crm/bulk/v8/write/{id}"));
        if r.body["resource"][0]["file"]["added_count"] == 10 {
            assert_eq!(r.body["status"], "IN PROGRESS");
            break;
        }
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(env.emu.record_counts().get("Leads"), Some(&10));
    drop(env);

    let env = restart(dir.path(), None);
    let tok = token(&env);
    let job = wait(&env, &tok, "write", &id);
    assert_eq!(job["status"], "COMPLETED");
    assert_eq!(job["resource"][0]["file"]["added_count"], 30);
    assert_eq!(env.emu.record_counts().get("Leads"), Some(&30));
    let (_, rows) = result_rows(&env, &tok, &job);
    let ids: std::collections::BTreeSet<&String> = rows[1..].iter().map(|r| &r[4]).collect();
    assert_eq!(ids.len(), 30);
    drop(env);

    let env = restart(dir.path(), None);
    let tok = token(&env);
    let job = wait(&env, &tok, "write", &id);
    assert_eq!(job["status"], "COMPLETED");
    assert_eq!(env.emu.record_counts().get("Leads"), Some(&30), "a finished job never runs again");
}

#[test]
fn a_write_job_costs_500_credits_and_a_read_job_50_refused_with_429_when_they_do_not_fit() {
    let env = start(|c| c.daily_credits = Some(549));
    let tok = token(&env);
    let file = upload(&env, &tok, &leads_csv(2, "cr", &[]));
    write_job(&env, &tok, "insert", &file, None);
    assert_eq!(credits_used(&env), 500);
    let read = json!({"query": {"module": {"api_name": "Leads"}}});
    let r = post(&env, &tok, "/crm/bulk/v8/read", &read);
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.body["code"], "TOO_MANY_REQUESTS");
    assert_eq!(credits_used(&env), 500, "a refused job costs nothing");
    let r = get(&env, &tok, "/crm/v8/org");
    assert_eq!(r.status, 200);
    assert_eq!(credits_used(&env), 501);

    let env = start(|c| c.daily_credits = Some(1000));
    let tok = token(&env);
    let r = post(&env, &tok, "/crm/bulk/v8/read", &read);
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["data"][0]["code"], "ADDED_SUCCESSFULLY");
    assert_eq!(r.body["data"][0]["details"]["state"], "ADDED");
    assert_eq!(credits_used(&env), 50);
    let file = upload(&env, &tok, &leads_csv(2, "cr", &[]));
    let r = post(
        &env,
        &tok,
        "/crm/bulk/v8/write",
        &json!({"operation": "insert", "resource": [{"module": {"api_name": "Leads"}, "file_id": file}]}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.remaining.as_deref(), Some("450"));
}

fn read_ids(env: &Env, tok: &str, job: &Value) -> (Vec<String>, Vec<Vec<String>>) {
    let r = download(env, tok, job["result"]["download_url"].as_str().unwrap());
    assert_eq!(r.status(), 200);
    let (_, text) = unzip(&r.bytes().unwrap());
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = rd.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = rd.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
    (header, rows)
}

#[test]
fn bulk_read_pages_follow_next_page_token_and_criteria_export_incrementally() {
    let env = start(|c| c.bulk_read_page = 200);
    let tok = token(&env);
    let mut ids = env.insert_leads(450, "rd");
    ids.sort_unstable();
    let body = json!({
        "query": {"module": {"api_name": "Leads"}, "fields": ["Last_Name", "Email", "Modified_Time", "Owner"]},
        "file_type": "csv",
    });
    let mut seen: Vec<u64> = Vec::new();
    let mut next = post(&env, &tok, "/crm/bulk/v8/read", &body);
    for (page, count, more) in [(1, 200, true), (2, 200, true), (3, 50, false)] {
        assert_eq!(next.status, 201, "{}", next.body);
        let id = next.body["data"][0]["details"]["id"].as_str().unwrap().to_owned();
        let job = wait(&env, &tok, "read", &id);
        assert_eq!(job["state"], "COMPLETED", "{job}");
        let r = &job["result"];
        assert_eq!(
            (r["page"].as_u64(), r["count"].as_u64(), r["more_records"].as_bool()),
            (Some(page), Some(count), Some(more)),
            "{job}"
        );
        assert_eq!(r["per_page"], 200);
        assert_eq!(r["download_url"], format!("/crm/bulk/v8/read/{id}/result"));
        let (header, rows) = read_ids(&env, &tok, &job);
        assert_eq!(header, ["id", "Last_Name", "Email", "Modified_Time", "Owner"]);
        assert_eq!(rows.len() as u64, count);
        let t = &rows[0][3];
        assert!(
            t.len() == 25 && t.as_bytes()[10] == b'T' && matches!(t.as_bytes()[19], b'+' | b'-'),
            "{t}"
        );
        assert!(rows[0][4].parse::<u64>().is_ok(), "owner as its id: {}", rows[0][4]);
        seen.extend(rows.iter().map(|r| r[0].parse::<u64>().unwrap()));
        if more {
            let tok2 = r["next_page_token"].as_str().unwrap();
            next = post(&env, &tok, "/crm/bulk/v8/read", &json!({"query": {"page_token": tok2}}));
        } else {
            assert!(r["next_page_token"].is_null());
        }
    }
    assert_eq!(seen, ids, "every record once, in id order");

    // Incremental: Modified_Time after the last of the 450.
    let last = get(&env, &tok, &format!("/crm/v8/Leads/{}", ids[449]));
    let since = last.body["data"][0]["Modified_Time"].as_str().unwrap().to_owned();
    env.emu.advance_secs(100).unwrap();
    let fresh = env.insert_leads(5, "inc");
    let body = json!({"query": {
        "module": {"api_name": "Leads"},
        "fields": ["Last_Name"],
        "criteria": {"group_operator": "and", "group": [
            {"field": {"api_name": "Modified_Time"}, "comparator": "greater_than", "value": since},
            {"field": {"api_name": "Last_Name"}, "comparator": "starts_with", "value": "INC"},
        ]},
    }});
    let r = post(&env, &tok, "/crm/bulk/v8/read", &body);
    let job = wait(&env, &tok, "read", r.body["data"][0]["details"]["id"].as_str().unwrap());
    let (_, rows) = read_ids(&env, &tok, &job);
    let got: Vec<u64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(got, fresh);
    let body = json!({"query": {
        "module": {"api_name": "Leads"},
        "criteria": {"field": {"api_name": "Modified_Time"}, "comparator": "between", "value": ["2000-01-01T00:00:00+00:00", since]},
    }});
    let r = post(&env, &tok, "/crm/bulk/v8/read", &body);
    let job = wait(&env, &tok, "read", r.body["data"][0]["details"]["id"].as_str().unwrap());
    assert_eq!(job["result"]["count"], 200);
    assert_eq!(job["result"]["more_records"], true);
    let body = json!({"query": {
        "module": {"api_name": "Leads"},
        "criteria": {"field": {"api_name": "Modified_Time"}, "comparator": "between", "value": ["2000-01-01T00:00:00+00:00", since]},
        "page": 3,
    }});
    let r = post(&env, &tok, "/crm/bulk/v8/read", &body);
    let job = wait(&env, &tok, "read", r.body["data"][0]["details"]["id"].as_str().unwrap());
    assert_eq!(job["result"]["page"], 3);
    assert_eq!(job["result"]["count"], 50, "page 3 = rows 401..450");
    assert_eq!(job["result"]["more_records"], false);
}

#[test]
fn read_results_download_ten_times_a_minute_on_the_emulator_clock() {
    let env = start(|_| {});
    let tok = token(&env);
    env.insert_leads(3, "dl");
    let r = post(&env, &tok, "/crm/bulk/v8/read", &json!({"query": {"module": "Leads"}}));
    let job = wait(&env, &tok, "read", r.body["data"][0]["details"]["id"].as_str().unwrap());
    let url = job["result"]["download_url"].as_str().unwrap().to_owned();
    for _ in 0..10 {
        assert_eq!(download(&env, &tok, &url).status(), 200);
    }
    let r = reply(download(&env, &tok, &url));
    assert_eq!(r.status, 429);
    assert_eq!(r.body["code"], "TOO_MANY_REQUESTS");
    env.emu.advance_secs(61).unwrap();
    assert_eq!(download(&env, &tok, &url).status(), 200);
}

#[test]
fn faults_fail_a_job_before_it_writes_and_cut_a_download_short() {
    let env = start(|_| {});
    let tok = token(&env);
    env.emu.set_faults(FaultSpec::parse("bulk_fail=1").unwrap());
    let file = upload(&env, &tok, &leads_csv(5, "ft", &[]));
    let job = wait(&env, &tok, "write", &write_job(&env, &tok, "insert", &file, None));
    assert_eq!(job["status"], "FAILED", "{job}");
    assert_eq!(job["result"]["error_message"]["code"], "INTERNAL_ERROR");
    assert!(job["result"]["download_url"].is_null());
    assert_eq!(env.emu.record_counts().get("Leads"), None, "a failed job wrote nothing");
    let r = post(&env, &tok, "/crm/bulk/v8/read", &json!({"query": {"module": "Leads"}}));
    let job = wait(&env, &tok, "read", r.body["data"][0]["details"]["id"].as_str().unwrap());
    assert_eq!(job["state"], "FAILURE");
    assert_eq!(job["result"]["error_message"]["code"], "INTERNAL_ERROR");

    env.emu.set_faults(FaultSpec::parse("bulk_cut=1").unwrap());
    let job = wait(&env, &tok, "write", &write_job(&env, &tok, "insert", &file, None));
    assert_eq!(job["status"], "COMPLETED");
    let r = download(&env, &tok, job["result"]["download_url"].as_str().unwrap());
    assert_eq!(r.status(), 200);
    assert!(r.bytes().is_err(), "the body ends before its Content-Length");
    assert_eq!(env.emu.faults_injected().bulk_cuts, 1);
    env.emu.clear_faults();
    let r = download(&env, &tok, job["result"]["download_url"].as_str().unwrap());
    assert!(r.bytes().is_ok());
}

#[test]
fn uploads_and_job_requests_are_checked_before_anything_runs() {
    let env = start(|_| {});
    let tok = token(&env);
    let r = upload_with(&env, &tok, b"not a zip".to_vec(), ORG);
    assert_eq!((r.status, r.body["code"].as_str()), (400, Some("INVALID_FILE_FORMAT")));
    let r = upload_with(&env, &tok, zip_of("a.csv", "A\n1\n"), "123");
    assert_eq!((r.status, r.body["code"].as_str()), (400, Some("INVALID_DATA")));
    assert_eq!(r.body["details"]["header_name"], "X-CRM-ORG");
    let big = vec![0u8; 25 * 1024 * 1024 + 1];
    let r = upload_with(&env, &tok, big, ORG);
    assert_eq!((r.status, r.body["code"].as_str()), (413, Some("FILE_TOO_LARGE")));

    let file = upload(&env, &tok, &leads_csv(2, "er", &[]));
    let job = |op: &str, res: Value| {
        post(&env, &tok, "/crm/bulk/v8/write", &json!({"operation": op, "resource": [res]}))
    };
    let maps = json!([{"api_name": "Company", "index": 0}, {"api_name": "Last_Name", "index": 1}, {"api_name": "Email", "index": 2}]);
    let cases = [
        (
            "insert",
            json!({"module": {"api_name": "Leads"}, "file_id": "42", "field_mappings": maps}),
            "INVALID_FILE_ID",
        ),
        (
            "upsert",
            json!({"module": {"api_name": "Leads"}, "file_id": file, "field_mappings": maps}),
            "MANDATORY_NOT_FOUND",
        ),
        (
            "insert",
            json!({"module": {"api_name": "Nope"}, "file_id": file, "field_mappings": maps}),
            "MODULE_NOT_AVAILABLE",
        ),
        (
            "insert",
            json!({"module": {"api_name": "Leads"}, "file_id": file, "field_mappings": [{"api_name": "Bogus", "index": 0}]}),
            "INVALID_FIELD",
        ),
        (
            "insert",
            json!({"module": {"api_name": "Leads"}, "file_id": file, "field_mappings": [{"api_name": "Company", "index": 0}]}),
            "MANDATORY_FIELDS_NOT_MAPPED",
        ),
        (
            "insert",
            json!({"module": {"api_name": "Leads"}, "file_id": file, "field_mappings": [{"api_name": "Company", "index": 7}, {"api_name": "Last_Name", "index": 1}]}),
            "COLUMN_INDEX_NOT_FOUND",
        ),
        (
            "upsert",
            json!({"module": {"api_name": "Leads"}, "file_id": file, "find_by": "Phone", "field_mappings": maps}),
            "INVALID_DATA",
        ),
    ];
    for (op, res, code) in cases {
        let r = job(op, res);
        assert_eq!((r.status, r.body["code"].as_str()), (400, Some(code)), "{}", r.body);
    }
    let many: Vec<Value> = (0..201).map(|_| json!({"api_name": "Company", "index": 0})).collect();
    let r = job(
        "insert",
        json!({"module": {"api_name": "Leads"}, "file_id": file, "field_mappings": many}),
    );
    assert_eq!(r.body["code"], "HEADER_LIMIT_EXCEEDED");

    // More than 25,000 rows: the job is created, then fails without writing.
    let mut csv = String::from("Company,Last_Name,Email\n");
    for i in 0..25_001 {
        csv.push_str(&format!("A,L{i},\n"));
    }
    let big = upload(&env, &tok, &csv);
    let done = wait(&env, &tok, "write", &write_job(&env, &tok, "insert", &big, None));
    assert_eq!(done["status"], "FAILED");
    assert_eq!(done["result"]["error_message"]["code"], "LIMIT_EXCEEDED");
    assert_eq!(env.emu.record_counts().get("Leads"), None);

    // Bulk Read: JSON only, known modules and fields.
    let r = reply(
        env.http
            .post(format!("{}/crm/bulk/v8/read", env.emu.url()))
            .header("Authorization", format!("Zoho-oauthtoken {tok}"))
            .body(json!({"query": {"module": "Leads"}}).to_string())
            .send()
            .unwrap(),
    );
    assert_eq!(r.status, 415);
    let r = post(&env, &tok, "/crm/bulk/v8/read", &json!({"query": {"module": "Nope"}}));
    assert_eq!(r.body["code"], "MODULE_NOT_SUPPORTED");
    let r = post(
        &env,
        &tok,
        "/crm/bulk/v8/read",
        &json!({"query": {"module": "Leads", "fields": ["Nope"]}}),
    );
    assert_eq!(r.body["code"], "FIELD_NOT_SUPPORTED");
    let crit =
        json!({"field": {"api_name": "Last_Name"}, "comparator": "greater_than", "value": "a"});
    let r = post(
        &env,
        &tok,
        "/crm/bulk/v8/read",
        &json!({"query": {"module": "Leads", "criteria": crit}}),
    );
    assert_eq!(r.body["code"], "INVALID_CRITERIA");
    let r = get(&env, &tok, "/crm/bulk/v8/read/123");
    assert_eq!((r.status, r.body["code"].as_str()), (400, Some("RESOURCE_NOT_FOUND")));
    let r = reply(env.http.get(format!("{}/crm/bulk/v8/read/123", env.emu.url())).send().unwrap());
    assert_eq!(r.status, 401);
}

#[test]
fn a_finished_job_posts_its_status_to_a_loopback_callback() {
    let env = start(|_| {});
    let tok = token(&env);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let file = upload(&env, &tok, &leads_csv(2, "cb", &[]));
    let body = json!({
        "operation": "insert",
        "callback": {"url": url, "method": "post"},
        "resource": [{"module": {"api_name": "Leads"}, "file_id": file}],
    });
    let r = post(&env, &tok, "/crm/bulk/v8/write", &body);
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["details"]["id"].as_str().unwrap().to_owned();
    let (mut s, _) = listener.accept().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("\"resource\"") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let text = String::from_utf8_lossy(&got).into_owned();
    assert!(text.starts_with("POST /hook HTTP/1.1"), "{text}");
    let json_part = &text[text.find("\r\n\r\n").unwrap() + 4..];
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut all = json_part.to_owned();
    while serde_json::from_str::<Value>(&all).is_err() {
        assert!(Instant::now() < deadline);
        let n = s.read(&mut buf).unwrap();
        all.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let v: Value = serde_json::from_str(&all).unwrap();
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["status"], "COMPLETED");
    assert_eq!(v["resource"][0]["file"]["added_count"], 2);
}
