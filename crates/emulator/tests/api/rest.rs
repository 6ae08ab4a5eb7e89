//! The REST (v8) face: OAuth, authentication, metadata, records through both faces, per-record
//! errors, upsert, paging past 2,000 records, conditional reads, deletions, credits,
//! concurrency and faults.

use std::io::{Read, Write};

use reqwest::Method;
use reqwest::blocking::Response;
use serde_json::{Value, json};
use zcrm_emulator::OAuthClient;

use super::harness::{Env, page, start_with};

pub(super) const CLIENT: &str = "1000.CLIENT";
pub(super) const SECRET: &str = "s3cr3t";
pub(super) const REFRESH: &str = "1000.refresh.token";

pub(super) fn start_v8(f: impl FnOnce(&mut zcrm_emulator::EmulatorConfig)) -> Env {
    start_with(|c| {
        c.oauth_clients.push(OAuthClient::new(CLIENT, SECRET, REFRESH));
        f(c);
    })
}

fn token_call(env: &Env, params: &[(&str, &str)]) -> Value {
    let r = env.http.post(format!("{}/oauth/v2/token", env.emu.url())).form(params).send().unwrap();
    assert_eq!(r.status(), 200, "the token endpoint always answers 200");
    r.json().unwrap()
}

pub(super) fn token(env: &Env) -> String {
    let v = token_call(
        env,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("refresh_token", REFRESH),
        ],
    );
    v["access_token"].as_str().unwrap().to_owned()
}

pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) body: Value,
    pub(super) remaining: Option<String>,
}

fn answer(r: Response) -> Answer {
    let status = r.status().as_u16();
    let remaining =
        r.headers().get("X-API-CREDITS-REMAINING").map(|v| v.to_str().unwrap().to_owned());
    let text = r.text().unwrap();
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
    Answer { status, body, remaining }
}

pub(super) fn call(
    env: &Env,
    tok: &str,
    method: Method,
    path: &str,
    query: &[(&str, &str)],
    body: Option<&Value>,
) -> Answer {
    let mut rb = env
        .http
        .request(method, format!("{}/crm/v8/{path}", env.emu.url()))
        .header("Authorization", format!("Zoho-oauthtoken {tok}"))
        .query(query);
    if let Some(b) = body {
        rb = rb.json(b);
    }
    answer(rb.send().unwrap())
}

pub(super) fn get(env: &Env, tok: &str, path: &str, query: &[(&str, &str)]) -> Answer {
    call(env, tok, Method::GET, path, query, None)
}

pub(super) fn admin(env: &Env, method: Method, path: &str) -> Value {
    let r =
        env.http.request(method, format!("{}/__emulator/{path}", env.emu.url())).send().unwrap();
    assert_eq!(r.status(), 200);
    r.json().unwrap()
}

pub(super) fn credits_used(env: &Env) -> u64 {
    admin(env, Method::GET, "credits")["used"].as_u64().unwrap()
}

fn leads(n: usize, tag: &str) -> Value {
    let data: Vec<Value> = (0..n)
        .map(|i| json!({"Last_Name": format!("{tag}{i}"), "Company": "Acme", "Email": format!("{tag}{i}@example.com")}))
        .collect();
    json!({ "data": data })
}

