//! The v8 dialect against a small fake v8 server on loopback (token endpoint, fields, insert,
//! list): OAuth, a 401 and its one retry, credits, per-record results, in-doubt writes and
//! paging past record 2,000 with `page_token`. The emulator's own v8 face is tested elsewhere.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value as Json, json};
use zcrm_client::{
    ClientError, CrmApi, Endpoint, ErrorClass, Ledger, LedgerConfig, OAuthConfig, OAuthError,
    RestClient, RestConfig, RetryPolicy, Secret, WriteKind,
};
use zcrm_protocol::params::{ReadParams, SelectColumns, Window};
use zcrm_protocol::{BudgetRule, RowOutcome, Value, WriteResponse};

const SECRET: &str = "client-s3cr3t-0123456789";
const REFRESH: &str = "1000.refresh-s3cr3t-abcdef";

#[derive(Default)]
struct Fake {
    url: String,
    minted: u32,
    valid: Option<String>,
    bodies: Vec<Json>,
    list_queries: Vec<HashMap<String, String>>,
    fail_next_write: bool,
    next_id: u64,
    /// Answers 429 to the next list calls, with `X-API-CREDITS-REMAINING` when given.
    throttle: Vec<Option<u64>>,
    /// Records of the list (2,300 unless set).
    total: Option<u64>,
    /// `settings/custom_views` calls.
    view_lists: u32,
    /// Attachment download calls.
    downloads: u32,
}

type Shared = Arc<Mutex<Fake>>;

fn authorised(f: &Fake, h: &HeaderMap) -> bool {
    let got = h.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    f.valid.as_ref().is_some_and(|t| got == format!("Zoho-oauthtoken {t}"))
}

fn invalid_token() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"})),
    )
        .into_response()
}

async fn token(State(s): State<Shared>, Form(form): Form<HashMap<String, String>>) -> Response {
    let mut f = s.lock().unwrap();
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    if get("grant_type") != "refresh_token" {
        return axum::Json(json!({"error":"unsupported_grant_type"})).into_response();
    }
    if get("client_id") != "1000.CLIENT" || get("client_secret") != SECRET {
        return axum::Json(json!({"error":"invalid_client"})).into_response();
    }
    if get("refresh_token") != REFRESH {
        return axum::Json(json!({"error":"invalid_code"})).into_response();
    }
    f.minted += 1;
    let t = format!("1000.access-{}", f.minted);
    f.valid = Some(t.clone());
    axum::Json(json!({"access_token":t,"api_domain":f.url,"token_type":"Bearer","expires_in":3600}))
        .into_response()
}

async fn fields(State(s): State<Shared>, h: HeaderMap) -> Response {
    if !authorised(&s.lock().unwrap(), &h) {
        return invalid_token();
    }
    axum::Json(json!({"fields":[
        {"api_name":"Owner","field_label":"Lead Owner","data_type":"ownerlookup"},
        {"api_name":"Last_Name","field_label":"Last Name","data_type":"text","length":80,"system_mandatory":true},
        {"api_name":"Email","field_label":"Email","data_type":"email","length":100},
        {"api_name":"Account_Name","field_label":"Account Name","data_type":"lookup","lookup":{"module":{"api_name":"Accounts"}}},
        {"api_name":"Created_Time","field_label":"Created Time","data_type":"datetime","read_only":true}
    ]}))
    .into_response()
}

