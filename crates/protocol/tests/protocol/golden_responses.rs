//! Every response shape of docs/protocol.md, decoded from the fixture files.

use zcrm_protocol::response::misc::{
    ConvertResult, ModuleInfo, RelatedUpdateResult, StatusResult, UploadResult, User,
    decode_deleted_ids,
};
use zcrm_protocol::{
    ApiCode, Cell, FieldType, ModuleFields, RecordId, RecordsPage, ResponseError, Retry,
    RowOutcome, WriteResponse,
};

use crate::fixture;

#[test]
fn records_page_with_cdata_ids_and_entities() {
    let bytes = fixture("records_contacts.xml");
    let page = RecordsPage::decode(&bytes).unwrap();
    assert_eq!(page.module, "Contacts");
    assert!(!page.nodata);
    assert_eq!(page.len(), 2);
    let rows: Vec<_> = page.rows().collect();
    assert_eq!(rows[0].no(), 1);
    assert_eq!(rows[0].id("CONTACTID"), Some(RecordId(900000000000001)));
    assert_eq!(rows[0].text("Account Name"), Some("Acme & Sons <Ltd>"));
    assert_eq!(rows[0].text("Email Opt Out"), Some("false"));
    assert_eq!(rows[1].text("Last Name"), Some("O'Brien & Co"));
    assert_eq!(rows[1].get("Account Name"), None, "absent fields are absent");
    let labels: Vec<&str> = rows[0].fields().map(|(l, _)| l).collect();
    assert_eq!(labels[..4], ["CONTACTID", "SMOWNERID", "Contact Owner", "Last Name"]);
    // Labels are stored once per page.
    assert_eq!(page.labels.iter().filter(|l| &***l == "CONTACTID").count(), 1);
}

#[test]
fn records_page_newformat2_nulls_and_empty_values() {
    let bytes = fixture("records_nulls.xml");
    let page = RecordsPage::decode(&bytes).unwrap();
    let row = page.rows().next().unwrap();
    assert_eq!(row.get("Designation"), Some(&Cell::Null));
    assert_eq!(row.get("CAMPAIGNID"), Some(&Cell::Null));
    assert_eq!(row.text("Email"), Some(""));
    assert_eq!(row.text("Annual Revenue"), Some("0.0"));
    assert_eq!(row.text("Company"), Some("NiveSoft"));
}

#[test]
fn records_page_with_line_items() {
    let bytes = fixture("records_line_items.xml");
    let page = RecordsPage::decode(&bytes).unwrap();
    let row = page.rows().next().unwrap();
    let Some(Cell::LineItems(items)) = row.get("Product Details") else { panic!("no line items") };
    assert_eq!(items.len(), 2);
    assert_eq!(items[0][0], ("Product Id".to_owned(), Some("900000000000031".to_owned())));
    assert_eq!(items[1][2], ("Unit Price".to_owned(), Some("10.5".to_owned())));
    assert_eq!(row.text("Grand Total"), Some("79452.5"));
}

#[test]
fn nodata_is_an_empty_page_not_an_error() {
    let bytes = fixture("nodata.xml");
    let page = RecordsPage::decode(&bytes).unwrap();
    assert!(page.nodata);
    assert!(page.is_empty());
}

#[test]
fn error_envelope_is_a_typed_api_error() {
    let bytes = fixture("error_4600.xml");
    let Err(ResponseError::Api(err)) = RecordsPage::decode(&bytes) else {
        panic!("expected an API error")
    };
    assert_eq!(err.code, ApiCode::InvalidParameter);
    assert!(err.message.contains("\"id\" parameter"));
    assert_eq!(err.retry(), Retry::Never);

    let bytes = fixture("error_4421.xml");
    let Err(ResponseError::Api(err)) = RecordsPage::decode(&bytes) else {
        panic!("expected an API error")
    };
    assert_eq!(err.code, ApiCode::ApiLimitExceeded);
    assert_eq!(err.retry(), Retry::NextDay);
    // The same envelope through the tree-based decoders.
    assert!(
        matches!(WriteResponse::decode(&bytes), Err(ResponseError::Api(e)) if e.code == ApiCode::ApiLimitExceeded)
    );
}