#[test]
fn the_token_endpoint_exchanges_refresh_tokens_and_grant_codes_and_names_its_errors() {
    let env = start_v8(|_| {});
    let v = token_call(
        &env,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("refresh_token", REFRESH),
        ],
    );
    assert_eq!(v["api_domain"], env.emu.url());
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3600);
    assert!(v.get("refresh_token").is_none(), "a refresh answer carries no refresh token");
    assert!(v["access_token"].as_str().unwrap().starts_with("1000."));
    // Query parameters work as well as a form body.
    let r = env
        .http
        .post(format!("{}/oauth/v2/token", env.emu.url()))
        .query(&[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("refresh_token", REFRESH),
        ])
        .send()
        .unwrap();
    assert!(r.json::<Value>().unwrap()["access_token"].is_string());
    let cases: [(&[(&str, &str)], &str); 4] = [
        (
            &[
                ("grant_type", "refresh_token"),
                ("client_id", CLIENT),
                ("client_secret", "no"),
                ("refresh_token", REFRESH),
            ],
            "invalid_client",
        ),
        (
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "other"),
                ("client_secret", SECRET),
                ("refresh_token", REFRESH),
            ],
            "invalid_client",
        ),
        (
            &[
                ("grant_type", "refresh_token"),
                ("client_id", CLIENT),
                ("client_secret", SECRET),
                ("refresh_token", "nope"),
            ],
            "invalid_code",
        ),
        (
            &[("grant_type", "password"), ("client_id", CLIENT), ("client_secret", SECRET)],
            "unsupported_grant_type",
        ),
    ];
    for (params, error) in cases {
        assert_eq!(token_call(&env, params), json!({"error": error}), "{params:?}");
    }
    let code = env
        .http
        .post(format!("{}/__emulator/grant-code?client_id={CLIENT}", env.emu.url()))
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let grant = [
        ("grant_type", "authorization_code"),
        ("client_id", CLIENT),
        ("client_secret", SECRET),
        ("code", code.as_str()),
    ];
    let v = token_call(&env, &grant);
    assert_eq!(v["refresh_token"], REFRESH);
    assert!(v["access_token"].is_string());
    assert_eq!(token_call(&env, &grant), json!({"error": "invalid_code"}), "a code is single-use");
}

#[test]
fn calls_need_a_live_zoho_oauthtoken_and_tokens_expire_after_an_hour_of_the_emulator_clock() {
    let env = start_v8(|_| {});
    let tok = token(&env);
    let r = answer(env.http.get(format!("{}/crm/v8/org", env.emu.url())).send().unwrap());
    assert_eq!(r.status, 401);
    assert_eq!(
        r.body,
        json!({"code":"AUTHENTICATION_FAILURE","details":{},"message":"Authentication failed","status":"error"})
    );
    let invalid = json!({"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"});
    let bearer = answer(
        env.http
            .get(format!("{}/crm/v8/Leads?fields=Last_Name", env.emu.url()))
            .header("Authorization", format!("Bearer {tok}"))
            .send()
            .unwrap(),
    );
    assert_eq!((bearer.status, &bearer.body), (401, &invalid));
    assert_eq!(get(&env, "1000.unknown", "org", &[]).body, invalid);
    assert_eq!(credits_used(&env), 0, "401s cost nothing");
    assert_eq!(get(&env, &tok, "org", &[]).status, 200);
    env.http
        .post(format!("{}/__emulator/advance-clock?seconds=3590", env.emu.url()))
        .send()
        .unwrap();
    assert_eq!(get(&env, &tok, "org", &[]).status, 200, "still within the hour");
    env.http.post(format!("{}/__emulator/advance-clock?seconds=10", env.emu.url())).send().unwrap();
    let expired = get(&env, &tok, "org", &[]);
    assert_eq!((expired.status, &expired.body), (401, &invalid));
    let fresh = token(&env);
    assert_eq!(get(&env, &fresh, "users", &[("type", "CurrentUser")]).status, 200);
    admin(&env, Method::POST, "expire-tokens");
    assert_eq!(get(&env, &fresh, "org", &[]).status, 401);
    // Unknown paths and methods, after authentication.
    let tok = token(&env);
    assert_eq!(get(&env, &tok, "Leads/actions/nothing/here", &[]).status, 404);
    let wrong = call(&env, &tok, Method::PATCH, "Leads", &[], None);
    assert_eq!((wrong.status, wrong.body["code"].as_str()), (400, Some("INVALID_REQUEST_METHOD")));
    let module = get(&env, &tok, "Widgets", &[("fields", "Name")]);
    assert_eq!(module.body["code"], "INVALID_MODULE");
    assert_eq!(get(&env, &tok, "leads", &[("fields", "Last_Name")]).status, 204, "any case");
}

