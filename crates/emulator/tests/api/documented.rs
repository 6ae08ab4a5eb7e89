//! Behaviour Zoho documents, or was recorded answering, that the emulator must reproduce
//! (issue 15, items 3 and 9 to 14).

use super::harness::*;
use zcrm_protocol::response::misc::{StatusResult, User};
use zcrm_protocol::{ModuleFields, RecordId, WriteResponse};

/// Inserts one record (version=4) and returns its id.
fn insert(env: &Env, module: &str, fields: &[(&str, &str)]) -> String {
    let mut row = String::new();
    for (k, v) in fields {
        row.push_str(&format!("<FL val=\"{k}\"><![CDATA[{v}]]></FL>"));
    }
    let xml = format!("<{module}><row no=\"1\">{row}</row></{module}>");
    let body = env.post(module, "insertRecords", &[("version", "4"), ("xmlData", &xml)]);
    match WriteResponse::decode(body.as_bytes()).unwrap() {
        WriteResponse::Rows(r) => {
            r[0].outcome.detail().unwrap_or_else(|| panic!("row failed: {body}")).id.to_string()
        }
        o => panic!("{o:?}"),
    }
}

const OPT_OUT_FALSE: &str = "<FL val=\"Email Opt Out\"><![CDATA[false]]></FL>";

/// The labels of the first row of a page, in order.
fn labels(body: &str) -> Vec<String> {
    let p = page(body);
    let row = p.rows().next().unwrap_or_else(|| panic!("no row in {body}"));
    row.fields().map(|(l, _)| l.to_owned()).collect()
}

#[test]
fn unset_booleans_read_back_false_in_every_read_method() {
    let env = start();
    let lead =
        insert(&env, "Leads", &[("Last Name", "Bool"), ("Company", "B Co"), ("Skype ID", "bsk")]);
    let set = insert(
        &env,
        "Leads",
        &[("Last Name", "Set"), ("Company", "S Co"), ("Email Opt Out", "true")],
    );
    let by_id = |nf: &str| env.get("Leads", "getRecordById", &[("id", &lead), ("newFormat", nf)]);
    for nf in ["1", "2"] {
        let body = by_id(nf);
        assert!(body.contains(OPT_OUT_FALSE), "newFormat={nf}: {body}");
        // In layout order: after Rating's place, before Skype ID.
        let l = labels(&body);
        let at = |x: &str| l.iter().position(|y| y == x).unwrap_or_else(|| panic!("{x} in {l:?}"));
        assert!(
            at("Company") < at("Email Opt Out") && at("Email Opt Out") < at("Skype ID"),
            "{l:?}"
        );
    }
    let set_body = env.get("Leads", "getRecordById", &[("id", &set)]);
    assert!(set_body.contains("<FL val=\"Email Opt Out\"><![CDATA[true]]></FL>"), "{set_body}");
    // A selection without the field does not get it.
    let sel =
        env.get("Leads", "getRecordById", &[("id", &lead), ("selectColumns", "Leads(Last Name)")]);
    assert_eq!(labels(&sel), ["LEADID", "Last Name"]);

    let all = [("toIndex", "200")];
    let reads: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("getRecords", all.to_vec()),
        ("getMyRecords", all.to_vec()),
        ("searchRecords", vec![("criteria", "(Last Name:Bool)")]),
        (
            "getSearchRecords",
            vec![("selectColumns", "All"), ("searchCondition", "(Last Name|=|Bool)")],
        ),
        (
            "getSearchRecordsByPDC",
            vec![("selectColumns", "All"), ("searchColumn", "leadid"), ("searchValue", &lead)],
        ),
        ("getCVRecords", vec![("cvName", "All Open Leads")]),
    ];
    for (method, params) in &reads {
        for nf in ["1", "2"] {
            let mut p = params.clone();
            p.push(("newFormat", nf));
            let body = env.get("Leads", method, &p);
            assert!(body.contains(OPT_OUT_FALSE), "{method} newFormat={nf}: {body}");
        }
    }
    // Related records: the lead as a member of a campaign.
    let camp = insert(&env, "Campaigns", &[("Campaign Name", "Spring")]);
    let xml = format!("<Leads><row no=\"1\"><FL val=\"LEADID\">{lead}</FL></row></Leads>");
    env.post(
        "Campaigns",
        "updateRelatedRecords",
        &[("id", &camp), ("relatedModule", "Leads"), ("xmlData", &xml)],
    );
    let rel =
        env.get("Leads", "getRelatedRecords", &[("parentModule", "Campaigns"), ("id", &camp)]);
    assert!(rel.contains(OPT_OUT_FALSE), "{rel}");
    // Searching for false finds the lead that never set it.
    let s = page(&env.get("Leads", "searchRecords", &[("criteria", "(Email Opt Out:false)")]));
    assert_eq!(s.len(), 1);
    assert_eq!(s.rows().next().unwrap().id("LEADID"), Some(RecordId(lead.parse().unwrap())));
    // Every standard Boolean, e.g. Products' "Product Active" and "Taxable".
    let product = insert(&env, "Products", &[("Product Name", "Widget")]);
    let body = env.get("Products", "getRecordById", &[("id", &product)]);
    for label in ["Product Active", "Taxable"] {
        assert!(body.contains(&format!("<FL val=\"{label}\"><![CDATA[false]]></FL>")), "{body}");
    }
}

