//! The v8 face below one record: related lists, lead conversion, attachments and photos, each
//! route's success and documented errors, their credits, and what one face did seen through
//! the other; and zcrm's own v8 client driving them.

use std::sync::Arc;

use reqwest::Method;
use reqwest::blocking::multipart::{Form, Part};
use serde_json::{Value, json};
use zcrm_client::{
    CrmApi, Endpoint, FilePart, Ledger, LedgerConfig, OAuthConfig, RestClient, RestConfig, Secret,
};
use zcrm_protocol::params::{ReadParams, SelectColumns, Window};
use zcrm_protocol::{BudgetRule, RecordId};

use super::harness::{Env, TOKEN, code_of, page};
use super::rest::{Answer, call, credits_used, get, start_v8, token};

fn post(env: &Env, tok: &str, path: &str, body: &Value) -> Answer {
    call(env, tok, Method::POST, path, &[], Some(body))
}

fn put(env: &Env, tok: &str, path: &str, body: &Value) -> Answer {
    call(env, tok, Method::PUT, path, &[], Some(body))
}

fn delete(env: &Env, tok: &str, path: &str, query: &[(&str, &str)]) -> Answer {
    call(env, tok, Method::DELETE, path, query, None)
}

/// Inserts one record through the v8 face; its id.
fn insert(env: &Env, tok: &str, module: &str, record: Value) -> String {
    let r = post(env, tok, module, &json!({ "data": [record] }));
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["data"][0]["details"]["id"].as_str().unwrap().to_owned()
}

/// A multipart POST with the part `file`; status and body (JSON when there is one).
fn upload(env: &Env, tok: &str, path: &str, name: &str, bytes: Vec<u8>) -> (u16, Value) {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()));
    let r = env
        .http
        .post(format!("{}/crm/v8/{path}", env.emu.url()))
        .header("Authorization", format!("Zoho-oauthtoken {tok}"))
        .multipart(form)
        .send()
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
}

/// A GET's status and raw bytes.
fn raw(env: &Env, tok: &str, path: &str) -> (u16, Vec<u8>) {
    let r = env
        .http
        .get(format!("{}/crm/v8/{path}", env.emu.url()))
        .header("Authorization", format!("Zoho-oauthtoken {tok}"))
        .send()
        .unwrap();
    (r.status().as_u16(), r.bytes().unwrap().to_vec())
}

fn xml_related(env: &Env, module: &str, parent: &str, id: &str) -> Vec<u64> {
    let body = env.get(module, "getRelatedRecords", &[("parentModule", parent), ("id", id)]);
    if body.contains("<nodata>") {
        return Vec::new();
    }
    let col = module.parse::<zcrm_protocol::Module>().unwrap().id_field().into_owned();
    page(&body).rows().map(|r| r.id(&col).unwrap().0).collect()
}