#[test]
fn field_metadata_names_every_field_by_api_name() {
    let env = start_v8(|_| {});
    let tok = token(&env);
    let r = get(&env, &tok, "settings/fields", &[("module", "Leads")]);
    assert_eq!(r.status, 200);
    let fields = r.body["fields"].as_array().unwrap();
    let f = |name: &str| fields.iter().find(|f| f["api_name"] == name).cloned().unwrap();
    let last = f("Last_Name");
    assert_eq!(
        (&last["data_type"], &last["json_type"], &last["system_mandatory"], &last["length"]),
        (&json!("text"), &json!("string"), &json!(true), &json!(80))
    );
    assert_eq!(f("Owner")["data_type"], "ownerlookup");
    assert_eq!(f("No_of_Employees")["data_type"], "integer");
    assert_eq!(f("Email_Opt_Out")["json_type"], "boolean");
    assert_eq!(f("Annual_Revenue")["decimal_place"], 2);
    assert_eq!(f("Designation")["display_label"], "Title");
    assert_eq!(f("Created_Time")["read_only"], true);
    let source = f("Lead_Source");
    assert_eq!(
        source["pick_list_values"][1],
        json!({"display_value":"Advertisement","actual_value":"Advertisement","sequence_number":2,"type":"used"})
    );
    assert!(
        fields.iter().all(|f| f["field_label"] != "Campaign Source"),
        "v1-only fields are not shown"
    );
    let deals = get(&env, &tok, "settings/fields", &[("module", "Deals")]);
    let deal_fields = deals.body["fields"].as_array().unwrap();
    let account = deal_fields.iter().find(|f| f["api_name"] == "Account_Name").unwrap();
    assert_eq!(account["lookup"]["module"]["api_name"], "Accounts");
    assert!(
        deal_fields
            .iter()
            .any(|f| f["api_name"] == "Deal_Name" && f["field_label"] == "Potential Name")
    );
    let accounts = get(&env, &tok, "settings/fields", &[("module", "Accounts")]);
    let number = accounts.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["api_name"] == "Account_Number")
        .cloned()
        .unwrap();
    assert!(number["unique"].is_object());
    assert_eq!(get(&env, &tok, "settings/fields", &[]).body["code"], "REQUIRED_PARAM_MISSING");
    assert_eq!(
        get(&env, &tok, "settings/fields", &[("module", "Potentials")]).body["code"],
        "INVALID_MODULE"
    );
    let modules = get(&env, &tok, "settings/modules", &[]).body;
    let deals = modules["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["api_name"] == "Deals")
        .cloned()
        .unwrap();
    assert_eq!(deals["module_name"], "Potentials");
    let users = get(&env, &tok, "users", &[("type", "ActiveUsers")]).body;
    assert_eq!(users["users"].as_array().unwrap().len(), 2);
    assert_eq!(get(&env, &tok, "users", &[("type", "Everyone")]).status, 400);
    let org = get(&env, &tok, "org", &[]).body;
    assert_eq!(org["org"][0]["time_zone"], "America/Los_Angeles");
}