#[test]
fn deprecated_method_refusal() {
    let bytes = fixture("refusal_deprecated.xml");
    let Err(ResponseError::Api(err)) = RecordsPage::decode(&bytes) else {
        panic!("expected a refusal")
    };
    assert_eq!(err.code, ApiCode::Refused);
    assert!(err.message.starts_with("Unable to process your request"));
    assert!(
        matches!(WriteResponse::decode(&bytes), Err(ResponseError::Api(e)) if e.code == ApiCode::Refused)
    );
}

#[test]
fn get_fields() {
    let bytes = fixture("fields_leads.xml");
    let m = ModuleFields::decode(&bytes).unwrap();
    assert_eq!(m.module, "Leads");
    assert_eq!(m.sections.len(), 2);
    assert_eq!(m.sections[0].name, "Lead Information");
    let company = m.field("Company").unwrap();
    assert!(company.required);
    assert_eq!(company.max_length, Some(100));
    assert_eq!(company.field_type, FieldType::Text);
    // Lookup by display label when the label differs.
    assert_eq!(m.field("Title").unwrap().label, "Designation");
    let source = m.field("Lead Source").unwrap();
    assert_eq!(source.field_type, FieldType::PickList);
    assert_eq!(source.picklist, ["-None-", "Advertisement", "Cold Call"]);
    let revenue = m.field("Annual Revenue").unwrap();
    assert_eq!(revenue.field_type, FieldType::Currency);
    assert_eq!(revenue.default_format.as_deref(), Some("$0.00"));
    let interests = m.field("Interests").unwrap();
    assert_eq!(interests.field_type, FieldType::MultiPickList);
    assert!(interests.custom);
    assert_eq!(m.field("Campaign Source").unwrap().lookup_module.as_deref(), Some("Campaigns"));
    assert!(m.field("Created Time").unwrap().read_only);
    // Unknown type strings are kept, never a failure.
    assert_eq!(m.field("Notes Rich").unwrap().field_type, FieldType::Unknown("Rich Text".into()));
    assert_eq!(m.lookups().count(), 2);
    assert_eq!(m.fields().count(), 10);
}

#[test]
fn insert_single_record() {
    let bytes = fixture("insert_single.xml");
    let WriteResponse::Single { message, details } = WriteResponse::decode(&bytes).unwrap() else {
        panic!()
    };
    assert_eq!(message, "Record(s) added successfully");
    assert_eq!(details.len(), 1);
    assert_eq!(details[0].id, RecordId(900000000000010));
    assert_eq!(details[0].get("Created Time"), Some("2015-04-15 07:39:49"));
    assert_eq!(details[0].get("Modified By"), Some("Ann Owner"));
}

#[test]
fn insert_v4_rows_out_of_order_with_duplicate_and_error() {
    let bytes = fixture("insert_v4_rows.xml");
    let WriteResponse::Rows(rows) = WriteResponse::decode(&bytes).unwrap() else { panic!() };
    assert_eq!(rows.iter().map(|r| r.no).collect::<Vec<_>>(), [1, 2, 3], "sorted by row no");
    assert!(matches!(&rows[0].outcome, RowOutcome::Added(d) if d.id == RecordId(900000000000011)));
    let RowOutcome::Failed(err) = &rows[1].outcome else { panic!() };
    assert_eq!(err.code, ApiCode::MandatoryFieldMissingRow);
    assert_eq!(err.message, "Mandatory Field Missing : Last Name");
    assert!(
        matches!(&rows[2].outcome, RowOutcome::Duplicate(d) if d.id == RecordId(900000000000005))
    );
    assert_eq!(rows[2].outcome.code(), "2002");
}

