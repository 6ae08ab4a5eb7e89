//! The v8 face's search (`GET /{module}/search`) and COQL (`POST /coql`): errors, matching
//! semantics, paging limits and the credits each call costs.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use super::harness::Env;
use super::rest::{Answer, admin, call, credits_used, get, start_v8, token};

fn insert(env: &Env, tok: &str, data: Value) -> Vec<String> {
    let a = call(env, tok, Method::POST, "Leads", &[], Some(&json!({ "data": data })));
    assert_eq!(a.status, 201, "{}", a.body);
    a.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["details"]["id"].as_str().unwrap().to_owned())
        .collect()
}

fn search(env: &Env, tok: &str, q: &[(&str, &str)]) -> Answer {
    get(env, tok, "Leads/search", q)
}

/// The `Last_Name`s a search finds, in order (none for a 204).
fn names(env: &Env, tok: &str, q: &[(&str, &str)]) -> Vec<String> {
    let a = search(env, tok, q);
    if a.status == 204 {
        assert_eq!(a.body, Value::Null);
        return Vec::new();
    }
    assert_eq!(a.status, 200, "{q:?}: {}", a.body);
    a.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Last_Name"].as_str().unwrap().to_owned())
        .collect()
}

fn crit(env: &Env, tok: &str, c: &str) -> Vec<String> {
    names(env, tok, &[("criteria", c)])
}

/// A query, the status and the code it gets.
type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str);

fn error(a: &Answer) -> (u16, &str) {
    (a.status, a.body["code"].as_str().unwrap_or_default())
}

fn sample(env: &Env, tok: &str) {
    insert(
        env,
        tok,
        json!([
            {"Last_Name": "Burns, B", "Company": "ABC Inc", "Email": "Ann@Example.com",
             "Phone": "+1 (555) 010-0199", "No_of_Employees": 10, "Description": "likes tea"},
            {"Last_Name": "Smith (Jr)", "Company": "ABCD Corp", "Email": "bob@example.com",
             "Secondary_Email": "ANN@example.com", "Phone": "555-0200", "No_of_Employees": 50},
            {"Last_Name": r"Back\slash", "Company": "Big ABC Inc Holdings", "No_of_Employees": 100,
             "Email_Opt_Out": true},
        ]),
    );
}