#[test]
fn a_record_written_through_one_face_is_read_through_the_other() {
    let env = start_v8(|_| {});
    let tok = token(&env);
    let body = json!({"data": [{
        "Last_Name": "Daly", "First_Name": "Paul", "Company": "ABC", "Email": "p.daly@zylker.com",
        "No_of_Employees": 42, "Annual_Revenue": 250000.9, "Email_Opt_Out": true,
        "Lead_Source": "Brand new source", "Full_Name": "ignored", "$approved": false, "Unknown_Field": 1
    }], "trigger": []});
    let r = call(&env, &tok, Method::POST, "Leads", &[], Some(&body));
    assert_eq!(r.status, 201, "{}", r.body);
    let item = &r.body["data"][0];
    assert_eq!(
        (&item["code"], &item["message"], &item["status"]),
        (&json!("SUCCESS"), &json!("record added"), &json!("success"))
    );
    let id = item["details"]["id"].as_str().unwrap().to_owned();
    let created = item["details"]["Created_Time"].as_str().unwrap();
    assert!(
        created.len() == 25 && (created.ends_with("-07:00") || created.ends_with("-08:00")),
        "{created}"
    );
    let xml = env.get("Leads", "getRecordById", &[("id", &id)]);
    let records = page(&xml);
    let row = records.rows().next().unwrap();
    let val = |l: &str| row.text(l).map(str::to_owned);
    assert_eq!(val("Last Name").as_deref(), Some("Daly"));
    assert_eq!(val("No of Employees").as_deref(), Some("42"));
    assert_eq!(val("Annual Revenue").as_deref(), Some("250000.9"));
    assert_eq!(val("Email Opt Out").as_deref(), Some("true"));
    assert_eq!(val("Lead Source").as_deref(), Some("Brand new source"));
    // XML insert, v8 read.
    let xml_id = env.insert_leads(1, "xml")[0];
    let r = get(&env, &tok, &format!("Leads/{xml_id}"), &[]);
    assert_eq!(r.status, 200);
    let rec = &r.body["data"][0];
    assert_eq!(rec["Last_Name"], "xml00000");
    assert_eq!(rec["Email_Opt_Out"], false);
    assert_eq!(rec["No_of_Employees"], Value::Null);
    assert_eq!(rec["Owner"]["email"], "ann.owner@example.com");
    assert_eq!(rec["Owner"]["id"], "900000000000000101");
    assert_eq!(rec["Created_By"]["name"], "Ann Owner");
    assert_eq!(rec["id"], xml_id.to_string());
    assert_eq!(rec["$approval_state"], "approved");
    assert!(rec["Created_Time"].as_str().unwrap().contains('T'));
    // A deal with an account lookup, read back as {name, id}.
    let acc = call(
        &env,
        &tok,
        Method::POST,
        "Accounts",
        &[],
        Some(&json!({"data":[{"Account_Name":"Zylker"}]})),
    );
    let acc_id = acc.body["data"][0]["details"]["id"].as_str().unwrap().to_owned();
    let deal = json!({"data":[{"Deal_Name":"Big","Stage":"Qualification","Closing_Date":"2025-02-28",
        "Account_Name":{"id": acc_id}, "Amount": 10.005}]});
    let r = call(&env, &tok, Method::POST, "Deals", &[], Some(&deal));
    assert_eq!(r.status, 201, "{}", r.body);
    let deal_id = r.body["data"][0]["details"]["id"].as_str().unwrap().to_owned();
    let rec = get(&env, &tok, &format!("Deals/{deal_id}"), &[]).body["data"][0].clone();
    assert_eq!(rec["Account_Name"], json!({"name": "Zylker", "id": acc_id}));
    assert_eq!(rec["Closing_Date"], "2025-02-28");
    assert_eq!(rec["Amount"], json!(10.01), "rounded half-up to 2 places");
    assert_eq!(get(&env, &tok, "Leads/123", &[]).status, 204);
    assert_eq!(get(&env, &tok, "Leads/abc", &[]).body["code"], "INVALID_DATA");
}

