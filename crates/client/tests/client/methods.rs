//! Every API method through the client, against the emulator.

use zcrm_client::{ClientError, FilePart};
use zcrm_protocol::params::{
    Criteria, IdSelection, ReadParams, SelectColumns, UserType, Window, WriteParams,
};
use zcrm_protocol::{ApiCode, Method, RecordId, RowOutcome, WriteResponse, XmlDataBuilder};

use crate::{client, emulator};

fn insert_leads(c: &zcrm_client::Client, names: &[&str]) -> Vec<RecordId> {
    let mut b = XmlDataBuilder::new("Leads", 100);
    for n in names {
        b.push_row([
            ("Last Name", *n),
            ("Company", "Acme & Sons"),
            ("Email", &format!("{}@example.com", n.to_lowercase())),
        ])
        .unwrap();
    }
    let WriteResponse::Rows(rows) =
        c.insert_records("Leads", b.finish().unwrap(), &WriteParams::multi_row()).unwrap()
    else {
        panic!("version=4 answers per row")
    };
    rows.iter().map(|r| r.outcome.detail().expect("row created").id).collect()
}

#[test]
fn fields_records_and_writes_round_trip() {
    let env = emulator(|c| c);
    let c = client(&env);
    let fields = c.get_fields("Leads").unwrap();
    assert!(fields.field("Last Name").is_some_and(|f| f.required));

    let ids = insert_leads(&c, &["Doe", "Roe", "Poe"]);
    assert_eq!(ids.len(), 3);
    let page = c
        .get_records_owned(
            "Leads",
            &ReadParams { window: Window::page(0), ..ReadParams::default() },
        )
        .unwrap();
    assert_eq!(page.len(), 3);
    let names: Vec<&str> = page.rows().filter_map(|r| r.text("Last Name")).collect();
    assert_eq!(names, ["Doe", "Roe", "Poe"]);
    assert_eq!(page.rows().next().unwrap().text("Company"), Some("Acme & Sons"));

    let one =
        c.get_record_by_id("Leads", &IdSelection::One(ids[1]), &ReadParams::default()).unwrap();
    assert_eq!(one.rows().next().unwrap().text("Last Name"), Some("Roe"));
    let two = c
        .get_record_by_id(
            "Leads",
            &IdSelection::List(vec![ids[0], ids[2], RecordId(1)]),
            &ReadParams::default(),
        )
        .unwrap();
    assert_eq!(two.len(), 2, "unknown ids are omitted");

    let mut b = XmlDataBuilder::new("Leads", 100);
    let id_text = ids[0].to_string();
    b.push_row([("Id", id_text.as_str()), ("Company", "Globex")]).unwrap();
    let WriteResponse::Rows(rows) =
        c.update_records("Leads", None, b.finish().unwrap(), &WriteParams::multi_row()).unwrap()
    else {
        panic!()
    };
    assert!(matches!(rows[0].outcome, RowOutcome::Updated(_)));

    let selected = c
        .get_records_owned(
            "Leads",
            &ReadParams {
                select: SelectColumns::fields("Leads", ["Company"]),
                window: Window::page(0),
                ..ReadParams::default()
            },
        )
        .unwrap();
    let first = selected.rows().next().unwrap();
    assert_eq!(first.text("Company"), Some("Globex"));
    assert_eq!(first.text("Last Name"), None, "only selected columns (and the id) come back");
    assert_eq!(first.id("LEADID"), Some(ids[0]));

    let del = c.delete_record("Leads", ids[2]).unwrap();
    assert_eq!(del.code, "5000");
    let deleted = c.get_deleted_record_ids("Leads", Window::page(0), None).unwrap();
    assert_eq!(deleted, [ids[2]]);
    assert_eq!(
        c.get_records_owned(
            "Leads",
            &ReadParams { window: Window::page(0), ..ReadParams::default() }
        )
        .unwrap()
        .len(),
        2
    );

    let found = c
        .search_records("Leads", &Criteria::eq("Last Name", "Roe"), &ReadParams::default())
        .unwrap();
    assert_eq!(found.len(), 1);
    let none = c
        .search_records("Leads", &Criteria::eq("Last Name", "Nobody"), &ReadParams::default())
        .unwrap();
    assert!(none.nodata && none.is_empty(), "nodata is an empty page");
}

#[test]
fn api_errors_are_typed_and_not_retried() {
    let env = emulator(|c| c);
    let c = client(&env);
    let before = env.emu.calls_today();
    let err = c.get_records_owned(
        "Leads",
        &ReadParams {
            window: zcrm_protocol::params::Window { from: 1, to: 500 },
            ..ReadParams::default()
        },
    );
    // The client checks the window itself: nothing is sent.
    assert!(matches!(err, Err(ClientError::InvalidRequest { .. })), "{err:?}");
    assert_eq!(env.emu.calls_today(), before);

    let err = c.get_fields("NoSuchModule").unwrap_err();
    assert!(
        matches!(&err, ClientError::Api { error, .. } if error.code == ApiCode::InvalidParameter),
        "{err}"
    );
    assert_eq!(env.emu.calls_today(), before + 1, "a 4600 is not retried");
}

#[test]
fn users_modules_files_and_convert() {
    let env = emulator(|c| c);
    let c = client(&env);
    assert!(!c.get_users(UserType::AllUsers).unwrap().is_empty());
    let modules = c.get_modules(true).unwrap();
    assert!(modules.iter().any(|m| m.api_name == "Leads"));

    let ids = insert_leads(&c, &["Files"]);
    let up = c
        .upload_file(
            "Leads",
            ids[0],
            &FilePart { file_name: "notes.txt", bytes: b"hello & goodbye".to_vec() },
        )
        .unwrap();
    let back = c.download(Method::DownloadFile, "Leads", up.detail.id).unwrap();
    assert_eq!(back, b"hello & goodbye");
    assert_eq!(
        c.delete_attachment(Method::DeleteFile, "Leads", up.detail.id).unwrap().code,
        "4800"
    );

    let mut x = XmlDataBuilder::new("Potentials", 100);
    x.push_options([("createPotential", "false")]).unwrap();
    let conv = c.convert_lead(ids[0], x.finish().unwrap()).unwrap();
    assert_eq!(conv.potential, None);
    let contact = c
        .get_record_by_id("Contacts", &IdSelection::One(conv.contact), &ReadParams::default())
        .unwrap();
    assert_eq!(contact.rows().next().unwrap().text("Last Name"), Some("Files"));
}