#[test]
fn search_matches_words_without_case_escapes_and_and_before_or() {
    let env = start_v8(|_| {});
    let tok = token(&env);
    sample(&env, &tok);
    // equals on text: the whole value or a run of whole words, any case; newest id first.
    assert_eq!(crit(&env, &tok, "(Company:equals:abc)"), ["Back\\slash", "Burns, B"]);
    assert_eq!(crit(&env, &tok, "(Company:equals:ABC INC)"), ["Back\\slash", "Burns, B"]);
    assert_eq!(crit(&env, &tok, "(Company:equals:inc holdings)"), ["Back\\slash"]);
    assert_eq!(crit(&env, &tok, "(Company:equals:abcd corp)"), ["Smith (Jr)"]);
    assert!(crit(&env, &tok, "(Company:equals:ab)").is_empty(), "a part of a word is no match");
    // Escapes: \, \( \) \\ .
    assert_eq!(crit(&env, &tok, r"(Last_Name:equals:Burns\, B)"), ["Burns, B"]);
    assert_eq!(crit(&env, &tok, r"(Last_Name:equals:Smith \(Jr\))"), ["Smith (Jr)"]);
    assert_eq!(crit(&env, &tok, r"(Last_Name:equals:Back\\slash)"), ["Back\\slash"]);
    assert_eq!(
        crit(&env, &tok, r"(Last_Name:in:Burns\, B,Back\\slash)"),
        ["Back\\slash", "Burns, B"]
    );
    // and binds tighter than or: B or (abc and > 50), not (abcd or abc) and > 50.
    assert_eq!(
        crit(
            &env,
            &tok,
            "((Company:equals:abcd corp)or(Company:equals:abc)and(No_of_Employees:greater_than:50))"
        ),
        ["Back\\slash", "Smith (Jr)"]
    );
    assert_eq!(
        crit(&env, &tok, "(Company:equals:abc)AND(No_of_Employees:less_equal:10)"),
        ["Burns, B"]
    );
    // Numbers, booleans, starts_with, not_equal, in, between.
    assert_eq!(crit(&env, &tok, "(No_of_Employees:between:10,50)"), ["Smith (Jr)", "Burns, B"]);
    assert_eq!(crit(&env, &tok, "(No_of_Employees:in:10,100)"), ["Back\\slash", "Burns, B"]);
    assert_eq!(crit(&env, &tok, "(No_of_Employees:not_equal:50)"), ["Back\\slash", "Burns, B"]);
    assert_eq!(
        crit(&env, &tok, "(No_of_Employees:greater_equal:50)"),
        ["Back\\slash", "Smith (Jr)"]
    );
    assert_eq!(crit(&env, &tok, "(Email_Opt_Out:equals:true)"), ["Back\\slash"]);
    assert_eq!(crit(&env, &tok, "(Last_Name:starts_with:sm)"), ["Smith (Jr)"]);
    assert_eq!(crit(&env, &tok, "(Description:starts_with:LIKES)"), ["Burns, B"]);
    // Date-times with an offset (every record was created now).
    let now =
        get(&env, &tok, "Leads", &[("fields", "Created_Time")]).body["data"][0]["Created_Time"]
            .as_str()
            .unwrap()
            .to_owned();
    let c = format!("(Created_Time:between:2000-01-01T00:00:00+00:00,{now})");
    assert_eq!(crit(&env, &tok, &c).len(), 3);
    assert!(crit(&env, &tok, &format!("(Created_Time:greater_than:{now})")).is_empty());
    // email: every email field, any case; phone: every phone field, digits only.
    assert_eq!(names(&env, &tok, &[("email", "ann@EXAMPLE.com")]), ["Smith (Jr)", "Burns, B"]);
    assert_eq!(names(&env, &tok, &[("phone", "15550100199")]), ["Burns, B"]);
    assert_eq!(names(&env, &tok, &[("phone", "(555) 0200")]), ["Smith (Jr)"]);
    assert!(names(&env, &tok, &[("phone", "5550200 1")]).is_empty());
    // word: a case-insensitive substring of any text-like field.
    assert_eq!(names(&env, &tok, &[("word", "IG AB")]), ["Back\\slash"]);
    assert_eq!(names(&env, &tok, &[("word", "abc")]).len(), 3);
    assert_eq!(names(&env, &tok, &[("word", "tea")]), ["Burns, B"]);
    // criteria wins over word; fields trims the records.
    let a = search(
        &env,
        &tok,
        &[("word", "abc"), ("criteria", "(Last_Name:equals:burns, b)"), ("fields", "Last_Name")],
    );
    assert_eq!(a.body["data"], json!([{"Last_Name": "Burns, B", "id": a.body["data"][0]["id"]}]));
    assert_eq!(
        a.body["info"],
        json!({"per_page": 200, "count": 1, "page": 1, "more_records": false})
    );
}