#[test]
fn each_record_gets_its_own_result_and_whole_call_errors_write_nothing() {
    let env = start_v8(|_| {});
    let tok = token(&env);
    let acc = call(
        &env,
        &tok,
        Method::POST,
        "Accounts",
        &[],
        Some(&json!({"data":[{"Account_Name":"A","Account_Number":"77"}]})),
    );
    assert_eq!(acc.status, 201);
    let body = json!({"data": [
        {"Last_Name": "Ok", "Company": "C"},
        {"Company": "C"},
        {"Last_Name": "N", "Company": "C", "No_of_Employees": "12"},
        {"Last_Name": "N", "Company": "C", "First_Name": "x".repeat(41)},
        {"Last_Name": "N", "Company": "C", "Created_Time": "2020-01-01T00:00:00+00:00", "Email_Opt_Out": "yes"},
    ]});
    let r = call(&env, &tok, Method::POST, "Leads", &[], Some(&body));
    assert_eq!(r.status, 207);
    let d = &r.body["data"];
    assert_eq!(d[0]["code"], "SUCCESS");
    assert_eq!(
        d[1],
        json!({"code":"MANDATORY_NOT_FOUND","details":{"api_name":"Last_Name","json_path":"$.data[1].Last_Name"},"message":"required field not found","status":"error"})
    );
    assert_eq!(
        d[2]["details"],
        json!({"api_name":"No_of_Employees","json_path":"$.data[2].No_of_Employees","expected_data_type":"integer"})
    );
    assert_eq!(
        d[3]["details"],
        json!({"api_name":"First_Name","json_path":"$.data[3].First_Name","maximum_length":40})
    );
    assert_eq!(d[4]["details"]["api_name"], "Email_Opt_Out");
    let dup = call(
        &env,
        &tok,
        Method::POST,
        "Accounts",
        &[],
        Some(&json!({"data":[{"Account_Name":"B","Account_Number":"77"}]})),
    );
    assert_eq!(dup.status, 400, "every record failed");
    assert_eq!(dup.body["data"][0]["code"], "DUPLICATE_DATA");
    assert_eq!(
        dup.body["data"][0]["details"]["duplicate_record"]["id"],
        acc.body["data"][0]["details"]["id"]
    );
    let lookup = call(
        &env,
        &tok,
        Method::POST,
        "Deals",
        &[],
        Some(&json!({"data":[
        {"Deal_Name":"D","Stage":"Qualification","Closing_Date":"2025-01-01","Account_Name":"Zylker"},
        {"Deal_Name":"D","Stage":"Qualification","Closing_Date":"2025-01-01","Account_Name":{"id":"123"}},
        {"Deal_Name":"D","Stage":"Qualification","Closing_Date":"2025-13-01"}]})),
    );
    let d = &lookup.body["data"];
    assert_eq!(d[0]["details"]["expected_data_type"], "lookup");
    assert_eq!(d[1]["details"]["id"], "123");
    assert_eq!(d[2]["details"]["api_name"], "Closing_Date");
    let before = env.emu.record_counts();
    let whole = [
        (leads(101, "many"), "LIMIT_EXCEEDED"),
        (json!({"data": []}), "MANDATORY_NOT_FOUND"),
        (
            json!({"data": [{"Last_Name":"x","Company":"y"}], "trigger": ["everything"]}),
            "INVALID_DATA",
        ),
    ];
    for (body, code) in whole {
        let r = call(&env, &tok, Method::POST, "Leads", &[], Some(&body));
        assert_eq!((r.status, r.body["code"].as_str()), (400, Some(code)));
        assert!(r.body.get("data").is_none());
    }
    let r = answer(
        env.http
            .post(format!("{}/crm/v8/Leads", env.emu.url()))
            .header("Authorization", format!("Zoho-oauthtoken {tok}"))
            .body("not json")
            .send()
            .unwrap(),
    );
    assert_eq!(r.body["code"], "INVALID_DATA");
    assert_eq!(env.emu.record_counts(), before, "nothing written");
    // Update: ids in the body; an unknown id and a blanked mandatory field fail alone.
    let id = call(&env, &tok, Method::POST, "Leads", &[], Some(&leads(1, "u"))).body["data"][0]["details"]["id"].clone();
    let r = call(
        &env,
        &tok,
        Method::PUT,
        "Leads",
        &[],
        Some(&json!({"data":[
        {"id": id, "Last_Name": "Renamed"}, {"id": "42", "Last_Name": "x"}, {"id": id, "Company": ""}, {"Last_Name": "no id"}]})),
    );
    assert_eq!(r.status, 207);
    assert_eq!(r.body["data"][0]["message"], "record updated");
    assert_eq!(r.body["data"][1]["message"], "the id given seems to be invalid");
    assert_eq!(r.body["data"][2]["code"], "MANDATORY_NOT_FOUND");
    assert_eq!(r.body["data"][3]["details"]["api_name"], "id");
    let rec = get(&env, &tok, &format!("Leads/{}", id.as_str().unwrap()), &[]).body;
    assert_eq!(rec["data"][0]["Last_Name"], "Renamed");
}

