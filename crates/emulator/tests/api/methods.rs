use super::harness::*;
use zcrm_protocol::response::misc::{
    ConvertResult, ModuleInfo, RelatedUpdateResult, StatusResult, UploadResult, User,
};

#[test]
fn searches() {
    let env = start();
    env.insert_leads(30, "srch");
    let p = page(&env.get("Leads", "searchRecords", &[("criteria", "(Last Name:srch00012)")]));
    assert_eq!(p.len(), 1);
    let p = page(&env.get(
        "Leads",
        "searchRecords",
        &[("criteria", "((Last Name:srch0001*)OR(Email:srch3@example.com))"), ("toIndex", "200")],
    ));
    assert_eq!(p.len(), 11);
    assert_eq!(code_of(&env.get("Leads", "searchRecords", &[("criteria", "(:x)")])), "4832");
    let p = page(&env.get(
        "Leads",
        "getSearchRecords",
        &[
            ("selectColumns", "Leads(Last Name)"),
            ("searchCondition", "(Last Name|starts with|srch0002*)"),
        ],
    ));
    assert_eq!(p.len(), 10);
    assert_eq!(
        code_of(&env.get("Leads", "getSearchRecords", &[("searchCondition", "(Last Name|=|x)")])),
        "4831"
    );
    let p = page(&env.get(
        "Leads",
        "getSearchRecordsByPDC",
        &[
            ("selectColumns", "All"),
            ("searchColumn", "email"),
            ("searchValue", "SRCH5@example.com"),
        ],
    ));
    assert_eq!(p.len(), 1);
    assert_eq!(
        page(&env.get("Leads", "getCVRecords", &[("cvName", "All Leads"), ("toIndex", "200")]))
            .len(),
        30
    );
    assert_eq!(code_of(&env.get("Leads", "getCVRecords", &[("cvName", "Nope")])), "4600");
}