async fn insert(State(s): State<Shared>, h: HeaderMap, body: String) -> Response {
    let mut f = s.lock().unwrap();
    if !authorised(&f, &h) {
        return invalid_token();
    }
    let body: Json = serde_json::from_str(&body).unwrap();
    f.bodies.push(body.clone());
    if std::mem::take(&mut f.fail_next_write) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response();
    }
    let mut ok = 0;
    let data: Vec<Json> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, r)| {
            if r.get("Last_Name").and_then(Json::as_str).is_none_or(str::is_empty) {
                json!({"code":"MANDATORY_NOT_FOUND","details":{"api_name":"Last_Name","json_path":format!("$.data[{i}].Last_Name")},
                       "message":"required field not found","status":"error"})
            } else {
                ok += 1;
                f.next_id += 1;
                json!({"code":"SUCCESS","details":{"id":(4_000_000_000_000_000u64 + f.next_id).to_string(),
                       "Created_Time":"2024-07-01T09:30:05+05:30"},"message":"record added","status":"success"})
            }
        })
        .collect();
    let status = match ok {
        0 => StatusCode::BAD_REQUEST,
        n if n == data.len() => StatusCode::CREATED,
        _ => StatusCode::MULTI_STATUS,
    };
    (status, axum::Json(json!({ "data": data }))).into_response()
}

/// 2,300 synthetic Leads, ids 1..=2300, `page` up to record 2,000 and `page_token` after it.
async fn list(
    State(s): State<Shared>,
    h: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut f = s.lock().unwrap();
    if !authorised(&f, &h) {
        return invalid_token();
    }
    if !f.throttle.is_empty() {
        let remaining = f.throttle.remove(0);
        let mut r = (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(json!({"code":"TOO_MANY_REQUESTS","details":{},"message":"Number of API requests for the 24 hour period is exceeded or the concurrency limit of the user for the app is exceeded","status":"error"})),
        )
            .into_response();
        if let Some(n) = remaining {
            r.headers_mut().insert("X-API-CREDITS-REMAINING", n.into());
        }
        return r;
    }
    let mut seen = q.clone();
    if let Some(v) = h.get("if-modified-since") {
        seen.insert("If-Modified-Since".into(), v.to_str().unwrap().to_owned());
    }
    f.list_queries.push(seen);
    let per_page: u64 = q["per_page"].parse().unwrap();
    let start = match (q.get("page"), q.get("page_token")) {
        (Some(p), None) => {
            let p: u64 = p.parse().unwrap();
            if p * per_page > 2000 {
                return (
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({"code":"DISCRETE_PAGINATION_LIMIT_EXCEEDED","details":{},"message":"x","status":"error"})),
                )
                    .into_response();
            }
            (p - 1) * per_page
        }
        (None, Some(t)) => t.strip_prefix("tok-").unwrap().parse().unwrap(),
        _ => panic!("page and page_token together: {q:?}"),
    };
    // As Zoho's: `page_token` paging ends at record 100,000, then no more records.
    let total = f.total.unwrap_or(2300).min(100_000);
    if start >= total {
        return StatusCode::NO_CONTENT.into_response();
    }
    let end = (start + per_page).min(total);
    let data: Vec<Json> = (start + 1..=end)
        .map(|i| json!({"id":i.to_string(),"Last_Name":format!("L{i}"),
            "Owner":{"name":"Pat","id":"77","email":"p@x"},"Created_Time":"2024-07-01T09:30:05+05:30"}))
        .collect();
    let more = end < total;
    axum::Json(
        json!({"data":data,"info":{"per_page":per_page,"count":end-start,"more_records":more,
        "next_page_token": if more { Json::String(format!("tok-{end}")) } else { Json::Null }}}),
    )
    .into_response()
}

/// Two views of Leads.
async fn custom_views(
    State(s): State<Shared>,
    h: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut f = s.lock().unwrap();
    if !authorised(&f, &h) {
        return invalid_token();
    }
    f.view_lists += 1;
    assert_eq!(q["module"], "Leads");
    axum::Json(json!({"custom_views":[
        {"id":"111000000000000001","name":"All Leads","display_value":"All Leads","default":true},
        {"id":"111000000000000002","name":"open_leads","display_value":"All Open Leads","default":false}
    ],"info":{"per_page":200,"count":2,"page":1,"more_records":false}}))
    .into_response()
}

struct Server {
    state: Shared,
    url: String,
    _rt: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
}