#[test]
fn upsert_matches_on_the_duplicate_check_fields_case_insensitively() {
    let env = start_v8(|_| {});
    let tok = token(&env);
    let first = call(&env, &tok, Method::POST, "Leads", &[], Some(&leads(1, "up")));
    let id = first.body["data"][0]["details"]["id"].clone();
    let body = json!({"data": [
        {"Last_Name": "Changed", "Company": "Acme", "Email": "UP0@EXAMPLE.COM"},
        {"Last_Name": "New", "Company": "Acme", "Email": "new@example.com"},
    ]});
    let r = call(&env, &tok, Method::POST, "Leads/upsert", &[], Some(&body));
    assert_eq!(r.status, 200, "{}", r.body);
    let d = &r.body["data"];
    assert_eq!(
        (&d[0]["action"], &d[0]["duplicate_field"], &d[0]["details"]["id"]),
        (&json!("update"), &json!("Email"), &id)
    );
    assert_eq!((&d[1]["action"], &d[1]["duplicate_field"]), (&json!("insert"), &Value::Null));
    assert_eq!(
        get(&env, &tok, &format!("Leads/{}", id.as_str().unwrap()), &[]).body["data"][0]["Last_Name"],
        "Changed"
    );
    let bad = call(
        &env,
        &tok,
        Method::POST,
        "Leads/upsert",
        &[],
        Some(
            &json!({"data":[{"Last_Name":"x","Company":"y"}],"duplicate_check_fields":["Company"]}),
        ),
    );
    assert_eq!((bad.status, bad.body["code"].as_str()), (400, Some("INVALID_DATA")));
    // Accounts: the unique Account_Number decides when listed first.
    call(
        &env,
        &tok,
        Method::POST,
        "Accounts",
        &[],
        Some(&json!({"data":[{"Account_Name":"One","Account_Number":"5"}]})),
    );
    let r = call(
        &env,
        &tok,
        Method::POST,
        "Accounts/upsert",
        &[],
        Some(
            &json!({"data":[{"Account_Name":"Two","Account_Number":"5"}],"duplicate_check_fields":["Account_Number","Account_Name"]}),
        ),
    );
    assert_eq!(r.body["data"][0]["duplicate_field"], "Account_Number");
}

