//! The v8 face's custom views: `settings/custom_views` and `GET /{module}?cvid=` (the same
//! views getCVRecords knows), their errors, paging past record 2,000 and their credits.

use reqwest::Method;
use serde_json::{Value, json};

use super::harness::{Env, page};
use super::rest::{call, credits_used, get, start_v8, token};

/// The views of `module`: (name, id).
fn views(env: &Env, tok: &str, module: &str) -> Vec<(String, String)> {
    let a = get(env, tok, "settings/custom_views", &[("module", module)]);
    assert_eq!(a.status, 200, "{}", a.body);
    let list = a.body["custom_views"].as_array().unwrap();
    assert_eq!(a.body["info"]["count"], list.len());
    list.iter()
        .map(|v| (v["name"].as_str().unwrap().to_owned(), v["id"].as_str().unwrap().to_owned()))
        .collect()
}

fn id_of(views: &[(String, String)], name: &str) -> String {
    views.iter().find(|(n, _)| n == name).map(|(_, id)| id.clone()).unwrap()
}

/// `n` leads through v8 (at most 100): every third with Lead Status Junk Lead, the others Contacted.
fn insert(env: &Env, tok: &str, tag: &str, n: usize) {
    let data: Vec<Value> = (0..n)
        .map(|i| {
            let status = if i % 3 == 0 { "Junk Lead" } else { "Contacted" };
            json!({"Last_Name": format!("{tag}{i:03}"), "Company": "Acme", "Lead_Status": status})
        })
        .collect();
    let a = call(env, tok, Method::POST, "Leads", &[], Some(&json!({ "data": data })));
    assert_eq!(a.status, 201, "{}", a.body);
}

#[test]
fn custom_views_list_the_views_get_cv_records_knows_with_stable_ids() {
    let env = start_v8(|_| {});
    let tok = token(&env);
    let leads = views(&env, &tok, "leads");
    let names: Vec<&str> = leads.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["All Leads", "My Leads", "All Open Leads"]);
    for (_, id) in &leads {
        assert_eq!(id.len(), 19, "{id}");
        assert!(id.bytes().all(|b| b.is_ascii_digit()), "{id}");
    }
    assert_eq!(views(&env, &tok, "Leads"), leads, "the same ids on every call");
    let a = get(&env, &tok, "settings/custom_views", &[("module", "Leads")]);
    let all = &a.body["custom_views"][0];
    assert_eq!(all["display_value"], "All Leads");
    assert_eq!(all["default"], true);
    assert_eq!(a.body["info"]["default"], all["id"]);
    assert_eq!(all["sort_by"]["api_name"], "Created_Time");
    assert_eq!(all["sort_order"], "asc");
    let accounts = views(&env, &tok, "Accounts");
    assert_eq!(
        accounts.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["All Accounts", "My Accounts"]
    );
    assert!(accounts.iter().all(|a| leads.iter().all(|l| l.1 != a.1)), "ids differ by module");
    let missing = get(&env, &tok, "settings/custom_views", &[]);
    assert_eq!(
        (missing.status, missing.body["code"].as_str()),
        (400, Some("REQUIRED_PARAM_MISSING"))
    );
    let unknown = get(&env, &tok, "settings/custom_views", &[("module", "Nope")]);
    assert_eq!(unknown.body["code"], "INVALID_MODULE");
}

