//! Request building: xmlData bodies and the parameters of every method, read back as the
//! server reads them.

use std::collections::HashMap;

use jiff::civil::date;
use zcrm_protocol::params::{
    ApiVersion, Criteria, DuplicateCheck, FieldsFilter, IdSelection, NewFormat, ReadParams,
    SearchCondition, SearchOp, SelectColumns, Sort, SortOrder, UserType, Window, WriteParams,
};
use zcrm_protocol::{
    EncodeError, Method, ParamError, RecordId, Request, Value, XmlDataBuilder, decode_xml_data,
};

fn as_map(pairs: &[(&'static str, String)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

#[test]
fn xml_data_golden() {
    let mut b = XmlDataBuilder::new("Leads", 100);
    assert_eq!(
        b.push_row([("Last Name", "Doe"), ("Company", "Acme & Sons"), ("Email", "jd@example.com")])
            .unwrap(),
        1
    );
    assert_eq!(
        b.push_row([
            ("Last Name", "Roe"),
            ("Company", "R&R <Ltd> \"q\" 'a'"),
            ("Description", "line1\r\nline2\ttab")
        ])
        .unwrap(),
        2
    );
    let xml = b.finish().unwrap();
    assert_eq!(
        xml,
        concat!(
            "<Leads>",
            "<row no=\"1\"><FL val=\"Last Name\">Doe</FL><FL val=\"Company\">Acme &amp; Sons</FL><FL val=\"Email\">jd@example.com</FL></row>",
            "<row no=\"2\"><FL val=\"Last Name\">Roe</FL><FL val=\"Company\">R&amp;R &lt;Ltd&gt; \"q\" 'a'</FL>",
            "<FL val=\"Description\">line1&#13;\nline2\ttab</FL></row>",
            "</Leads>"
        )
    );
    let back = decode_xml_data(&xml).unwrap();
    assert_eq!(back.module, "Leads");
    assert_eq!(back.rows[1].no, 2);
    assert_eq!(back.rows[1].get("Company"), Some("R&R <Ltd> \"q\" 'a'"));
    assert_eq!(back.rows[1].get("Description"), Some("line1\r\nline2\ttab"));
}

#[test]
fn labels_are_escaped_in_attributes() {
    let mut b = XmlDataBuilder::new("Leads", 100);
    b.push_row([("A \"quoted\" & <odd>\nlabel", "v")]).unwrap();
    let xml = b.finish().unwrap();
    assert!(xml.contains("val=\"A &quot;quoted&quot; &amp; &lt;odd&gt;&#10;label\""), "{xml}");
    assert_eq!(decode_xml_data(&xml).unwrap().rows[0].fields[0].0, "A \"quoted\" & <odd>\nlabel");
}

#[test]
fn invalid_xml_characters_are_refused_and_the_payload_is_unchanged() {
    let mut b = XmlDataBuilder::new("Leads", 100);
    b.push_row([("Last Name", "Good")]).unwrap();
    let before = b.len();
    let err = b.push_row([("Last Name", "ok"), ("Company", "bad\u{1}byte")]).unwrap_err();
    assert_eq!(err, EncodeError::InvalidXmlChar { field: "Company".into(), code: 1, position: 3 });
    assert_eq!(b.len(), before, "a refused row leaves nothing behind");
    assert_eq!(b.rows(), 1);
    for bad in ["\u{0}", "\u{1b}[31m", "\u{FFFE}", "\u{FFFF}", "a\u{8}"] {
        assert!(
            matches!(b.push_row([("X", bad)]), Err(EncodeError::InvalidXmlChar { .. })),
            "{bad:?}"
        );
    }
    // Allowed: tab, newline, astral and private-use characters.
    b.push_row([("X", "\t\n😀\u{E000}\u{FFFD}")]).unwrap();
    assert_eq!(b.push_row([("X", "y")]).unwrap(), 3, "numbering continues without gaps");
}

#[test]
fn row_limits() {
    let mut b = XmlDataBuilder::new("Leads", 2);
    b.push_row([("A", "1")]).unwrap();
    b.push_row([("A", "2")]).unwrap();
    assert_eq!(b.push_row([("A", "3")]), Err(EncodeError::TooManyRows { rows: 3, limit: 2 }));
    assert_eq!(XmlDataBuilder::new("Leads", 100).finish(), Err(EncodeError::NoRows));
}

#[test]
fn typed_values_use_the_input_forms() {
    let mut b = XmlDataBuilder::new("Potentials", 100);
    let closing = Value::Date(date(2024, 3, 31));
    let amount = Value::Decimal(rust_decimal::Decimal::new(1050, 2));
    let multi = Value::MultiPicklist(vec!["A".into(), "B".into()]);
    let account = Value::Id(RecordId(900000000000003));
    b.push_values([
        ("Closing Date", &closing),
        ("Amount", &amount),
        ("Tags", &multi),
        ("ACCOUNTID", &account),
    ])
    .unwrap();
    let xml = b.finish().unwrap();
    assert!(xml.contains("<FL val=\"Closing Date\">03/31/2024</FL><FL val=\"Amount\">10.50</FL><FL val=\"Tags\">A;B</FL><FL val=\"ACCOUNTID\">900000000000003</FL>"), "{xml}");
}

#[test]
fn line_items_and_convert_options() {
    let mut b = XmlDataBuilder::new("SalesOrders", 100);
    b.push_row_with_products(
        [("Subject", "SO-1")],
        &[vec![("Product Id", "900000000000031"), ("Quantity", "2")]],
    )
    .unwrap();
    let back = decode_xml_data(&b.finish().unwrap()).unwrap();
    assert_eq!(
        back.rows[0].products,
        vec![vec![
            ("Product Id".to_owned(), "900000000000031".to_owned()),
            ("Quantity".to_owned(), "2".to_owned())
        ]]
    );
    assert_eq!(back.rows[0].get("Subject"), Some("SO-1"));

    let mut b = XmlDataBuilder::new("Potentials", 100);
    b.push_options([("createPotential", "true"), ("assignTo", "ann@example.com")]).unwrap();
    b.push_row([("Potential Name", "Deal"), ("Closing Date", "03/31/2024")]).unwrap();
    let back = decode_xml_data(&b.finish().unwrap()).unwrap();
    assert_eq!(back.rows[0].options[0], ("createPotential".to_owned(), "true".to_owned()));
    assert_eq!(back.rows[1].get("Potential Name"), Some("Deal"));
}

#[test]
fn read_params_golden_and_read_back() {
    let p = ReadParams {
        select: SelectColumns::fields("Leads", ["Last Name", "Email"]),
        window: Window::page(2),
        sort: Some(Sort::asc("Modified Time")),
        last_modified: Some(date(2024, 1, 2).at(3, 4, 5, 0)),
        new_format: NewFormat::WithNulls,
        version: ApiVersion::V2,
    };
    let pairs = p.to_pairs().unwrap();
    let expect: Vec<(&str, &str)> = vec![
        ("selectColumns", "Leads(Last Name,Email)"),
        ("fromIndex", "401"),
        ("toIndex", "600"),
        ("sortColumnString", "Modified Time"),
        ("sortOrderString", "asc"),
        ("lastModifiedTime", "2024-01-02 03:04:05"),
        ("newFormat", "2"),
        ("version", "2"),
    ];
    assert_eq!(pairs.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>(), expect);
    assert_eq!(ReadParams::read(&as_map(&pairs), "Leads").unwrap(), p);
    // Server-side defaults.
    let d = ReadParams::read(&HashMap::new(), "Leads").unwrap();
    assert_eq!(
        (d.window, d.new_format, d.version, d.select),
        (Window { from: 1, to: 20 }, NewFormat::OmitNulls, ApiVersion::V1, SelectColumns::All)
    );
}

#[test]
fn windows_follow_contract_decision_1() {
    assert_eq!(Window::page(0), Window { from: 1, to: 200 });
    assert!(Window::new(1, 200).is_ok());
    assert!(Window::new(1, 201).is_err(), "201 rows");
    assert!(Window::new(10, 9).is_err(), "inverted");
    assert!(Window::new(0, 5).is_err(), "fromIndex starts at 1");
    let m: HashMap<String, String> = [("fromIndex".into(), "abc".into())].into();
    assert!(matches!(Window::read(&m), Err(ParamError::Invalid { name: "fromIndex", .. })));
    let m: HashMap<String, String> = [("fromIndex".into(), "101".into())].into();
    assert_eq!(Window::read(&m).unwrap(), Window { from: 101, to: 120 });
}

#[test]
fn select_columns_syntax() {
    assert_eq!(SelectColumns::All.to_param().unwrap(), "All");
    assert_eq!(
        SelectColumns::parse("leads(Last Name, Company)", "Leads").unwrap(),
        SelectColumns::fields("leads", ["Last Name", "Company"])
    );
    assert!(SelectColumns::parse("Contacts(Last Name)", "Leads").is_err());
    assert!(SelectColumns::parse("Leads(Last Name", "Leads").is_err());
    assert!(SelectColumns::fields("Leads", ["A,B"]).to_param().is_err());
    assert!(SelectColumns::fields("Leads", ["A"]).includes("A"));
}

#[test]
fn write_params() {
    let p = WriteParams {
        wf_trigger: true,
        duplicate_check: Some(DuplicateCheck::Update),
        is_approval: true,
        ..WriteParams::multi_row()
    };
    let pairs = p.to_pairs();
    assert_eq!(
        pairs.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>(),
        [
            ("wfTrigger", "true"),
            ("duplicateCheck", "2"),
            ("isApproval", "true"),
            ("newFormat", "1"),
            ("version", "4")
        ]
    );
    assert_eq!(WriteParams::read(&as_map(&pairs)).unwrap(), p);
    let m: HashMap<String, String> = [("duplicateCheck".into(), "3".into())].into();
    assert!(WriteParams::read(&m).is_err());
}

#[test]
fn every_method_builds_its_request() {
    let p = ReadParams::default();
    let id = RecordId(900000000000001);
    let requests = [
        Request::get_fields("Leads", FieldsFilter::Mandatory),
        Request::get_records("Leads", &p).unwrap(),
        Request::get_my_records("Leads", &p).unwrap(),
        Request::get_record_by_id("Leads", &IdSelection::List(vec![id, RecordId(2)]), &p).unwrap(),
        Request::get_deleted_record_ids(
            "Leads",
            Window::page(0),
            Some(date(2024, 1, 1).at(0, 0, 0, 0)),
        ),
        Request::search_records("Leads", &Criteria::eq("Last Name", "Steve"), &p).unwrap(),
        Request::get_search_records(
            "Leads",
            &SearchCondition { field: "Last Name".into(), op: SearchOp::Eq, value: "Drake".into() },
            &p,
        )
        .unwrap(),
        Request::get_search_records_by_pdc("Leads", "email", "a@b.c", &p).unwrap(),
        Request::get_cv_records("Leads", "All Open Leads", &p).unwrap(),
        Request::get_related_records("Leads", "Campaigns", id, &p).unwrap(),
        Request::update_related_records("Campaigns", id, "Leads", "<Leads/>".into()),
        Request::insert_records("Leads", "<Leads/>".into(), &WriteParams::multi_row()),
        Request::update_records("Leads", Some(id), "<Leads/>".into(), &WriteParams::default()),
        Request::delete_records("Leads", id),
        Request::convert_lead(id, "<Potentials/>".into()),
        Request::upload_file("Leads", id, None),
        Request::by_id(Method::DownloadFile, "Leads", id),
        Request::by_id(Method::DeleteFile, "Leads", id),
        Request::by_id(Method::UploadPhoto, "Leads", id),
        Request::by_id(Method::DownloadPhoto, "Leads", id),
        Request::by_id(Method::DeletePhoto, "Leads", id),
        Request::get_users(UserType::ActiveUsers),
        Request::get_modules(true),
    ];
    let methods: std::collections::BTreeSet<Method> = requests.iter().map(|r| r.method).collect();
    assert_eq!(methods.len(), Method::ALL.len(), "one request per method");
    let by_id = &requests[3];
    assert_eq!(by_id.params[0], ("idlist", "900000000000001;2".to_owned()));
    assert_eq!(
        IdSelection::read(&as_map(&by_id.params), 100).unwrap(),
        IdSelection::List(vec![id, RecordId(2)])
    );
    assert_eq!(requests[5].params[0].1, "(Last Name:Steve)");
    assert_eq!(requests[6].params[0].1, "(Last Name|=|Drake)");
    assert_eq!(requests[21].path(zcrm_protocol::Format::Xml), "/crm/private/xml/Users/getUsers");
    assert!(IdSelection::List((0..101).map(RecordId).collect()).to_pair().is_err());
}

#[test]
fn criteria_grammar() {
    let text = "(((Last Name:Steve)AND(Company:Zillum))OR(Lead Status:Contacted))";
    let c = Criteria::parse(text).unwrap();
    assert_eq!(c.to_string(), text);
    assert_eq!(c.atoms(), 3);
    let rec = |field: &str| match field {
        "Last Name" => Some("steve".to_owned()),
        "Company" => Some("Zillum Inc".to_owned()),
        _ => None,
    };
    assert!(!c.matches(&rec));
    assert!(Criteria::parse("((Last Name:Steve)AND(Company:Zil*))").unwrap().matches(&rec));
    assert!(Criteria::parse("(:x)").is_err(), "empty field name");
    assert!(Criteria::parse("((A:1)AND(B:2)OR(C:3))").is_err(), "mixed operators");
    assert!(
        Criteria::parse("((A:1)AND(B:2)AND(C:3)AND(D:4)AND(E:5)AND(F:6))").is_err(),
        "at most 5"
    );
    assert!(Criteria::parse("(A:1").is_err());
    let s = SearchCondition::parse("(Email|contains|*@example.com*)").unwrap();
    assert_eq!((s.op, s.value.as_str()), (SearchOp::Contains, "*@example.com*"));
    assert!(SearchCondition::parse("(Email|like|x)").is_err());
    assert_eq!(SortOrder::default(), SortOrder::Asc);
}