#[test]
fn update_v4_rows() {
    let bytes = fixture("update_v4_rows.xml");
    let WriteResponse::Rows(rows) = WriteResponse::decode(&bytes).unwrap() else { panic!() };
    assert!(
        matches!(&rows[0].outcome, RowOutcome::Updated(d) if d.get("Modified Time") == Some("2015-05-20 08:00:00"))
    );
    assert!(
        matches!(&rows[1].outcome, RowOutcome::Failed(e) if e.code == ApiCode::InvalidRecordId)
    );
    assert!(
        matches!(&rows[2].outcome, RowOutcome::Failed(e) if e.code == ApiCode::NoEditPermission)
    );
}

#[test]
fn delete_and_file_status() {
    let del = StatusResult::decode(&fixture("delete_5000.xml")).unwrap();
    assert_eq!(del.code, "5000");
    assert!(del.message.ends_with("Record(s) deleted successfully"));
    let file = StatusResult::decode(&fixture("delete_file.xml")).unwrap();
    assert_eq!(file.code, "4800");
    let photo = StatusResult::decode(&fixture("upload_photo.xml")).unwrap();
    assert_eq!(photo.message, "Photo uploaded succuessfully");
}

#[test]
fn deleted_ids() {
    let ids = decode_deleted_ids(&fixture("deleted_ids.xml")).unwrap();
    assert_eq!(
        ids,
        [RecordId(900000000000011), RecordId(900000000000012), RecordId(900000000000013)]
    );
    assert!(decode_deleted_ids(&fixture("deleted_ids_empty.xml")).unwrap().is_empty());
}

#[test]
fn convert_lead() {
    let c = ConvertResult::decode(&fixture("convert_lead.xml")).unwrap();
    assert_eq!(c.contact, RecordId(900000000000041));
    assert_eq!(c.potential, Some(RecordId(900000000000042)));
    assert_eq!(c.account, RecordId(900000000000043));
    let c = ConvertResult::decode(&fixture("convert_lead_no_potential.xml")).unwrap();
    assert_eq!(c.potential, None);
}

#[test]
fn upload_file() {
    let u = UploadResult::decode(&fixture("upload_file.xml")).unwrap();
    assert_eq!(u.message, "File has been attached successfully");
    assert_eq!(u.detail.id, RecordId(900000000000051));
}

#[test]
fn users_and_modules() {
    let users = User::decode_list(&fixture("users.xml")).unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(users[0].name, "Ann Owner");
    assert_eq!(users[0].email, "ann@example.com");
    assert_eq!(users[0].attr("profile"), Some("Administrator"));
    assert_eq!(users[1].attr("status"), Some("deactive"));
    assert!(User::decode_list(&fixture("users_nodata.xml")).unwrap().is_empty());

    let modules = ModuleInfo::decode_list(&fixture("modules.xml")).unwrap();
    assert_eq!(modules[1].api_name, "CustomModule1");
    assert_eq!(modules[1].plural, "Registrations");
    assert_eq!(modules[1].kind, 4);
}

#[test]
fn related_update() {
    let r = RelatedUpdateResult::decode(&fixture("related_update.xml")).unwrap();
    assert_eq!(r.added, [RecordId(900000000000001), RecordId(900000000000004)]);
    assert!(r.updated.is_empty());
}

#[test]
fn precheck_counts_rows_and_reports_errors_and_cut_bodies_like_decode() {
    use zcrm_protocol::response::records::precheck_records;
    for name in ["records_contacts.xml", "records_nulls.xml", "records_line_items.xml"] {
        let body = fixture(name);
        let page = RecordsPage::decode(&body).unwrap();
        assert_eq!(precheck_records(&body).unwrap(), page.len(), "{name}");
        // A body cut anywhere is a decode error, as for the full decoder.
        let cut = &body[..body.len() * 2 / 3];
        assert!(
            matches!(precheck_records(cut), Err(zcrm_protocol::ResponseError::Decode(_))),
            "{name} cut short"
        );
    }
    assert_eq!(precheck_records(&fixture("nodata.xml")).unwrap(), 0);
    for name in ["error_4600.xml", "error_4421.xml"] {
        let err = precheck_records(&fixture(name)).unwrap_err();
        let full = RecordsPage::decode(&fixture(name)).unwrap_err();
        assert_eq!(err.to_string(), full.to_string(), "{name}");
    }
}