/// `GET /crm/v8/Leads/{id}/Attachments/{attachment}`: attachment 1 is "hello"; 2 is gone
/// (404); 3 answers 503 once, then "again"; 4 is gone the way Zoho says it for a deleted
/// record (400 `INVALID_DATA`); 5 always fails (500).
async fn download(
    State(s): State<Shared>,
    h: HeaderMap,
    axum::extract::Path((_, attachment)): axum::extract::Path<(String, String)>,
) -> Response {
    let mut f = s.lock().unwrap();
    if !authorised(&f, &h) {
        return invalid_token();
    }
    f.downloads += 1;
    let invalid = json!({"code":"INVALID_DATA","details":{},"message":"the id given seems to be invalid","status":"error"});
    match attachment.as_str() {
        "1" => "hello".into_response(),
        "2" => StatusCode::NOT_FOUND.into_response(),
        "3" if f.downloads == 1 => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        "3" => "again".into_response(),
        "4" => (StatusCode::BAD_REQUEST, axum::Json(invalid)).into_response(),
        _ => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn start() -> Server {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state: Shared = Arc::new(Mutex::new(Fake { url: url.clone(), ..Fake::default() }));
    let app = axum::Router::new()
        .route("/oauth/v2/token", post(token))
        .route("/crm/v8/settings/fields", get(fields))
        .route("/crm/v8/settings/custom_views", get(custom_views))
        .route("/crm/v8/Leads", post(insert).get(list))
        .route("/crm/v8/Leads/{id}/Attachments/{attachment}", get(download))
        .with_state(state.clone());
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server { state, url, _rt: rt, dir: tempfile::tempdir().unwrap() }
}

fn ledger(s: &Server) -> Arc<Ledger> {
    let cfg = LedgerConfig {
        org: "v8-org".into(),
        consumer: "tests".into(),
        timezone: zcrm_client::budget::timezone("Asia/Kolkata").unwrap(),
        rule: BudgetRule::Fixed(100_000),
        share: 1.0,
    };
    Arc::new(Ledger::open(&s.dir.path().join("state/ledger.sqlite"), cfg).unwrap())
}

fn client(s: &Server, secret: &str) -> RestClient {
    let oauth = OAuthConfig {
        accounts_url: Endpoint::parse(&s.url).unwrap(),
        client_id: "1000.CLIENT".into(),
        client_secret: Secret::new(secret),
        refresh_token: Secret::new(REFRESH),
    };
    let mut cfg = RestConfig::new(
        Endpoint::parse(&s.url).unwrap(),
        oauth,
        s.dir.path().join("state"),
        jiff::tz::TimeZone::get("Asia/Kolkata").unwrap(),
    );
    cfg.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    };
    RestClient::new(cfg, ledger(s)).unwrap()
}

#[test]
fn a_wrong_secret_is_a_typed_usage_error_that_never_shows_the_secret() {
    let s = start();
    let c = client(&s, "wrong-s3cr3t");
    let err = c.fields("Leads").unwrap_err();
    assert!(matches!(err, ClientError::OAuth(OAuthError::InvalidClient)), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Usage);
    for text in [err.to_string(), format!("{err:?}"), format!("{c:?}")] {
        assert!(!text.contains("s3cr3t"), "{text}");
    }
    assert_eq!(c.ledger().status().unwrap().spent, 0, "no credit spent");
}

#[test]
fn insert_with_per_record_results_credits_and_one_retry_after_a_401() {
    let s = start();
    let c = client(&s, SECRET);
    let fields = c.fields("Leads").unwrap();
    assert_eq!(fields.field("Last_Name").unwrap().label, "Last Name");
    let mut p = c.payload("Leads", 100);
    let daly = [
        ("Last Name", Value::Text("Daly".into())),
        ("ACCOUNTID", Value::Id(zcrm_protocol::RecordId(5))),
    ];
    let blank = [("Email", Value::Text("x@y.z".into()))];
    assert_eq!(p.push_row(&mut daly.iter().map(|(l, v)| (*l, v))).unwrap(), 1);
    assert_eq!(p.push_row(&mut blank.iter().map(|(l, v)| (*l, v))).unwrap(), 2);
    let payload = p.finish().unwrap();
    // The access token expires early: the call is refused, one refresh, one retry.
    s.state.lock().unwrap().valid = None;
    let WriteResponse::Rows(rows) =
        c.write("Leads", WriteKind::Insert, payload.clone(), &Default::default()).unwrap()
    else {
        panic!("not rows")
    };
    let RowOutcome::Added(d) = &rows[0].outcome else { panic!("{rows:?}") };
    assert_eq!(d.get("Created Time"), Some("2024-07-01 09:30:05"));
    let RowOutcome::Failed(e) = &rows[1].outcome else { panic!("{rows:?}") };
    assert_eq!(e.code.as_str(), "MANDATORY_NOT_FOUND");
    assert!(e.message.contains("\"Last Name\" (Last_Name)"), "{}", e.message);
    let f = s.state.lock().unwrap();
    assert_eq!(f.minted, 2);
    assert_eq!(
        f.bodies[0],
        json!({"data":[{"Last_Name":"Daly","Account_Name":{"id":"5"}},{"Email":"x@y.z"}],"trigger":[]})
    );
    drop(f);
    // Credits: fields 1, the write ceil(2/10) = 1; the refused write costs nothing (CD-2).
    assert_eq!(c.ledger().status().unwrap().spent, 2);
    // The token is cached owner-only, without the refresh token or the secret.
    let dir = s.dir.path().join("state/oauth");
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("1000.access-2") && !text.contains("s3cr3t"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // A second client (another process) uses the cached token: no new mint.
    let c2 = client(&s, SECRET);
    c2.fields("Leads").unwrap();
    assert_eq!(s.state.lock().unwrap().minted, 2);
    // A write answered 5xx is in doubt and not repeated.
    s.state.lock().unwrap().fail_next_write = true;
    let before = s.state.lock().unwrap().bodies.len();
    let err = c.write("Leads", WriteKind::Insert, payload, &Default::default()).unwrap_err();
    assert!(matches!(err, ClientError::InDoubt { rows: 2, .. }), "{err:?}");
    assert_eq!(s.state.lock().unwrap().bodies.len(), before + 1);
}

/// A list that reaches record 100,000 (where `page_token` paging ends) is not taken for the
/// module's end: the read fails, naming Bulk Read, instead of an export passing for whole.
#[test]
fn a_read_that_reaches_record_100000_fails_instead_of_passing_for_the_whole_module() {
    let s = start();
    s.state.lock().unwrap().total = Some(100_500);
    let c = client(&s, SECRET);
    let params = |page: u32| ReadParams {
        select: SelectColumns::fields("Leads", ["Last Name"]),
        window: Window::page(page),
        ..ReadParams::default()
    };
    let (_, n) = c.read_body("Leads", &params(498)).unwrap();
    assert_eq!(n, 200, "records 99,601 to 99,800");
    let err = c.read_body("Leads", &params(499)).unwrap_err();
    assert!(matches!(err, ClientError::ReadLimit { limit: 100_000, .. }), "{err:?}");
    assert!(err.to_string().contains("method = \"bulk\""), "{err}");
    assert_eq!(err.class(), ErrorClass::Remote);
}

/// A custom view by name: its id from `settings/custom_views` (once per client), then the
/// list with `cvid` and no `sort_by`, by `page` to record 2,000 and by `page_token` after it,
/// 3 credits a page; an unknown name fails before any list call, naming the views.
#[test]
fn a_view_is_read_by_its_id_through_the_list_past_record_2000() {
    let s = start();
    let c = client(&s, SECRET);
    let view = zcrm_client::RecordFilter::View("all open LEADS".into());
    let params = |page: u32| ReadParams {
        select: SelectColumns::fields("Leads", ["Last Name"]),
        window: Window::page(page),
        sort: Some(zcrm_protocol::params::Sort::asc("Created Time")),
        last_modified: Some("2024-07-01T00:00:00".parse().unwrap()),
        ..ReadParams::default()
    };
    let unknown = zcrm_client::RecordFilter::View("Hot Leads".into());
    let e = c.read_filtered_body("Leads", &unknown, &params(0)).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"Leads has no custom view "Hot Leads"; its views: "All Leads", "All Open Leads""#
    );
    assert_eq!(e.class(), ErrorClass::Usage);
    let spent = c.ledger().status().unwrap().spent;
    let (body, n) = c.read_filtered_body("Leads", &view, &params(0)).unwrap();
    assert_eq!(n, 200);
    assert_eq!(c.decode_page(&body).unwrap().rows().next().unwrap().text("LEADID"), Some("1"));
    let (_, n) = c.read_filtered_body("Leads", &view, &params(9)).unwrap();
    assert_eq!(n, 200);
    // Record 2,001 on: the token page 10 left.
    let (body, n) = c.read_filtered_body("Leads", &view, &params(10)).unwrap();
    assert_eq!(n, 200);
    assert_eq!(c.decode_page(&body).unwrap().rows().next().unwrap().text("LEADID"), Some("2001"));
    let (_, n) = c.read_filtered_body("Leads", &view, &params(11)).unwrap();
    assert_eq!(n, 100);
    let spent_now = c.ledger().status().unwrap().spent - spent;
    assert_eq!(spent_now, 1 + 4 * 3, "the fields, then 3 credits a view page");
    let f = s.state.lock().unwrap();
    assert_eq!(f.view_lists, 1, "the views are asked for once");
    let q: Vec<String> = f
        .list_queries
        .iter()
        .map(|q| {
            assert!(!q.contains_key("sort_by") && !q.contains_key("sort_order"), "{q:?}");
            assert_eq!(q["If-Modified-Since"], "2024-07-01T00:00:00+05:30", "as for whole lists");
            format!("{}|{}", q.get("page").or(q.get("page_token")).unwrap(), q["cvid"])
        })
        .collect();
    assert_eq!(
        q,
        [
            "1|111000000000000002",
            "10|111000000000000002",
            "tok-2000|111000000000000002",
            "tok-2200|111000000000000002"
        ]
    );
}

#[test]
fn pages_past_record_2000_follow_the_page_token_and_decode_later() {
    let s = start();
    let c = client(&s, SECRET);
    let params = |page: u32| ReadParams {
        select: SelectColumns::fields("Leads", ["Last Name", "SMOWNERID", "Created Time"]),
        window: Window::page(page),
        ..ReadParams::default()
    };
    let (body, n) = c.read_body("Leads", &params(9)).unwrap();
    assert_eq!(n, 200);
    let page = c.decode_page(&body).unwrap();
    let first = page.rows().next().unwrap();
    assert_eq!(first.text("LEADID"), Some("1801"));
    assert_eq!(first.text("Lead Owner"), Some("Pat"));
    assert_eq!(first.text("SMOWNERID"), Some("77"));
    assert_eq!(first.text("Created Time"), Some("2024-07-01 09:30:05"));
    // Record 2,001 on: the token page 10 left.
    let (body, n) = c.read_body("Leads", &params(10)).unwrap();
    assert_eq!(n, 200);
    assert_eq!(c.decode_page(&body).unwrap().rows().next().unwrap().text("LEADID"), Some("2001"));
    let mut last = None;
    c.read("Leads", &params(11), &mut |p| {
        last = Some((p.len(), p.rows().last().and_then(|r| r.text("LEADID").map(str::to_owned))))
    })
    .unwrap();
    assert_eq!(last, Some((100, Some("2300".into()))));
    let f = s.state.lock().unwrap();
    let q: Vec<String> = f
        .list_queries
        .iter()
        .map(|q| format!("{}|{}", q.get("page").or(q.get("page_token")).unwrap(), q["fields"]))
        .collect();
    assert_eq!(
        q,
        [
            "10|Last_Name,Owner,Created_Time",
            "tok-2000|Last_Name,Owner,Created_Time",
            "tok-2200|Last_Name,Owner,Created_Time"
        ]
    );
    drop(f);
    // A fresh client has no token yet: it reads page 10 for one, then the page asked for.
    let c2 = client(&s, SECRET);
    let (body, _) = c2.read_body("Leads", &params(10)).unwrap();
    assert_eq!(c2.decode_page(&body).unwrap().rows().next().unwrap().text("LEADID"), Some("2001"));
    let f = s.state.lock().unwrap();
    let tail: Vec<_> = f.list_queries[3..]
        .iter()
        .map(|q| q.get("page").or(q.get("page_token")).unwrap().clone())
        .collect();
    assert_eq!(tail, ["10", "tok-2000"]);
}

#[test]
fn a_concurrency_429_backs_off_and_spent_credits_stop_cleanly() {
    let s = start();
    let c = client(&s, SECRET);
    let params = ReadParams {
        select: SelectColumns::fields("Leads", ["Last Name"]),
        window: Window::page(0),
        ..ReadParams::default()
    };
    c.fields("Leads").unwrap();
    // Two concurrency refusals (no header, or credits left): backed off, then answered.
    s.state.lock().unwrap().throttle = vec![None, Some(500)];
    let mut n = 0;
    c.read("Leads", &params, &mut |p| n = p.len()).unwrap();
    assert_eq!(n, 200);
    // Fields and one read: the two refusals were charged nothing, so neither is the ledger.
    assert_eq!(c.ledger().status().unwrap().spent, 2);
    // Credits spent: the server says fewer remain than the call costs.
    s.state.lock().unwrap().throttle = vec![Some(0)];
    let err = c.read("Leads", &params, &mut |_| {}).unwrap_err();
    assert!(err.is_budget(), "{err:?}");
    assert!(c.ledger().status().unwrap().server_limit_hit);
    // Metadata from a cache without api_names is not taken for v8 metadata.
    let json =
        br#"{"fields":[{"api_name":"Last_Name","field_label":"Last Name","data_type":"text"}]}"#;
    let mut xml = zcrm_client::rest::decode_fields("Leads", json).unwrap();
    assert!(c.remember_fields(xml.clone()));
    for s in &mut xml.sections {
        for f in &mut s.fields {
            f.api_name = None;
        }
    }
    assert!(!c.remember_fields(xml));
}

/// A download streams the file's bytes; a 5xx before any byte is tried again; an attachment
/// (or record) that is gone is `None`, not an error; one that keeps failing is a transport
/// error after the retries, each try charged.
#[test]
fn an_attachment_download_streams_retries_before_any_byte_and_says_when_it_is_gone() {
    use zcrm_protocol::RecordId;
    let s = start();
    let c = client(&s, SECRET);
    let get = |attachment: u64| {
        let mut out = Vec::new();
        let got = c.download_attachment("Leads", RecordId(7), RecordId(attachment), &mut out);
        (got, out)
    };
    let (first, bytes) = get(3);
    assert_eq!(first.unwrap(), Some(5));
    assert_eq!(bytes, b"again", "the 503 before any byte was tried again");
    assert_eq!(s.state.lock().unwrap().downloads, 2);
    let (got, bytes) = get(1);
    assert_eq!((got.unwrap(), bytes.as_slice()), (Some(5), &b"hello"[..]));
    for gone in [2, 4] {
        let (got, bytes) = get(gone);
        assert_eq!(got.unwrap(), None, "attachment {gone} is gone");
        assert!(bytes.is_empty());
    }
    let (got, _) = get(5);
    match got.unwrap_err() {
        ClientError::Transport { attempts, .. } => assert_eq!(attempts, 3),
        e => panic!("{e:?}"),
    }
    assert_eq!(s.state.lock().unwrap().downloads, 2 + 1 + 2 + 3);
}