#[test]
fn lists_page_with_page_to_2000_then_with_page_token_and_honour_if_modified_since() {
    let env = start_v8(|_| {});
    let tok = token(&env);
    env.insert_leads(2_250, "p");
    let q = |extra: &[(&'static str, String)]| {
        let mut v: Vec<(&str, String)> =
            vec![("fields", "Last_Name,Email".to_owned()), ("per_page", "200".to_owned())];
        v.extend(extra.iter().cloned());
        v
    };
    let run = |params: Vec<(&str, String)>| {
        let p: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        get(&env, &tok, "Leads", &p)
    };
    let mut seen = std::collections::HashSet::new();
    let mut token_after_page_10 = None;
    for page_no in 1..=10 {
        let r = run(q(&[("page", page_no.to_string())]));
        assert_eq!(r.status, 200);
        assert_eq!(r.body["info"]["more_records"], true);
        for rec in r.body["data"].as_array().unwrap() {
            assert_eq!(rec.as_object().unwrap().len(), 3, "the asked fields and id");
            seen.insert(rec["id"].as_str().unwrap().to_owned());
        }
        token_after_page_10 = r.body["info"]["next_page_token"].as_str().map(str::to_owned);
    }
    let r = run(q(&[("page", "11".to_owned())]));
    assert_eq!(r.body["code"], "DISCRETE_PAGINATION_LIMIT_EXCEEDED");
    // A record inserted now (newest first: it would lead page 1) does not shift the cursor.
    env.insert_leads(1, "late");
    let mut next = token_after_page_10.unwrap();
    loop {
        let r = run(q(&[("page_token", next.clone())]));
        assert_eq!(r.status, 200);
        for rec in r.body["data"].as_array().unwrap() {
            assert!(seen.insert(rec["id"].as_str().unwrap().to_owned()), "no record twice");
        }
        match r.body["info"]["next_page_token"].as_str() {
            Some(t) => next = t.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 2_250);
    assert_eq!(
        run(q(&[("page_token", next.clone()), ("page", "1".to_owned())])).body["code"],
        "AMBIGUITY_DURING_PROCESSING"
    );
    let other = vec![("fields", "Last_Name".to_owned()), ("page_token", next.clone())];
    assert_eq!(run(other).body["code"], "TOKEN_BOUND_DATA_MISMATCH");
    assert_eq!(
        run(q(&[("page_token", "abc".to_owned())])).body["details"]["param_name"],
        "page_token"
    );
    let many: Vec<String> = (0..51).map(|i| format!("F{i}")).collect();
    assert_eq!(run(vec![("fields", many.join(","))]).body["code"], "LIMIT_EXCEEDED");
    assert_eq!(run(vec![]).body["code"], "REQUIRED_PARAM_MISSING");
    assert_eq!(run(q(&[("per_page", "201".to_owned())])).body["details"]["maximum"], 200);
    // If-Modified-Since: inclusive, ISO 8601 with an offset.
    let ims = |h: &str| {
        answer(
            env.http
                .get(format!("{}/crm/v8/Leads?fields=Last_Name", env.emu.url()))
                .header("Authorization", format!("Zoho-oauthtoken {tok}"))
                .header("If-Modified-Since", h)
                .send()
                .unwrap(),
        )
    };
    assert_eq!(ims("2099-01-01T00:00:00+00:00").status, 304);
    assert_eq!(ims("2000-01-01T00:00:00+05:30").status, 200);
    assert_eq!(
        ims("Sat, 01 Jan 2000 00:00:00 GMT").body["details"]["header_name"],
        "If-Modified-Since"
    );
}

#[test]
fn deletes_answer_per_id_and_the_deleted_list_ages_from_recycle_to_permanent() {
    let env = start_v8(|_| {});
    let tok = token(&env);
    assert_eq!(get(&env, &tok, "Leads/deleted", &[]).status, 204);
    let ids: Vec<String> = call(&env, &tok, Method::POST, "Leads", &[], Some(&leads(2, "d"))).body
        ["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["details"]["id"].as_str().unwrap().to_owned())
        .collect();
    let list = format!("{},{},1", ids[0], ids[1]);
    let r = call(&env, &tok, Method::DELETE, "Leads", &[("ids", list.as_str())], None);
    assert_eq!(r.status, 207);
    assert_eq!(
        r.body["data"][0],
        json!({"code":"SUCCESS","details":{"id": ids[0]},"message":"record deleted","status":"success"})
    );
    assert_eq!(r.body["data"][2]["message"], "record not deleted");
    assert_eq!(
        call(&env, &tok, Method::DELETE, "Leads", &[], None).body["code"],
        "REQUIRED_PARAM_MISSING"
    );
    let d = get(&env, &tok, "Leads/deleted", &[]);
    assert_eq!(d.body["info"]["count"], 2);
    assert_eq!(d.body["data"][0]["type"], "recycle");
    assert_eq!(d.body["data"][0]["display_name"], "d1");
    assert_eq!(
        get(&env, &tok, "Leads/deleted", &[("type", "bin")]).body["code"],
        "PATTERN_NOT_MATCHED"
    );
    env.emu.advance_days(61).unwrap();
    let tok = token(&env);
    assert_eq!(get(&env, &tok, "Leads/deleted", &[("type", "recycle")]).status, 204);
    assert_eq!(
        get(&env, &tok, "Leads/deleted", &[("type", "permanent")]).body["data"][0]["type"],
        "permanent"
    );
    env.emu.advance_days(120).unwrap();
    let tok = token(&env);
    assert_eq!(get(&env, &tok, "Leads/deleted", &[]).status, 204);
}

#[test]
fn credits_are_charged_per_call_and_refused_with_429_past_the_budget() {
    let env = start_v8(|c| c.daily_credits = Some(30));
    let tok = token(&env);
    let r = call(&env, &tok, Method::POST, "Leads", &[], Some(&leads(100, "c")));
    assert_eq!(r.status, 201);
    assert_eq!(credits_used(&env), 10, "a 100-record insert costs 10");
    assert_eq!(r.remaining, None, "under half the budget");
    let r = call(&env, &tok, Method::POST, "Leads", &[], Some(&leads(51, "k")));
    assert_eq!((r.status, credits_used(&env)), (201, 16));
    assert_eq!(r.remaining.as_deref(), Some("14"), "half used: the header shows");
    assert_eq!(get(&env, &tok, "org", &[]).status, 200);
    assert_eq!(credits_used(&env), 17);
    let r = call(&env, &tok, Method::POST, "Leads", &[], Some(&leads(100, "m")));
    assert_eq!(r.status, 201);
    assert_eq!(credits_used(&env), 27);
    let before = env.emu.record_counts();
    let r = call(&env, &tok, Method::POST, "Leads", &[], Some(&leads(40, "x")));
    assert_eq!(r.status, 429);
    assert_eq!(
        r.body,
        json!({"code":"TOO_MANY_REQUESTS","details":{},"message":"Number of API requests for the 24 hour period is exceeded or the concurrency limit of the user for the app is exceeded","status":"error"})
    );
    assert_eq!(
        (credits_used(&env), env.emu.record_counts()),
        (27, before),
        "refused: nothing charged or written"
    );
    assert_eq!(
        get(&env, &tok, "Leads", &[("fields", "Last_Name")]).status,
        200,
        "a cheap call still passes"
    );
    assert_eq!(credits_used(&env), 28);
    let limits = admin(&env, Method::GET, "credits");
    assert_eq!(
        (limits["limit"].as_u64(), limits["window_secs"].as_u64()),
        (Some(30), Some(86_400))
    );
    env.emu.advance_secs(86_400).unwrap();
    assert_eq!(credits_used(&env), 0, "the window rolled");
}

#[test]
fn the_concurrency_cap_refuses_the_call_beyond_it() {
    let env = start_v8(|c| c.concurrency = Some(1));
    let tok = token(&env);
    // A call that holds its slot: headers sent, the body not yet.
    let mut held = std::net::TcpStream::connect(env.emu.addr()).unwrap();
    write!(
        held,
        "POST /crm/v8/Leads HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Zoho-oauthtoken {tok}\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n"
    )
    .unwrap();
    held.flush().unwrap();
    while admin(&env, Method::GET, "credits")["in_flight"] != 1 {
        std::thread::yield_now();
    }
    let r = get(&env, &tok, "org", &[]);
    assert_eq!((r.status, r.body["code"].as_str()), (429, Some("TOO_MANY_REQUESTS")));
    assert_eq!(credits_used(&env), 0, "a refused call costs nothing");
    let body = r#"{"data":[{"Last_Name":"Held","Company":"C"}]}"#;
    write!(held, "{body:<60}").unwrap();
    let mut answer = String::new();
    held.read_to_string(&mut answer).ok();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    drop(held);
    while admin(&env, Method::GET, "credits")["in_flight"] != 0 {
        std::thread::yield_now();
    }
    assert_eq!(get(&env, &tok, "org", &[]).status, 200);
}

#[test]
fn a_dropped_answer_leaves_the_write_committed() {
    let env = start_v8(|_| {});
    let tok = token(&env);
    env.emu.set_faults(zcrm_emulator::FaultSpec::parse("drop_after_commit=1,only=writes").unwrap());
    let sent = env
        .http
        .post(format!("{}/crm/v8/Leads", env.emu.url()))
        .header("Authorization", format!("Zoho-oauthtoken {tok}"))
        .json(&leads(3, "drop"))
        .send();
    assert!(sent.is_err(), "the connection closed without an answer");
    assert_eq!(env.emu.record_counts().get("Leads"), Some(&3));
    assert_eq!(env.emu.faults_injected().drops, 1);
    env.emu.clear_faults();
    assert_eq!(get(&env, &tok, "Leads", &[("fields", "Last_Name")]).body["info"]["count"], 3);
}