#[test]
fn a_cvid_list_holds_the_views_records_oldest_first_and_costs_three_credits() {
    let env = start_v8(|_| {});
    let tok = token(&env);
    insert(&env, &tok, "a", 30);
    let leads = views(&env, &tok, "Leads");
    let open = id_of(&leads, "All Open Leads");
    let before = credits_used(&env);
    let a = get(&env, &tok, "Leads", &[("fields", "Last_Name,Lead_Status"), ("cvid", &open)]);
    assert_eq!(credits_used(&env) - before, 3, "a list of a view costs 3 credits");
    assert_eq!(a.status, 200, "{}", a.body);
    let data = a.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 20);
    assert!(data.iter().all(|r| r["Lead_Status"] == "Contacted"));
    let ids: Vec<u64> = data.iter().map(|r| r["id"].as_str().unwrap().parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first");
    assert_eq!(a.body["info"]["sort_by"], "Created_Time");
    assert_eq!(a.body["info"]["sort_order"], "asc");
    // The XML face's getCVRecords of the same view: the same records.
    let xml = page(&env.get("Leads", "getCVRecords", &[("cvName", "All Open Leads")]));
    let mut xml_ids: Vec<u64> = xml.rows().filter_map(|r| r.id("LEADID")).map(|i| i.0).collect();
    xml_ids.sort_unstable();
    assert_eq!(xml_ids, ids);
    // All and My (every lead here is the admin's).
    for name in ["All Leads", "My Leads"] {
        let a =
            get(&env, &tok, "Leads", &[("fields", "Last_Name"), ("cvid", &id_of(&leads, name))]);
        assert_eq!(a.body["data"].as_array().unwrap().len(), 30, "{name}");
    }
    // A plain list still costs 1.
    let before = credits_used(&env);
    get(&env, &tok, "Leads", &[("fields", "Last_Name")]);
    assert_eq!(credits_used(&env) - before, 1);
    // cvid with sort_by is ambiguous; an unknown cvid is invalid data naming it.
    let both = get(
        &env,
        &tok,
        "Leads",
        &[("fields", "Last_Name"), ("cvid", &open), ("sort_by", "Created_Time")],
    );
    assert_eq!(
        (both.status, both.body["code"].as_str()),
        (400, Some("AMBIGUITY_DURING_PROCESSING"))
    );
    for bad in ["123", "abc", &id_of(&views(&env, &tok, "Accounts"), "All Accounts")] {
        let a = get(&env, &tok, "Leads", &[("fields", "Last_Name"), ("cvid", bad)]);
        assert_eq!((a.status, a.body["code"].as_str()), (400, Some("INVALID_DATA")), "{bad}");
        assert_eq!(a.body["details"]["param_name"], "cvid");
    }
    // If-Modified-Since in the future: nothing changed.
    let r = env
        .http
        .get(format!("{}/crm/v8/Leads", env.emu.url()))
        .query(&[("fields", "Last_Name"), ("cvid", open.as_str())])
        .header("Authorization", format!("Zoho-oauthtoken {tok}"))
        .header("If-Modified-Since", "2099-01-01T00:00:00+00:00")
        .send()
        .unwrap();
    assert_eq!(r.status(), 304);
}

#[test]
fn a_view_pages_past_record_2000_with_page_token() {
    let env = start_v8(|_| {});
    let tok = token(&env);
    env.insert_leads(1_500, "p");
    for b in 0..9 {
        insert(&env, &tok, &format!("j{b}-"), 100);
    }
    env.insert_leads(150, "q");
    // 1,500 + 9 × 66 + 150 open leads (every third of the 900 is junk).
    let expected = 1_500 + 9 * 66 + 150;
    let open = id_of(&views(&env, &tok, "Leads"), "All Open Leads");
    let q = |extra: (&'static str, String)| {
        vec![("fields", "Last_Name,Lead_Status".to_owned()), ("cvid", open.clone()), extra]
    };
    let run = |params: Vec<(&str, String)>| {
        let p: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        get(&env, &tok, "Leads", &p)
    };
    let mut seen = Vec::new();
    let mut next = None;
    for page_no in 1..=10 {
        let r = run(q(("page", page_no.to_string())));
        assert_eq!(r.status, 200, "{}", r.body);
        seen.extend(r.body["data"].as_array().unwrap().iter().cloned());
        next = r.body["info"]["next_page_token"].as_str().map(str::to_owned);
    }
    assert_eq!(
        run(q(("page", "11".to_owned()))).body["code"],
        "DISCRETE_PAGINATION_LIMIT_EXCEEDED"
    );
    let mut next = next.expect("more than 2,000 open leads");
    // The token is bound to the view.
    let unbound =
        vec![("fields", "Last_Name,Lead_Status".to_owned()), ("page_token", next.clone())];
    assert_eq!(run(unbound).body["code"], "TOKEN_BOUND_DATA_MISMATCH");
    loop {
        let r = run(q(("page_token", next.clone())));
        assert_eq!(r.status, 200, "{}", r.body);
        seen.extend(r.body["data"].as_array().unwrap().iter().cloned());
        match r.body["info"]["next_page_token"].as_str() {
            Some(t) => next = t.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen.len(), expected);
    assert!(seen.iter().all(|r| r["Lead_Status"] != "Junk Lead"));
    let ids: Vec<u64> = seen.iter().map(|r| r["id"].as_str().unwrap().parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first, none twice");
}