#[test]
fn convert_lead_accepts_the_documented_sample() {
    let env = start();
    let lead = insert(&env, "Leads", &[("Last Name", "Doc"), ("Company", "Sample Co")]);
    // The xmlData of Zoho's convertLead page, verbatim.
    let data = "<Potentials><row no=\"1\"><option val=\"createPotential\">true</option>\
        <option val=\"assignTo\">sample@zoho.com</option><option val=\"notifyLeadOwner\">true</option>\
        <option val=\"notifyNewEntityOwner\">true</option></row><row no=\"2\">\
        <FL val=\"Potential Name\">Samplepotential</FL><FL val=\"Closing Date\">12/21/2009</FL>\
        <FL val=\"Potential Stage\">Closed Won</FL><FL val=\"Contact Role\">Purchasing</FL>\
        <FL val=\"Amount\">3432.23</FL><FL val=\"Probability\">100</FL></row></Potentials>";
    let out = env.post("Leads", "convertLead", &[("leadId", &lead), ("xmlData", data)]);
    let r = zcrm_protocol::response::misc::ConvertResult::decode(out.as_bytes())
        .unwrap_or_else(|e| panic!("{e}: {out}"));
    let pot = page(&env.get(
        "Potentials",
        "getRecordById",
        &[("id", &r.potential.expect("a potential").to_string())],
    ));
    let row = pot.rows().next().unwrap();
    assert_eq!(row.text("Stage"), Some("Closed Won"));
    assert_eq!(row.text("Potential Name"), Some("Samplepotential"));
    assert_eq!(row.text("Closing Date"), Some("2009-12-21"));
    assert_eq!(row.text("Amount"), Some("3432.23"));
    // The current label keeps working, and a stage given under neither label is still missing.
    let lead2 = insert(&env, "Leads", &[("Last Name", "Cur"), ("Company", "Cur Co")]);
    let cur = data.replace("Potential Stage", "Stage");
    let out = env.post("Leads", "convertLead", &[("leadId", &lead2), ("xmlData", &cur)]);
    assert!(out.contains("<Potential"), "{out}");
    let lead3 = insert(&env, "Leads", &[("Last Name", "None"), ("Company", "None Co")]);
    let none = data.replace("<FL val=\"Potential Stage\">Closed Won</FL>", "");
    let out = env.post("Leads", "convertLead", &[("leadId", &lead3), ("xmlData", &none)]);
    assert!(out.contains("Mandatory Field Missing : Stage"), "{out}");
}

