use super::harness::*;

#[test]
fn get_records_paging_sorting_select_and_formats() {
    let env = start();
    let ids = env.insert_leads(450, "pg");
    let p1 = page(&env.get("Leads", "getRecords", &[("fromIndex", "1"), ("toIndex", "200")]));
    assert_eq!(p1.len(), 200);
    assert_eq!(p1.rows().next().unwrap().id("LEADID"), Some(zcrm_protocol::RecordId(ids[0])));
    assert_eq!(p1.rows().next().unwrap().no(), 1);
    let p3 = page(&env.get("Leads", "getRecords", &[("fromIndex", "401"), ("toIndex", "600")]));
    assert_eq!(p3.len(), 50);
    let past = env.get("Leads", "getRecords", &[("fromIndex", "601"), ("toIndex", "800")]);
    assert!(page(&past).nodata);
    // Default window is 1..20.
    assert_eq!(page(&env.get("Leads", "getRecords", &[])).len(), 20);
    // Sort by a label, descending.
    let d = page(&env.get(
        "Leads",
        "getRecords",
        &[("sortColumnString", "Last Name"), ("sortOrderString", "desc"), ("toIndex", "1")],
    ));
    assert_eq!(d.rows().next().unwrap().text("Last Name"), Some("pg00449"));
    // selectColumns: the id always comes back.
    let s =
        env.get("Leads", "getRecords", &[("selectColumns", "Leads(Last Name)"), ("toIndex", "1")]);
    let sp = page(&s);
    let labels: Vec<_> = sp.rows().next().unwrap().fields().map(|(l, _)| l.to_owned()).collect();
    assert_eq!(labels, ["LEADID", "Last Name"]);
    // Ids bare, other values CDATA.
    let raw = env.get("Leads", "getRecords", &[("toIndex", "1")]);
    assert!(raw.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\r\n"), "{raw}");
    assert!(raw.contains(&format!("<FL val=\"LEADID\">{}</FL>", ids[0])));
    assert!(raw.contains("<FL val=\"Company\"><![CDATA[Acme]]></FL>"));
    assert!(raw.contains("<response uri=\"/crm/private/xml/Leads/getRecords\">"));
    // newFormat=2 lists nulls; version=1 has Campaign Source, version=2 does not.
    let nf2 = env.get("Leads", "getRecords", &[("toIndex", "1"), ("newFormat", "2")]);
    assert!(nf2.contains("<FL val=\"Phone\"><![CDATA[null]]></FL>"), "{nf2}");
    assert!(nf2.contains("<FL val=\"Campaign Source\"><![CDATA[null]]></FL>"));
    let nf2v2 =
        env.get("Leads", "getRecords", &[("toIndex", "1"), ("newFormat", "2"), ("version", "2")]);
    assert!(!nf2v2.contains("Campaign Source"));
    let nf1 = env.get("Leads", "getRecords", &[("toIndex", "1")]);
    assert!(!nf1.contains("null"));
}

#[test]
fn last_modified_time_is_inclusive_and_stable_paging() {
    let env = start();
    env.insert_leads(5, "a");
    let p = page(&env.get("Leads", "getRecords", &[("toIndex", "1")]));
    let t = p.rows().next().unwrap().text("Modified Time").unwrap().to_owned();
    let since = page(&env.get(
        "Leads",
        "getRecords",
        &[("lastModifiedTime", &t), ("sortColumnString", "Modified Time"), ("toIndex", "200")],
    ));
    assert_eq!(since.len(), 5);
    let none = env.get("Leads", "getRecords", &[("lastModifiedTime", "2999-01-01 00:00:00")]);
    assert!(page(&none).nodata);
    // getMyRecords: everything belongs to the token's user.
    assert_eq!(page(&env.get("Leads", "getMyRecords", &[("toIndex", "200")])).len(), 5);
}

#[test]
fn get_record_by_id_unknown_is_nodata_and_idlist_omits() {
    let env = start();
    let ids = env.insert_leads(2, "id");
    assert!(page(&env.get("Leads", "getRecordById", &[("id", "900000000888888")])).nodata);
    let list = format!("{};900000000888888;{}", ids[1], ids[0]);
    let p = page(&env.get("Leads", "getRecordById", &[("idlist", &list)]));
    assert_eq!(p.len(), 2);
    assert_eq!(p.rows().next().unwrap().id("LEADID").unwrap().0, ids[1]);
    // A lead is not a contact.
    assert!(page(&env.get("Contacts", "getRecordById", &[("id", &ids[0].to_string())])).nodata);
}

#[test]
fn get_fields_shapes() {
    let env = start();
    let body = env.get("Leads", "getFields", &[]);
    let f = zcrm_protocol::ModuleFields::decode(body.as_bytes()).unwrap();
    assert_eq!(f.module, "Leads");
    let last = f.field("Last Name").unwrap();
    assert!(last.required);
    assert_eq!(f.field("Designation").unwrap().display_label, "Title");
    assert!(f.field("Lead Source").unwrap().picklist.len() > 3);
    assert!(f.field("Campaign Source").is_some());
    let v2 = zcrm_protocol::ModuleFields::decode(
        env.get("Leads", "getFields", &[("version", "2")]).as_bytes(),
    )
    .unwrap();
    assert!(v2.field("Campaign Source").is_none());
    let req = zcrm_protocol::ModuleFields::decode(
        env.get("Leads", "getFields", &[("type", "2")]).as_bytes(),
    )
    .unwrap();
    assert!(req.fields().all(|(_, f)| f.required));
    let acc = zcrm_protocol::ModuleFields::decode(env.get("Contacts", "getFields", &[]).as_bytes())
        .unwrap();
    assert_eq!(acc.field("Account Name").unwrap().lookup_module.as_deref(), Some("Accounts"));
    for m in [
        "Leads",
        "Contacts",
        "Accounts",
        "Potentials",
        "Campaigns",
        "Tasks",
        "Events",
        "Calls",
        "Products",
        "Cases",
        "Solutions",
        "Vendors",
        "Quotes",
        "SalesOrders",
        "PurchaseOrders",
        "Invoices",
    ] {
        let b = env.get(m, "getFields", &[]);
        zcrm_protocol::ModuleFields::decode(b.as_bytes()).unwrap_or_else(|e| panic!("{m}: {e}"));
    }
}

#[test]
fn json_twin() {
    let env = start();
    env.insert_leads(1, "js");
    let url = format!("{}/crm/private/json/Leads/getRecords", env.emu.url());
    let r = env.http.get(url).query(&[("authtoken", TOKEN), ("scope", "crmapi")]).send().unwrap();
    assert_eq!(r.headers()["content-type"], "application/jsonp;charset=utf-8");
    let v: serde_json::Value = r.json().unwrap();
    assert_eq!(v["response"]["uri"], "/crm/private/json/Leads/getRecords");
    assert_eq!(v["response"]["result"]["Leads"]["row"]["no"], "1");
    let xml = env
        .http
        .get(env.url("Leads", "getRecords"))
        .query(&[("authtoken", TOKEN), ("scope", "crmapi")])
        .send()
        .unwrap();
    assert_eq!(xml.headers()["content-type"], "text/xml;charset=utf-8");
}