#[test]
fn related_records_of_campaigns() {
    let env = start();
    let ids = env.insert_leads(2, "rel");
    let c = env.post(
        "Campaigns",
        "insertRecords",
        &[
            ("version", "4"),
            (
                "xmlData",
                "<Campaigns><row no=\"1\"><FL val=\"Campaign Name\">Spring</FL></row></Campaigns>",
            ),
        ],
    );
    let cid = match zcrm_protocol::WriteResponse::decode(c.as_bytes()).unwrap() {
        zcrm_protocol::WriteResponse::Rows(r) => r[0].outcome.detail().unwrap().id.to_string(),
        o => panic!("{o:?}"),
    };
    let xml = format!(
        "<Leads><row no=\"1\"><FL val=\"LEADID\">{}</FL><FL val=\"member_status\">Sent</FL></row></Leads>",
        ids[0]
    );
    let body = env.post(
        "Campaigns",
        "updateRelatedRecords",
        &[("id", &cid), ("relatedModule", "Leads"), ("xmlData", &xml)],
    );
    let r = RelatedUpdateResult::decode(body.as_bytes()).unwrap();
    assert_eq!(r.added, [zcrm_protocol::RecordId(ids[0])]);
    let again = RelatedUpdateResult::decode(
        env.post(
            "Campaigns",
            "updateRelatedRecords",
            &[("id", &cid), ("relatedModule", "Leads"), ("xmlData", &xml)],
        )
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(again.updated.len(), 1);
    let p = page(&env.get(
        "Leads",
        "getRelatedRecords",
        &[("parentModule", "Campaigns"), ("id", &cid)],
    ));
    assert_eq!(p.len(), 1);
}

#[test]
fn convert_lead() {
    let env = start();
    let xml = "<Leads><row no=\"1\"><FL val=\"Last Name\">Conv</FL><FL val=\"First Name\">Ert</FL><FL val=\"Company\">ConvCo</FL><FL val=\"Email\">c@x.com</FL></row></Leads>";
    let body = env.post("Leads", "insertRecords", &[("version", "4"), ("xmlData", xml)]);
    let lead = match zcrm_protocol::WriteResponse::decode(body.as_bytes()).unwrap() {
        zcrm_protocol::WriteResponse::Rows(r) => r[0].outcome.detail().unwrap().id.to_string(),
        o => panic!("{o:?}"),
    };
    let data = "<Potentials><row no=\"1\"><option val=\"createPotential\">true</option><option val=\"assignTo\">ann.owner@example.com</option></row>\
        <row no=\"2\"><FL val=\"Potential Name\">Big deal</FL><FL val=\"Closing Date\">12/31/2030</FL><FL val=\"Stage\">Qualification</FL></row></Potentials>";
    let out = env.post("Leads", "convertLead", &[("leadId", &lead), ("xmlData", data)]);
    let r = ConvertResult::decode(out.as_bytes()).unwrap();
    assert!(r.potential.is_some());
    assert!(out.contains("<success>") && !out.contains("<response"));
    let counts = env.emu.record_counts();
    assert_eq!(
        (counts.get("Leads"), counts["Contacts"], counts["Accounts"], counts["Potentials"]),
        (None, 1, 1, 1)
    );
    let pot =
        page(&env.get("Potentials", "getRecordById", &[("id", &r.potential.unwrap().to_string())]));
    assert_eq!(pot.rows().next().unwrap().text("Closing Date"), Some("2030-12-31"));
    assert_eq!(pot.rows().next().unwrap().text("Account Name"), Some("ConvCo"));
    assert_eq!(code_of(&env.post("Leads", "convertLead", &[("leadId", &lead)])), "4600");
}

#[test]
fn files_and_photos() {
    let env = start();
    let ids = env.insert_leads(1, "file");
    let id = ids[0].to_string();
    let form = reqwest::blocking::multipart::Form::new()
        .text("authtoken", TOKEN)
        .text("scope", "crmapi")
        .text("id", id.clone())
        .part(
            "content",
            reqwest::blocking::multipart::Part::bytes(b"hello file".to_vec()).file_name("a.txt"),
        );
    let body = env
        .http
        .post(env.url("Leads", "uploadFile"))
        .multipart(form)
        .send()
        .unwrap()
        .text()
        .unwrap();
    let up = UploadResult::decode(body.as_bytes()).unwrap();
    let aid = up.detail.id.to_string();
    let bytes = env
        .http
        .get(env.url("Leads", "downloadFile"))
        .query(&[("authtoken", TOKEN), ("scope", "crmapi"), ("id", &aid)])
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    assert_eq!(&bytes[..], b"hello file");
    let del =
        StatusResult::decode(env.get("Leads", "deleteFile", &[("id", &aid)]).as_bytes()).unwrap();
    assert_eq!(del.code, "4800");
    // Oversized photo → 4807.
    let big = vec![0u8; 2 * 1024 * 1024 + 1];
    let form = reqwest::blocking::multipart::Form::new()
        .text("authtoken", TOKEN)
        .text("scope", "crmapi")
        .text("id", id.clone())
        .part("content", reqwest::blocking::multipart::Part::bytes(big).file_name("p.png"));
    let body = env
        .http
        .post(env.url("Leads", "uploadPhoto"))
        .multipart(form)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(code_of(&body), "4807");
    let form = reqwest::blocking::multipart::Form::new()
        .text("authtoken", TOKEN)
        .text("scope", "crmapi")
        .text("id", id.clone())
        .part(
            "content",
            reqwest::blocking::multipart::Part::bytes(vec![1, 2, 3]).file_name("p.png"),
        );
    let body = env
        .http
        .post(env.url("Leads", "uploadPhoto"))
        .multipart(form)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(body.contains("Photo uploaded succuessfully"), "{body}");
    let photo = env
        .http
        .get(env.url("Leads", "downloadPhoto"))
        .query(&[("authtoken", TOKEN), ("scope", "crmapi"), ("id", &id)])
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    assert_eq!(&photo[..], &[1, 2, 3]);
    assert_eq!(
        StatusResult::decode(env.get("Leads", "deletePhoto", &[("id", &id)]).as_bytes())
            .unwrap()
            .code,
        "4800"
    );
    assert_eq!(code_of(&env.get("Accounts", "deletePhoto", &[("id", &id)])), "4600");
}

#[test]
fn users_and_modules() {
    let env = start();
    let users = User::decode_list(env.get("Users", "getUsers", &[("type", "AllUsers")]).as_bytes())
        .unwrap();
    assert_eq!(users.len(), 3);
    let active =
        User::decode_list(env.get("Users", "getUsers", &[("type", "ActiveUsers")]).as_bytes())
            .unwrap();
    assert_eq!(active.len(), 2);
    assert_eq!(code_of(&env.get("Users", "getUsers", &[])), "4831");
    let mods = ModuleInfo::decode_list(env.get("Info", "getModules", &[]).as_bytes()).unwrap();
    assert!(mods.iter().any(|m| m.api_name == "SalesOrders"));
}

#[test]
fn schema_file_custom_module_and_field() {
    let env = start_with(|c| {
        let p = c.data_dir.join("schema.toml");
        std::fs::create_dir_all(&c.data_dir).unwrap();
        std::fs::write(
            &p,
            "[[module]]\nname = \"CustomModule1\"\nplural = \"Registrations\"\nsingular = \"Registration\"\n\n\
             [[field]]\nmodule = \"Leads\"\nlabel = \"Legacy Id\"\ntype = \"Integer\"\nrequired = true\n\n\
             [[field]]\nmodule = \"CustomModule1\"\nlabel = \"Account\"\ntype = \"Lookup\"\nlookup = \"Accounts\"\n",
        )
        .unwrap();
        c.schema = Some(p);
    });
    let f =
        zcrm_protocol::ModuleFields::decode(env.get("Leads", "getFields", &[]).as_bytes()).unwrap();
    assert!(f.field("Legacy Id").unwrap().custom);
    let body = env.post("Leads", "insertRecords", &[("version", "4"), ("xmlData", "<Leads><row no=\"1\"><FL val=\"Last Name\">A</FL><FL val=\"Company\">B</FL></row></Leads>")]);
    assert!(body.contains("Mandatory Field Missing : Legacy Id"), "{body}");
    let body = env.post("CustomModule1", "insertRecords", &[("version", "4"), ("xmlData", "<CustomModule1><row no=\"1\"><FL val=\"CustomModule1 Name\">R1</FL></row></CustomModule1>")]);
    assert!(body.contains("<code>2000</code>"), "{body}");
    let p = page(&env.get("CustomModule1", "getRecords", &[]));
    assert!(p.rows().next().unwrap().id("CUSTOMMODULE1_ID").is_some());
}

#[test]
fn seed_demo_fills_related_modules() {
    let env = start_with(|c| c.seed_demo = true);
    let counts = env.emu.record_counts();
    assert_eq!(counts["Accounts"], 300);
    assert_eq!(counts["Contacts"], 1200);
    assert_eq!(counts["Potentials"], 600);
    assert_eq!(counts["Leads"], 1500);
    let p = page(&env.get("Contacts", "getRecords", &[("toIndex", "1")]));
    assert!(p.rows().next().unwrap().text("ACCOUNTID").is_some());
}