#[test]
fn search_errors_are_named_and_every_call_costs_one_credit() {
    let env = start_v8(|_| {});
    let tok = token(&env);
    sample(&env, &tok);
    let eleven = ["(Last_Name:equals:x)"; 11].join("and");
    let cases: Vec<Case<'_>> = vec![
        (vec![], 400, "EXPECTED_PARAM_MISSING"),
        (vec![("fields", "Last_Name")], 400, "EXPECTED_PARAM_MISSING"),
        (vec![("word", "abc"), ("per_page", "201")], 400, "INVALID_DATA"),
        (vec![("word", "abc"), ("page", "11")], 400, "LIMIT_REACHED"),
        (vec![("word", "abc"), ("page", "3"), ("per_page", "700")], 400, "INVALID_DATA"),
        (vec![("word", "abc"), ("page", "21"), ("per_page", "100")], 400, "LIMIT_REACHED"),
        (vec![("criteria", eleven.as_str())], 400, "LIMIT_EXCEEDED"),
        (vec![("criteria", "(Nope:equals:x)")], 400, "INVALID_QUERY"),
        (vec![("criteria", "(Last_Name:like:x)")], 400, "INVALID_QUERY"),
        (vec![("criteria", "(No_of_Employees:starts_with:1)")], 400, "INVALID_QUERY"),
        (vec![("criteria", "(Last_Name:greater_than:x)")], 400, "INVALID_QUERY"),
        (vec![("criteria", "(Description:in:x,y)")], 400, "INVALID_QUERY"),
        (vec![("criteria", "(Email_Opt_Out:in:true)")], 400, "INVALID_QUERY"),
        (vec![("criteria", "(No_of_Employees:equals:ten)")], 400, "INVALID_QUERY"),
        (vec![("criteria", "(No_of_Employees:between:1)")], 400, "INVALID_QUERY"),
        (vec![("criteria", "(Created_Time:greater_than:2024-01-01)")], 400, "INVALID_QUERY"),
        (vec![("criteria", "(Last_Name:equals:x")], 400, "INVALID_QUERY"),
        (vec![("criteria", "Last_Name:equals:x")], 400, "INVALID_QUERY"),
        (vec![("word", "a")], 400, "INVALID_DATA"),
        (vec![("criteria", "(Last_Name:equals:nobody)")], 204, ""),
        (vec![("word", "zz")], 204, ""),
    ];
    for (q, status, code) in cases {
        let before = credits_used(&env);
        let a = search(&env, &tok, &q);
        assert_eq!(error(&a), (status, code), "{q:?}: {}", a.body);
        assert_eq!(credits_used(&env), before + 1, "{q:?} costs one credit");
    }
    let a = search(&env, &tok, &[("criteria", "(Nope:equals:x)")]);
    assert_eq!(a.body["details"]["api_name"], "Nope");
    let a = search(&env, &tok, &[]);
    assert_eq!(a.body["details"]["expected_params"], json!(["criteria", "email", "phone", "word"]));
    // Exactly ten conditions is fine.
    let ten = ["(Last_Name:not_equal:x)"; 10].join("or");
    assert_eq!(crit(&env, &tok, &format!("({ten})")).len(), 3);
    // The route takes only GET.
    let a = call(&env, &tok, Method::POST, "Leads/search", &[], None);
    assert_eq!(error(&a), (400, "INVALID_REQUEST_METHOD"));
}

#[test]
fn search_pages_up_to_the_2000th_match() {
    let env = start_v8(|_| {});
    let tok = token(&env);
    let data: Vec<Value> =
        (0..5).map(|i| json!({"Last_Name": format!("Page{i}"), "Company": "Pager"})).collect();
    insert(&env, &tok, Value::Array(data));
    let q = |page: &'static str| {
        [("criteria", "(Company:equals:pager)"), ("per_page", "2"), ("page", page)]
    };
    let a = search(&env, &tok, &q("1"));
    assert_eq!(a.body["info"], json!({"per_page": 2, "count": 2, "page": 1, "more_records": true}));
    assert_eq!(a.body["data"][0]["Last_Name"], "Page4");
    let a = search(&env, &tok, &q("3"));
    assert_eq!(
        a.body["info"],
        json!({"per_page": 2, "count": 1, "page": 3, "more_records": false})
    );
    assert_eq!(a.body["data"][0]["Last_Name"], "Page0");
    assert_eq!(search(&env, &tok, &q("4")).status, 204);
    // page 10 of 200 is the last one the cap allows.
    let a = search(&env, &tok, &[("word", "page"), ("per_page", "200"), ("page", "10")]);
    assert_eq!(a.status, 204);
}