#[test]
fn related_lists_relate_read_and_delink_through_either_face() {
    let env = start_v8(|_| {});
    let tok = token(&env);
    let campaign = insert(&env, &tok, "Campaigns", json!({"Campaign_Name": "Spring"}));
    let leads = env.insert_leads(3, "rel");
    let (l0, l1, l2) = (leads[0].to_string(), leads[1].to_string(), leads[2].to_string());

    // PUT: per-item results, an unknown related id is that item's INVALID_DATA (207).
    let before = credits_used(&env);
    let r = put(
        &env,
        &tok,
        &format!("Campaigns/{campaign}/Leads"),
        &json!({"data": [{"id": l0, "Member_Status": "Sent"}, {"id": "123"}, {"id": l1}]}),
    );
    assert_eq!(r.status, 207, "{}", r.body);
    assert_eq!(
        r.body["data"][0],
        json!({"code": "SUCCESS", "details": {"id": l0}, "message": "relation updated", "status": "success"})
    );
    assert_eq!(r.body["data"][1]["code"], "INVALID_DATA");
    assert_eq!(r.body["data"][1]["details"]["id"], "123");
    assert_eq!(r.body["data"][2]["status"], "success");
    assert_eq!(credits_used(&env), before + 1, "a related-list update costs 1");

    // Seen through the XML face's getRelatedRecords.
    assert_eq!(xml_related(&env, "Leads", "Campaigns", &campaign), [leads[0], leads[1]]);

    // Related through the XML face, seen through v8 (from both sides).
    let xml = format!(
        "<Leads><row no=\"1\"><FL val=\"LEADID\">{l2}</FL><FL val=\"Member Status\">Planned</FL></row></Leads>"
    );
    env.post(
        "Campaigns",
        "updateRelatedRecords",
        &[("id", &campaign), ("relatedModule", "Leads"), ("xmlData", &xml)],
    );
    let r = get(&env, &tok, &format!("Campaigns/{campaign}/Leads"), &[("fields", "Last_Name")]);
    assert_eq!(r.status, 200, "{}", r.body);
    let ids: Vec<&str> =
        r.body["data"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [l0.as_str(), l1.as_str(), l2.as_str()]);
    assert_eq!(r.body["data"][0]["Last_Name"], "rel00000");
    assert_eq!(r.body["data"][0].as_object().unwrap().len(), 2, "the asked fields and id");
    let r = get(&env, &tok, &format!("Leads/{l2}/Campaigns"), &[("fields", "Campaign_Name")]);
    assert_eq!(r.body["data"][0]["Campaign_Name"], "Spring", "{}", r.body);

    // Paging as lists: per_page, then the page_token.
    let r = get(
        &env,
        &tok,
        &format!("Campaigns/{campaign}/Leads"),
        &[("fields", "Last_Name"), ("per_page", "2")],
    );
    assert_eq!(
        (r.body["info"]["count"].as_u64(), r.body["info"]["more_records"].as_bool()),
        (Some(2), Some(true))
    );
    let next = r.body["info"]["next_page_token"].as_str().unwrap().to_owned();
    let r = get(
        &env,
        &tok,
        &format!("Campaigns/{campaign}/Leads"),
        &[("fields", "Last_Name"), ("per_page", "2"), ("page_token", &next)],
    );
    assert_eq!(r.body["data"][0]["id"], l2.as_str());
    assert_eq!(r.body["info"]["more_records"], false);
    let r = get(&env, &tok, &format!("Campaigns/{campaign}/Leads"), &[]);
    assert_eq!((r.status, r.body["code"].as_str()), (400, Some("REQUIRED_PARAM_MISSING")));

    // DELETE delinks; a second time the id is not related.
    let r = delete(&env, &tok, &format!("Campaigns/{campaign}/Leads/{l0}"), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"][0]["message"], "relation removed");
    let r = delete(
        &env,
        &tok,
        &format!("Campaigns/{campaign}/Leads"),
        &[("ids", &format!("{l0},{l2}"))],
    );
    assert_eq!(r.status, 207, "{}", r.body);
    assert_eq!(r.body["data"][0]["code"], "INVALID_DATA");
    assert_eq!(r.body["data"][1]["status"], "success");
    assert_eq!(xml_related(&env, "Leads", "Campaigns", &campaign), [leads[1]]);
    // Delinked from the lead's side too (the relation was made from the campaign's).
    let r = delete(&env, &tok, &format!("Leads/{l1}/Campaigns/{campaign}"), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    let r = get(&env, &tok, &format!("Campaigns/{campaign}/Leads"), &[("fields", "Last_Name")]);
    assert_eq!(r.status, 204);

    // Products ↔ Price_Books and Deals ↔ Contacts by their v8 names.
    let product = insert(&env, &tok, "Products", json!({"Product_Name": "Widget"}));
    let book = insert(&env, &tok, "Price_Books", json!({"Price_Book_Name": "Retail"}));
    let r = put(
        &env,
        &tok,
        &format!("Products/{product}/Price_Books"),
        &json!({"data": [{"id": book}]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        xml_related(&env, "PriceBooks", "Products", &product),
        [book.parse::<u64>().unwrap()]
    );
    let contact = insert(&env, &tok, "Contacts", json!({"Last_Name": "Role"}));
    let deal = insert(
        &env,
        &tok,
        "Deals",
        json!({"Deal_Name": "Big", "Stage": "Qualification", "Closing_Date": "2031-01-31"}),
    );
    let r = put(&env, &tok, &format!("Deals/{deal}/Contacts"), &json!({"data": [{"id": contact}]}));
    assert_eq!(r.status, 200, "{}", r.body);
    let r = get(&env, &tok, &format!("Deals/{deal}/Contacts"), &[("fields", "Last_Name")]);
    assert_eq!(r.body["data"][0]["id"], contact.as_str());

    // Whole-call errors.
    let r = put(&env, &tok, "Campaigns/42/Leads", &json!({"data": [{"id": l0}]}));
    assert_eq!((r.status, r.body["code"].as_str()), (400, Some("INVALID_DATA")));
    assert_eq!(r.body["message"], "the id given seems to be invalid");
    let r = get(&env, &tok, &format!("Campaigns/{campaign}/Nope"), &[("fields", "Last_Name")]);
    assert_eq!((r.status, r.body["details"]["resource_path_index"].as_u64()), (400, Some(2)));
    let many: Vec<Value> = (0..101).map(|_| json!({"id": l0})).collect();
    let r = put(&env, &tok, &format!("Campaigns/{campaign}/Leads"), &json!({ "data": many }));
    assert_eq!((r.status, r.body["code"].as_str()), (400, Some("LIMIT_EXCEEDED")));
    let r = put(&env, &tok, &format!("Campaigns/{campaign}/Leads"), &json!({"data": []}));
    assert_eq!(r.body["code"], "MANDATORY_NOT_FOUND");
    let r =
        post(&env, &tok, &format!("Campaigns/{campaign}/Leads"), &json!({"data": [{"id": l0}]}));
    assert_eq!(r.body["code"], "INVALID_REQUEST_METHOD");
}

fn deal_body(extra: Value) -> Value {
    let mut item = json!({
        "overwrite": true,
        "notify_lead_owner": false,
        "notify_new_entity_owner": false,
        "Deals": {"Deal_Name": "From lead", "Closing_Date": "2031-06-30", "Stage": "Qualification", "Amount": 1250.5},
    });
    if let (Some(o), Some(e)) = (item.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            o.insert(k.clone(), v.clone());
        }
    }
    json!({ "data": [item] })
}

#[test]
fn a_lead_converts_through_v8_for_five_credits_and_leaves_the_xml_faces_leads() {
    let env = start_v8(|_| {});
    let tok = token(&env);
    let leads = env.insert_leads(3, "conv");
    let lead = leads[0].to_string();
    let admin = get(&env, &tok, "users", &[("type", "CurrentUser")]).body["users"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let before = credits_used(&env);
    let r = post(
        &env,
        &tok,
        &format!("Leads/{lead}/actions/convert"),
        &deal_body(json!({"assign_to": {"id": admin}})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(credits_used(&env), before + 5, "Convert Lead costs 5 credits");
    let item = &r.body["data"][0];
    assert_eq!(item["code"], "SUCCESS");
    assert_eq!(item["message"], "The record has been converted successfully");
    assert_eq!(item["details"]["Accounts"]["name"], "Acme");
    assert_eq!(item["details"]["Deals"]["name"], "From lead");
    let contact = item["details"]["Contacts"]["id"].as_str().unwrap().to_owned();
    let account = item["details"]["Accounts"]["id"].as_str().unwrap().to_owned();
    let deal = item["details"]["Deals"]["id"].as_str().unwrap().to_owned();

    // Gone from the XML face's Leads; the contact and deal are there.
    let ids: Vec<u64> = page(&env.get("Leads", "getRecords", &[("selectColumns", "All")]))
        .rows()
        .map(|r| r.id("LEADID").unwrap().0)
        .collect();
    assert!(!ids.contains(&leads[0]) && ids.contains(&leads[1]), "{ids:?}");
    let d = page(&env.get("Potentials", "getRecordById", &[("id", &deal)]));
    let row = d.rows().next().unwrap();
    assert_eq!(row.text("Amount"), Some("1250.5"));
    assert_eq!(row.text("Stage"), Some("Qualification"));
    let v = get(&env, &tok, &format!("Contacts/{contact}"), &[]).body;
    assert_eq!(v["data"][0]["Account_Name"]["id"], account.as_str());

    // The converted lead still answers, with what it became.
    let v = get(&env, &tok, &format!("Leads/{lead}"), &[]);
    assert_eq!(v.status, 200);
    assert_eq!(v.body["data"][0]["$converted"], true);
    assert_eq!(
        v.body["data"][0]["$converted_detail"],
        json!({"contact": contact, "deal": deal, "account": account})
    );
    let live = get(&env, &tok, &format!("Leads/{}", leads[1]), &[]).body;
    assert_eq!(
        (live["data"][0]["$converted"].clone(), live["data"][0]["$converted_detail"].clone()),
        (json!(false), json!({}))
    );

    // Converted already, unknown: whole-call errors, still 5 credits each.
    let before = credits_used(&env);
    let r = post(&env, &tok, &format!("Leads/{lead}/actions/convert"), &deal_body(json!({})));
    assert_eq!((r.status, r.body["code"].as_str()), (400, Some("ID_ALREADY_CONVERTED")));
    let r = post(&env, &tok, "Leads/77/actions/convert", &deal_body(json!({})));
    assert_eq!((r.status, r.body["code"].as_str()), (400, Some("INVALID_DATA")));
    assert_eq!(credits_used(&env), before + 10);

    // A refused item writes nothing: a deal without its Stage, an unknown account.
    let counts = env.emu.record_counts();
    let second = leads[1].to_string();
    let mut body = deal_body(json!({}));
    body["data"][0]["Deals"].as_object_mut().unwrap().remove("Stage");
    let r = post(&env, &tok, &format!("Leads/{second}/actions/convert"), &body);
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["data"][0]["code"], "MANDATORY_NOT_FOUND");
    assert_eq!(r.body["data"][0]["details"]["api_name"], "Stage");
    let r = post(
        &env,
        &tok,
        &format!("Leads/{second}/actions/convert"),
        &deal_body(json!({"Accounts": {"id": "424242"}})),
    );
    assert_eq!(r.body["data"][0]["details"]["api_name"], "Accounts", "{}", r.body);
    let r = post(
        &env,
        &tok,
        &format!("Leads/{second}/actions/convert"),
        &deal_body(json!({"assign_to": {"id": "1"}})),
    );
    assert_eq!(r.body["data"][0]["details"]["api_name"], "assign_to", "{}", r.body);
    assert_eq!(env.emu.record_counts(), counts, "nothing written");

    // Into an existing account, without a deal.
    let r = post(
        &env,
        &tok,
        &format!("Leads/{second}/actions/convert"),
        &json!({"data": [{"Accounts": {"id": account}}]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"][0]["details"]["Accounts"]["id"], account.as_str());
    assert_eq!(r.body["data"][0]["details"]["Deals"], Value::Null);

    // Converted through the XML face, reconciled through v8.
    let third = leads[2].to_string();
    let body = env.post("Leads", "convertLead", &[("leadId", &third)]);
    let done = zcrm_protocol::response::misc::ConvertResult::decode(body.as_bytes()).unwrap();
    let v = get(&env, &tok, &format!("Leads/{third}"), &[]).body;
    assert_eq!(v["data"][0]["$converted_detail"]["contact"], done.contact.to_string());
    assert_eq!(v["data"][0]["$converted_detail"]["deal"], Value::Null);

    // Only Leads convert, and only by POST.
    assert_eq!(
        get(&env, &tok, &format!("Leads/{third}/actions/convert"), &[]).body["code"],
        "INVALID_REQUEST_METHOD"
    );
    let r =
        post(&env, &tok, &format!("Contacts/{contact}/actions/convert"), &json!({"data": [{}]}));
    assert_eq!((r.status, r.body["code"].as_str()), (404, Some("INVALID_URL_PATTERN")));
}

#[test]
fn attachments_upload_list_download_and_delete_across_both_faces() {
    let env = start_v8(|_| {});
    let tok = token(&env);
    let leads = env.insert_leads(2, "att");
    let lead = leads[0].to_string();

    let before = credits_used(&env);
    let (status, body) =
        upload(&env, &tok, &format!("Leads/{lead}/Attachments"), "notes.txt", b"hello v8".to_vec());
    assert_eq!(status, 200, "{body}");
    assert_eq!(credits_used(&env), before + 1);
    assert_eq!(body["data"][0]["code"], "SUCCESS");
    assert_eq!(body["data"][0]["message"], "attachment uploaded successfully");
    assert!(body["data"][0]["details"]["Created_Time"].is_string());
    let att = body["data"][0]["details"]["id"].as_str().unwrap().to_owned();

    // Downloaded through the XML face.
    let bytes = env
        .http
        .get(env.url("Leads", "downloadFile"))
        .query(&[("authtoken", TOKEN), ("scope", "crmapi"), ("id", att.as_str())])
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    assert_eq!(&bytes[..], b"hello v8");

    // Uploaded through the XML face, listed and downloaded through v8.
    let form = Form::new()
        .text("authtoken", TOKEN)
        .text("scope", "crmapi")
        .text("id", lead.clone())
        .part("content", Part::bytes(b"from xml".to_vec()).file_name("x.csv"));
    let body = env
        .http
        .post(env.url("Leads", "uploadFile"))
        .multipart(form)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(code_of(&body), "ok");
    let r = get(&env, &tok, &format!("Leads/{lead}/Attachments"), &[]);
    assert_eq!(r.status, 200);
    let list = r.body["data"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        (list[0]["id"].as_str(), list[0]["File_Name"].as_str(), list[0]["Size"].as_str()),
        (Some(att.as_str()), Some("notes.txt"), Some("8"))
    );
    assert_eq!(list[1]["File_Name"], "x.csv");
    assert_eq!(list[0]["Parent_Id"]["id"], lead.as_str());
    let xml_att = list[1]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        raw(&env, &tok, &format!("Leads/{lead}/Attachments/{xml_att}")),
        (200, b"from xml".to_vec())
    );
    let r =
        get(&env, &tok, &format!("Leads/{lead}/Attachments"), &[("per_page", "1"), ("page", "2")]);
    assert_eq!(
        (r.body["data"][0]["id"].as_str(), r.body["info"]["more_records"].as_bool()),
        (Some(xml_att.as_str()), Some(false))
    );
    assert_eq!(get(&env, &tok, &format!("Leads/{}/Attachments", leads[1]), &[]).status, 204);

    // Another record's attachment is not this one's.
    let r = get(&env, &tok, &format!("Leads/{}/Attachments/{att}", leads[1]), &[]);
    assert_eq!((r.status, r.body["code"].as_str()), (400, Some("INVALID_DATA")));

    // Refusals: .exe, over 20 MB, no file part, an unknown record.
    let (s, b) = upload(&env, &tok, &format!("Leads/{lead}/Attachments"), "setup.EXE", vec![1; 10]);
    assert_eq!((s, b["code"].as_str()), (400, Some("INVALID_DATA")));
    let (s, b) = upload(
        &env,
        &tok,
        &format!("Leads/{lead}/Attachments"),
        "big.bin",
        vec![0; 20 * 1024 * 1024 + 1],
    );
    assert_eq!((s, b["code"].as_str()), (413, Some("FILE_TOO_LARGE")));
    let r = post(&env, &tok, &format!("Leads/{lead}/Attachments"), &json!({}));
    assert_eq!((r.status, r.body["code"].as_str()), (400, Some("REQUIRED_PARAM_MISSING")));
    let (s, b) = upload(&env, &tok, "Leads/42/Attachments", "a.txt", vec![1]);
    assert_eq!((s, b["code"].as_str()), (400, Some("INVALID_DATA")));

    // DELETE through v8: gone from the XML face; a second time "record not deleted".
    let r = delete(&env, &tok, &format!("Leads/{lead}/Attachments/{att}"), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"][0]["message"], "record deleted");
    let body = env.get("Leads", "downloadFile", &[("id", &att)]);
    assert_eq!(code_of(&body), "4600");
    let r = delete(&env, &tok, &format!("Leads/{lead}/Attachments/{att}"), &[]);
    assert_eq!(
        (r.status, r.body["data"][0]["message"].as_str()),
        (400, Some("record not deleted"))
    );
}

#[test]
fn photos_set_read_and_delete_across_both_faces() {
    let env = start_v8(|_| {});
    let tok = token(&env);
    let lead = env.insert_leads(1, "pho")[0].to_string();
    let (s, b) = upload(&env, &tok, &format!("Leads/{lead}/photo"), "me.png", vec![1, 2, 3]);
    assert_eq!(
        (s, b["code"].as_str(), b["message"].as_str()),
        (200, Some("SUCCESS"), Some("photo uploaded successfully"))
    );
    let xml = env
        .http
        .get(env.url("Leads", "downloadPhoto"))
        .query(&[("authtoken", TOKEN), ("scope", "crmapi"), ("id", lead.as_str())])
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    assert_eq!(&xml[..], [1, 2, 3]);
    assert_eq!(raw(&env, &tok, &format!("Leads/{lead}/photo")), (200, vec![1, 2, 3]));

    let (s, b) =
        upload(&env, &tok, &format!("Leads/{lead}/photo"), "big.png", vec![0; 2 * 1024 * 1024 + 1]);
    assert_eq!((s, b["code"].as_str()), (413, Some("FILE_TOO_LARGE")));
    let account = {
        let r = post(&env, &tok, "Accounts", &json!({"data": [{"Account_Name": "NoPhoto"}]}));
        r.body["data"][0]["details"]["id"].as_str().unwrap().to_owned()
    };
    let (s, b) = upload(&env, &tok, &format!("Accounts/{account}/photo"), "a.png", vec![1]);
    assert_eq!((s, b["code"].as_str()), (403, Some("NOT_SUPPORTED")));

    let r = delete(&env, &tok, &format!("Leads/{lead}/photo"), &[]);
    assert_eq!((r.status, r.body["message"].as_str()), (200, Some("photo deleted")));
    assert_eq!(raw(&env, &tok, &format!("Leads/{lead}/photo")).0, 204);
    let r = delete(&env, &tok, &format!("Leads/{lead}/photo"), &[]);
    assert_eq!((r.status, r.body["code"].as_str()), (400, Some("INVALID_DATA")));
    // Set through the XML face, read through v8.
    let form = Form::new()
        .text("authtoken", TOKEN)
        .text("scope", "crmapi")
        .text("id", lead.clone())
        .part("content", Part::bytes(vec![9, 9]).file_name("p.png"));
    env.http.post(env.url("Leads", "uploadPhoto")).multipart(form).send().unwrap();
    assert_eq!(raw(&env, &tok, &format!("Leads/{lead}/photo")), (200, vec![9, 9]));
}

fn rest_client(env: &Env, state: &std::path::Path) -> RestClient {
    let oauth = OAuthConfig {
        accounts_url: Endpoint::parse(env.emu.url()).unwrap(),
        client_id: super::rest::CLIENT.into(),
        client_secret: Secret::new(super::rest::SECRET),
        refresh_token: Secret::new(super::rest::REFRESH),
    };
    let cfg = RestConfig::new(
        Endpoint::parse(env.emu.url()).unwrap(),
        oauth,
        state.to_path_buf(),
        jiff::tz::TimeZone::get("Asia/Kolkata").unwrap(),
    );
    let ledger = LedgerConfig {
        org: "v8-actions".into(),
        consumer: "tests".into(),
        timezone: zcrm_client::budget::timezone("Asia/Kolkata").unwrap(),
        rule: BudgetRule::Fixed(100_000),
        share: 1.0,
    };
    let ledger = Arc::new(Ledger::open(&state.join("ledger.sqlite"), ledger).unwrap());
    RestClient::new(cfg, ledger).unwrap()
}

#[test]
fn zcrms_v8_client_relates_converts_and_attaches_against_the_emulator() {
    let env = start_v8(|_| {});
    let tok = token(&env);
    let state = tempfile::tempdir().unwrap();
    let client = rest_client(&env, state.path());
    let campaign = insert(&env, &tok, "Campaigns", json!({"Campaign_Name": "Client"}));
    let leads = env.insert_leads(2, "cli");

    let members = [zcrm_client::Relation {
        id: RecordId(leads[0]),
        fields: vec![("Member Status".into(), "Sent".into())],
    }];
    let done =
        client.relate("Campaigns", RecordId(campaign.parse().unwrap()), "Leads", &members).unwrap();
    assert_eq!(done.added, [RecordId(leads[0])]);
    let params = ReadParams {
        select: SelectColumns::fields("Leads", ["Last Name"]),
        window: Window::page(0),
        ..ReadParams::default()
    };
    let page =
        client.related("Leads", "Campaigns", RecordId(campaign.parse().unwrap()), &params).unwrap();
    assert_eq!(
        page.rows().map(|r| r.id("LEADID").unwrap()).collect::<Vec<_>>(),
        [RecordId(leads[0])]
    );
    let bad = [zcrm_client::Relation { id: RecordId(5), fields: Vec::new() }];
    assert!(
        client.relate("Campaigns", RecordId(campaign.parse().unwrap()), "Leads", &bad).is_err()
    );

    use zcrm_protocol::Value;
    let payload = zcrm_client::Conversion {
        potential: vec![
            ("Potential Name".into(), Value::Text("From lead".into())),
            ("Closing Date".into(), Value::Date(jiff::civil::date(2031, 6, 30))),
            ("Stage".into(), Value::Picklist("Qualification".into())),
            ("Amount".into(), Value::Decimal("1250.5".parse().unwrap())),
        ],
        assign_to: None,
        notify: false,
    };
    let conv = client.convert_lead(RecordId(leads[1]), &payload).unwrap();
    assert!(conv.potential.is_some());
    let v = get(&env, &tok, &format!("Leads/{}", leads[1]), &[]).body;
    assert_eq!(v["data"][0]["$converted_detail"]["contact"], conv.contact.to_string());
    let again = client.convert_lead(RecordId(leads[1]), &payload).unwrap_err();
    assert!(format!("{again}").contains("ID_ALREADY_CONVERTED"), "{again}");

    let file = FilePart { file_name: "c.txt", bytes: b"client".to_vec() };
    let up = client.attach("Leads", RecordId(leads[0]), &file).unwrap();
    let path = format!("Leads/{}/Attachments/{}", leads[0], up.detail.id);
    assert_eq!(raw(&env, &tok, &path), (200, b"client".to_vec()));
}