#[test]
fn notes_inserted_with_entity_id_are_linked_to_their_parent() {
    let env = start();
    let lead = insert(
        &env,
        "Leads",
        &[("Last Name", "Noted"), ("First Name", "Ann"), ("Company", "N Co")],
    );
    // The documented way: entityId names the parent.
    let note = insert(
        &env,
        "Notes",
        &[("entityId", &lead), ("Note Title", "Zoho CRM Sample Note"), ("Note Content", "Sample")],
    );
    let rel =
        page(&env.get("Notes", "getRelatedRecords", &[("parentModule", "Leads"), ("id", &lead)]));
    assert_eq!(rel.len(), 1, "the lead's notes");
    assert_eq!(rel.rows().next().unwrap().id("NOTESID"), Some(RecordId(note.parse().unwrap())));
    let got = page(&env.get("Notes", "getRecordById", &[("id", &note)]));
    let row = got.rows().next().unwrap();
    assert_eq!(row.text("SEID"), Some(lead.as_str()));
    assert_eq!(row.text("SEMODULE"), Some("Leads"));
    assert_eq!(row.text("Parent Name"), Some("Ann Noted"));
    // rubyzoho upper-cases every label containing "id": ENTITYID links too.
    insert(&env, "Notes", &[("ENTITYID", &lead), ("Note Content", "Upper")]);
    let rel =
        page(&env.get("Notes", "getRelatedRecords", &[("parentModule", "Leads"), ("id", &lead)]));
    assert_eq!(rel.len(), 2);
    // An entityId that names no record fails its row, naming the field as sent.
    let xml = "<Notes><row no=\"1\"><FL val=\"entityId\">900000000777777</FL><FL val=\"Note Content\">x</FL></row></Notes>";
    let body = env.post("Notes", "insertRecords", &[("version", "4"), ("xmlData", xml)]);
    assert!(body.contains("You have given a wrong value for the field : entityId"), "{body}");
}

#[test]
fn delete_records_takes_an_idlist() {
    let env = start();
    let ids = env.insert_leads(3, "del");
    let list = format!("{};{}", ids[0], ids[1]);
    let body = env.post("Leads", "deleteRecords", &[("idlist", &list)]);
    let r = StatusResult::decode(body.as_bytes()).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(r.code, "5000", "{body}");
    assert_eq!(r.message, format!("Record Id(s) : {list},Record(s) deleted successfully"));
    for id in &ids[..2] {
        assert!(page(&env.get("Leads", "getRecordById", &[("id", &id.to_string())])).nodata);
    }
    assert!(!page(&env.get("Leads", "getRecordById", &[("id", &ids[2].to_string())])).nodata);
    let deleted = env.get("Leads", "getDeletedRecordIds", &[]);
    assert!(deleted.contains(&ids[0].to_string()) && deleted.contains(&ids[1].to_string()));
    // Ids already gone are answered 5000 too, as for id=.
    let again = env.get("Leads", "deleteRecords", &[("idlist", &list)]);
    assert_eq!(code_of(&again), "ok", "{again}");
    assert!(again.contains("<code>5000</code>"), "{again}");
    // A malformed list is the recorded 4600 naming the parameter.
    let bad = env.get("Leads", "deleteRecords", &[("idlist", "1;bogus")]);
    assert_eq!(code_of(&bad), "4600");
    assert!(bad.contains("\"idlist\""), "{bad}");
    let many =
        (0..101).map(|i| (900_000_000_000_000_u64 + i).to_string()).collect::<Vec<_>>().join(";");
    assert_eq!(code_of(&env.get("Leads", "deleteRecords", &[("idlist", &many)])), "4600");
}

#[test]
fn criteria_with_a_field_the_module_lacks_is_4832() {
    let env = start();
    env.insert_leads(2, "crit");
    let recorded =
        "API call cannot be completed as the Criteria parameter contains empty field name";
    for criteria in [
        "((Em|ail:charles.xavier@twg.ca))",
        "(Em|ail:x)",
        "(Emial:crit0@example.com)",
        "((Last Name:crit00000)OR(Nope:y))",
    ] {
        let body = env.get("Leads", "searchRecords", &[("criteria", criteria)]);
        assert_eq!(code_of(&body), "4832", "{criteria}: {body}");
        assert!(body.contains(recorded), "{criteria}: {body}");
    }
    // A display label stands for its field (Leads' "Designation" is shown as "Title").
    insert(&env, "Leads", &[("Last Name", "Dv"), ("Company", "D"), ("Designation", "CTO")]);
    assert_eq!(page(&env.get("Leads", "searchRecords", &[("criteria", "(Title:CTO)")])).len(), 1);
    // Labels, id columns and the module's id field are fields.
    for criteria in
        ["(Email:crit0@example.com)", "(SMOWNERID:1)", "(LEADID:1)", "(Lead Owner:Ann*)"]
    {
        let body = env.get("Leads", "searchRecords", &[("criteria", criteria)]);
        assert_ne!(code_of(&body), "4832", "{criteria}: {body}");
    }
}