#[test]
fn search_reads_an_index_that_lags_behind_writes() {
    let env = start_v8(|c| c.search_index_lag = Duration::from_secs(60));
    let tok = token(&env);
    insert(&env, &tok, json!([{"Last_Name": "Fresh", "Company": "Lag"}]));
    assert!(crit(&env, &tok, "(Company:equals:lag)").is_empty(), "not indexed yet");
    admin(&env, Method::POST, "advance-clock?seconds=61");
    let tok = token(&env);
    assert_eq!(crit(&env, &tok, "(Company:equals:lag)"), ["Fresh"]);
    // The list reads the store, not the index.
    insert(&env, &tok, json!([{"Last_Name": "Fresher", "Company": "Lag"}]));
    assert_eq!(crit(&env, &tok, "(Company:equals:lag)"), ["Fresh"]);
}

fn coql(env: &Env, tok: &str, q: &str) -> Answer {
    call(env, tok, Method::POST, "coql", &[], Some(&json!({ "select_query": q })))
}

/// The rows of a query (none for a 204).
fn rows(env: &Env, tok: &str, q: &str) -> Vec<Value> {
    let a = coql(env, tok, q);
    if a.status == 204 {
        return Vec::new();
    }
    assert_eq!(a.status, 200, "{q}: {}", a.body);
    a.body["data"].as_array().unwrap().clone()
}

fn last_names(env: &Env, tok: &str, q: &str) -> Vec<String> {
    rows(env, tok, q).iter().map(|r| r["Last_Name"].as_str().unwrap().to_owned()).collect()
}

/// Accounts Zylker and Acme; contacts Ann (Zylker, 1990), Bob (Acme, 1985), Cid (no account,
/// no birth date), Dee (Zylker, 2001) in that order of ids.
fn contacts(env: &Env, tok: &str) -> (String, String) {
    let a = call(
        env,
        tok,
        Method::POST,
        "Accounts",
        &[],
        Some(
            &json!({"data": [{"Account_Name": "Zylker", "Employees": 40}, {"Account_Name": "Acme", "Employees": 7}]}),
        ),
    );
    assert_eq!(a.status, 201, "{}", a.body);
    let zylker = a.body["data"][0]["details"]["id"].as_str().unwrap().to_owned();
    let acme = a.body["data"][1]["details"]["id"].as_str().unwrap().to_owned();
    let c = call(
        env,
        tok,
        Method::POST,
        "Contacts",
        &[],
        Some(&json!({"data": [
            {"Last_Name": "Ann", "Account_Name": {"id": zylker}, "Date_of_Birth": "1990-05-01", "Email": "ann@zylker.com", "Description": "x"},
            {"Last_Name": "Bob", "Account_Name": {"id": acme}, "Date_of_Birth": "1985-01-31", "Email_Opt_Out": true},
            {"Last_Name": "Cid", "Email": "cid@example.com"},
            {"Last_Name": "Dee", "Account_Name": {"id": zylker}, "Date_of_Birth": "2001-12-24"},
        ]})),
    );
    assert_eq!(c.status, 201, "{}", c.body);
    (zylker, acme)
}

