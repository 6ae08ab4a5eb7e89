//! The XML→JSON conversion of docs/protocol.md §3.6.

use serde_json::json;
use zcrm_protocol::json::xml_to_json;

use crate::fixture;

#[test]
fn single_row_is_an_object_and_many_fls_an_array() {
    let xml = br#"<?xml version="1.0" encoding="UTF-8" ?>
<response uri="/crm/private/json/Leads/getRecordById"><result><Leads><row no="1"><FL val="LEADID">123</FL><FL val="Company"><![CDATA[Acme]]></FL></row></Leads></result></response>"#;
    let v = xml_to_json(xml).unwrap();
    assert_eq!(
        v,
        json!({"response": {"result": {"Leads": {"row": {"no": "1", "FL": [
            {"content": "123", "val": "LEADID"},
            {"content": "Acme", "val": "Company"}
        ]}}}, "uri": "/crm/private/json/Leads/getRecordById"}})
    );
    // Keys come out sorted, as the recorded bodies show ("content" before "val", "result" before "uri").
    let text = v.to_string();
    assert!(text.find("\"result\"").unwrap() < text.find("\"uri\"").unwrap());
}

#[test]
fn several_rows_are_an_array() {
    let v = xml_to_json(&fixture("records_contacts.xml")).unwrap();
    let rows = &v["response"]["result"]["Contacts"]["row"];
    assert!(rows.is_array());
    assert_eq!(rows[1]["FL"][3], json!({"content": "O'Brien & Co", "val": "Last Name"}));
}

#[test]
fn error_and_nodata_and_empty_elements() {
    let v = xml_to_json(&fixture("error_4600.xml")).unwrap();
    assert_eq!(v["response"]["error"]["code"], json!("4600"));
    let v = xml_to_json(&fixture("nodata.xml")).unwrap();
    assert_eq!(v["response"]["nodata"]["message"], json!("There is no data to show"));
    // An empty element without attributes is `true`, as getDeletedRecordIds answered past the end.
    let v = xml_to_json(&fixture("deleted_ids_empty.xml")).unwrap();
    assert_eq!(v["response"]["result"]["DeletedIDs"], json!(true));
}

#[test]
fn hostile_input_is_refused() {
    assert!(xml_to_json(&fixture("hostile_billion_laughs.xml")).is_err());
}