#[test]
fn standard_picklists_hold_zohos_default_values() {
    let env = start();
    let leads = ModuleFields::decode(env.get("Leads", "getFields", &[]).as_bytes()).unwrap();
    let options = |f: &ModuleFields, label: &str| f.field(label).unwrap().picklist.clone();
    let source = options(&leads, "Lead Source");
    for v in [
        "Seminar Partner",
        "Internal Seminar",
        "Online Store",
        "Sales Email Alias",
        "Web Research",
        "Chat",
    ] {
        assert!(source.iter().any(|o| o == v), "Lead Source lacks {v:?}: {source:?}");
    }
    assert!(options(&leads, "Lead Status").iter().any(|o| o == "Pre-Qualified"));
    assert!(options(&leads, "Industry").iter().any(|o| o == "ASP (Application Service Provider)"));
    let contacts = ModuleFields::decode(env.get("Contacts", "getFields", &[]).as_bytes()).unwrap();
    assert!(options(&contacts, "Lead Source").iter().any(|o| o == "Seminar Partner"));
    let pots = ModuleFields::decode(env.get("Potentials", "getFields", &[]).as_bytes()).unwrap();
    assert!(options(&pots, "Stage").iter().any(|o| o == "Identify Decision Makers"));
    assert!(options(&pots, "Lead Source").iter().any(|o| o == "Web Research"));
}

#[test]
fn get_users_carries_the_address_and_phone_attributes() {
    let env = start();
    let body = env.get("Users", "getUsers", &[("type", "AllUsers")]);
    let users = User::decode_list(body.as_bytes()).unwrap();
    for u in &users {
        for a in ["phone", "mobile", "fax", "website", "street", "city", "state", "zip", "country"]
        {
            assert_eq!(u.attr(a), Some("null"), "{a} of {}: {body}", u.name);
        }
    }
}

#[test]
fn media_types_are_case_insensitive() {
    let env = start();
    let xml = "<Leads><row no=\"1\"><FL val=\"Last Name\">Case</FL><FL val=\"Company\">C</FL></row></Leads>";
    let form = format!(
        "authtoken={TOKEN}&scope=crmapi&version=4&xmlData={}",
        xml.replace('<', "%3C").replace('>', "%3E").replace('"', "%22").replace(' ', "+")
    );
    for ct in
        ["Application/x-www-form-urlencoded", "APPLICATION/X-WWW-FORM-URLENCODED; charset=UTF-8"]
    {
        let r = env
            .http
            .post(env.url("Leads", "insertRecords"))
            .header("Content-Type", ct)
            .body(form.clone())
            .send()
            .unwrap();
        let body = r.text().unwrap();
        assert!(body.contains("<code>2000</code>"), "{ct}: {body}");
    }
    // multipart/form-data in another case: the boundary itself stays case-sensitive.
    let lead = insert(&env, "Leads", &[("Last Name", "Up"), ("Company", "U")]);
    let boundary = "XyZBoundary42";
    let mut mp = String::new();
    for (k, v) in [("authtoken", TOKEN), ("scope", "crmapi"), ("id", lead.as_str())] {
        mp.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    mp.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"a.txt\"\r\n\
         Content-Type: text/plain\r\n\r\nhello\r\n--{boundary}--\r\n"
    ));
    let r = env
        .http
        .post(env.url("Leads", "uploadFile"))
        .header("Content-Type", format!("Multipart/Form-Data; boundary={boundary}"))
        .body(mp)
        .send()
        .unwrap();
    let body = r.text().unwrap();
    assert!(body.contains("File has been attached successfully"), "{body}");
}