#[test]
fn coql_selects_filters_orders_and_joins() {
    let env = start_v8(|_| {});
    let tok = token(&env);
    let (zylker, _) = contacts(&env, &tok);
    // Default order: id ascending; lookups as {"id"}, dotted columns keyed by their path.
    let a = coql(
        &env,
        &tok,
        "select Last_Name, Account_Name, Account_Name.Account_Name, Owner from Contacts where Last_Name = 'ann'",
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let r = &a.body["data"][0];
    assert_eq!(r["Last_Name"], "Ann");
    assert_eq!(r["Account_Name"], json!({"id": zylker}));
    assert_eq!(r["Account_Name.Account_Name"], "Zylker");
    assert_eq!(r["Owner"].as_object().unwrap().keys().collect::<Vec<_>>(), ["id"]);
    assert!(r["id"].is_string());
    assert_eq!(a.body["info"], json!({"count": 1, "more_records": false}));
    let q = |w: &str| format!("select Last_Name from Contacts where {w}");
    assert_eq!(
        last_names(&env, &tok, "select Last_Name from Contacts"),
        ["Ann", "Bob", "Cid", "Dee"]
    );
    assert_eq!(last_names(&env, &tok, &q("Account_Name.Account_Name = 'Zylker'")), ["Ann", "Dee"]);
    assert_eq!(last_names(&env, &tok, &q("Account_Name.Employees < 10")), ["Bob"]);
    assert_eq!(last_names(&env, &tok, &q(&format!("Account_Name = '{zylker}'"))), ["Ann", "Dee"]);
    assert_eq!(last_names(&env, &tok, &q("Account_Name is null")), ["Cid"]);
    assert_eq!(
        last_names(&env, &tok, &q("Date_of_Birth is not null and Email_Opt_Out = false")),
        ["Ann", "Dee"]
    );
    assert_eq!(last_names(&env, &tok, &q("Last_Name in ('ann', 'BOB', 'zed')")), ["Ann", "Bob"]);
    assert_eq!(last_names(&env, &tok, &q("Last_Name not in ('ann', 'bob')")), ["Cid", "Dee"]);
    assert_eq!(last_names(&env, &tok, &q("Email like '%example%'")), ["Cid"]);
    assert_eq!(
        last_names(&env, &tok, &q("Email not like '%example%'")),
        ["Ann"],
        "an empty value matches no like"
    );
    assert_eq!(
        last_names(&env, &tok, &q("Date_of_Birth between '1985-01-31' and '1990-05-01'")),
        ["Ann", "Bob"]
    );
    assert_eq!(
        last_names(&env, &tok, &q("Date_of_Birth not between '1985-01-31' and '1990-05-01'")),
        ["Dee"]
    );
    assert_eq!(last_names(&env, &tok, &q("Date_of_Birth >= '1990-05-01'")), ["Ann", "Dee"]);
    assert_eq!(last_names(&env, &tok, &q("Last_Name != 'Ann'")), ["Bob", "Cid", "Dee"]);
    assert_eq!(
        last_names(&env, &tok, &q("Last_Name <> 'Ann' and Last_Name != 'Bob'")),
        ["Cid", "Dee"]
    );
    assert_eq!(
        last_names(
            &env,
            &tok,
            &q("(Last_Name = 'Ann' or Last_Name = 'Bob') and Email is not null")
        ),
        ["Ann"]
    );
    assert_eq!(
        last_names(
            &env,
            &tok,
            &q(
                "Last_Name = 'Cid' or (Account_Name.Account_Name = 'Acme' and Email_Opt_Out = true)"
            )
        ),
        ["Bob", "Cid"]
    );
    assert!(rows(&env, &tok, &q("Last_Name = 'Zed'")).is_empty(), "no match is 204");
    // Order by, limit and offset in both spellings.
    assert_eq!(
        last_names(&env, &tok, "select Last_Name from Contacts order by Date_of_Birth desc"),
        ["Dee", "Ann", "Bob", "Cid"]
    );
    assert_eq!(
        last_names(
            &env,
            &tok,
            "SELECT Last_Name FROM Contacts ORDER BY Date_of_Birth ASC, Last_Name"
        ),
        ["Bob", "Ann", "Dee", "Cid"]
    );
    assert_eq!(
        last_names(&env, &tok, "select Last_Name from Contacts order by id desc limit 2"),
        ["Dee", "Cid"]
    );
    let a = coql(&env, &tok, "select Last_Name from Contacts limit 2 offset 1");
    assert_eq!(a.body["info"], json!({"count": 2, "more_records": true}));
    assert_eq!(a.body["data"][0]["Last_Name"], "Bob");
    let a = coql(&env, &tok, "select Last_Name from Contacts order by Last_Name desc limit 1, 3");
    assert_eq!(a.body["info"], json!({"count": 3, "more_records": false}));
    assert_eq!(a.body["data"][0]["Last_Name"], "Cid");
}

#[test]
fn coql_errors_are_named_and_credits_follow_the_limit() {
    let env = start_v8(|_| {});
    let tok = token(&env);
    contacts(&env, &tok);
    let cases: [(&str, &str, u64); 16] = [
        (
            "select Last_Name from Contacts where Last_Name = 'a' and Email = 'b' and Title = 'c'",
            "SYNTAX_ERROR",
            1,
        ),
        ("select Last_Name Contacts", "SYNTAX_ERROR", 1),
        ("select Last_Name from Contacts where Last_Name = 'a", "SYNTAX_ERROR", 1),
        ("select Nope from Contacts", "INVALID_QUERY", 1),
        ("select Last_Name from Contacts where Nope = 1", "INVALID_QUERY", 1),
        ("select Account_Name.Nope from Contacts", "INVALID_QUERY", 1),
        ("select Last_Name.Last_Name from Contacts", "INVALID_QUERY", 1),
        ("select Last_Name from Nowhere", "INVALID_QUERY", 1),
        ("select Last_Name from Contacts where Description = 'x'", "INVALID_QUERY", 1),
        ("select Last_Name from Contacts where Date_of_Birth = 'soon'", "INVALID_QUERY", 1),
        ("select Last_Name from Contacts where Last_Name > 'a'", "INVALID_QUERY", 1),
        ("select Last_Name from Contacts limit 2001", "LIMIT_EXCEEDED", 1),
        ("select Last_Name from Contacts limit 0", "LIMIT_EXCEEDED", 1),
        ("select Last_Name from Contacts limit 99000, 1001", "LIMIT_EXCEEDED", 3),
        ("select Last_Name from Contacts limit 500", "", 2),
        ("select Last_Name from Contacts limit 98000, 2000", "", 3),
    ];
    for (q, code, cost) in cases {
        let before = credits_used(&env);
        let a = coql(&env, &tok, q);
        let got = a.body["code"].as_str().unwrap_or_default();
        assert_eq!(got, code, "{q}: {}", a.body);
        assert_eq!(
            a.status,
            if code.is_empty() { if q.contains("98000") { 204 } else { 200 } } else { 400 },
            "{q}"
        );
        assert_eq!(credits_used(&env) - before, cost, "{q} costs {cost}");
    }
    let a = coql(&env, &tok, "select Nope from Contacts");
    assert_eq!(a.body["details"]["column_name"], "Nope");
    let a = coql(&env, &tok, "select Last_Name from Contacts where a = 1 and b = 2 and c = 3");
    assert_eq!(a.body["details"], json!({"line": 1, "column": 54, "near": "and"}));
    let ins: Vec<String> = (0..101).map(|i| format!("'{i}'")).collect();
    let a = coql(
        &env,
        &tok,
        &format!("select Last_Name from Contacts where Last_Name in ({})", ins.join(",")),
    );
    assert_eq!(a.body["code"], "LIMIT_EXCEEDED");
    // A missing select_query, another method.
    let before = credits_used(&env);
    let a = call(&env, &tok, Method::POST, "coql", &[], Some(&json!({})));
    assert_eq!((a.status, a.body["code"].as_str().unwrap()), (400, "MANDATORY_NOT_FOUND"));
    assert_eq!(credits_used(&env) - before, 1);
    let a = call(&env, &tok, Method::GET, "coql", &[], None);
    assert_eq!(a.body["code"], "INVALID_REQUEST_METHOD");
}

#[test]
fn coql_counts_against_the_complex_calls_sub_cap_of_ten() {
    let env = start_v8(|c| c.concurrency = Some(25));
    let tok = token(&env);
    insert(&env, &tok, json!([{"Last_Name": "Q", "Company": "C"}]));
    // Every call is held 2 s inside its slots, so eleven COQL calls overlap.
    env.emu.set_faults(zcrm_emulator::FaultSpec::parse("latency=2s").unwrap());
    let before = credits_used(&env);
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let calls: Vec<_> = (0..11)
            .map(|_| s.spawn(|| coql(&env, &tok, "select Last_Name from Leads").status))
            .collect();
        calls.into_iter().map(|h| h.join().unwrap()).collect()
    });
    env.emu.clear_faults();
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 10, "{statuses:?}");
    assert_eq!(credits_used(&env) - before, 10, "the refused call costs nothing");
}
