//! Typed values, modules, methods, limits and error codes.

use jiff::civil::date;
use rust_decimal::Decimal;
use zcrm_protocol::limits::{
    MAX_READ_ROWS, MAX_WRITE_ROWS, SEARCH_CV_DAILY_CAP, check_write_batch,
};
use zcrm_protocol::method::{DEPRECATED_METHODS, UnknownMethod};
use zcrm_protocol::{
    ApiCode, BudgetRule, Direction, Edition, FieldType, Format, Method, MethodClass, Module,
    RecordId, Retry, Value,
};

#[test]
fn date_forms_differ_by_direction() {
    let d = Value::Date(date(2024, 3, 31));
    assert_eq!(d.to_text(Direction::Input).unwrap(), "03/31/2024");
    assert_eq!(d.to_text(Direction::Output).unwrap(), "2024-03-31");
    assert_eq!(Value::parse(&FieldType::Date, "03/31/2024", Direction::Input).unwrap(), d);
    assert_eq!(Value::parse(&FieldType::Date, "2024-03-31", Direction::Input).unwrap(), d);
    assert!(Value::parse(&FieldType::Date, "03/31/2024", Direction::Output).is_err());
    assert!(Value::parse(&FieldType::Date, "2024-02-30", Direction::Input).is_err());
}

#[test]
fn datetime_form() {
    let v = Value::parse(&FieldType::DateTime, "2015-04-15 07:39:49", Direction::Output).unwrap();
    assert_eq!(v, Value::DateTime(date(2015, 4, 15).at(7, 39, 49, 0)));
    assert_eq!(v.to_text(Direction::Input).unwrap(), "2015-04-15 07:39:49");
    assert!(Value::parse(&FieldType::DateTime, "2015-04-15T07:39:49", Direction::Input).is_err());
    assert!(Value::parse(&FieldType::DateTime, "2015-04-15 25:00:00", Direction::Input).is_err());
}

#[test]
fn decimals_are_exact() {
    let v = Value::parse(&FieldType::Currency, "1234.50", Direction::Input).unwrap();
    assert_eq!(v, Value::Decimal(Decimal::new(123450, 2)));
    assert_eq!(v.to_text(Direction::Output).unwrap(), "1234.50");
    let v = Value::parse(&FieldType::Double, "0.1", Direction::Input).unwrap();
    assert_eq!(v.to_text(Direction::Output).unwrap(), "0.1");
    for bad in ["1e5", "1,000", "", ".", "12.3.4", "abc", "NaN"] {
        assert!(Value::parse(&FieldType::Currency, bad, Direction::Input).is_err(), "{bad}");
    }
}

#[test]
fn integers_booleans_ids_and_picklists() {
    assert_eq!(
        Value::parse(&FieldType::Integer, "-42", Direction::Input).unwrap(),
        Value::Integer(-42)
    );
    assert!(
        Value::parse(&FieldType::Integer, "3000000000", Direction::Input).is_err(),
        "Integer is 32-bit"
    );
    assert_eq!(
        Value::parse(&FieldType::LongInteger, "3000000000", Direction::Input).unwrap(),
        Value::Integer(3_000_000_000)
    );
    assert!(Value::parse(&FieldType::Integer, "4.0", Direction::Input).is_err());
    assert_eq!(
        Value::parse(&FieldType::Boolean, "TRUE", Direction::Input).unwrap(),
        Value::Boolean(true)
    );
    assert!(Value::parse(&FieldType::Boolean, "yes", Direction::Input).is_err());
    assert_eq!(Value::parse_id("900000000000001").unwrap(), Value::Id(RecordId(900000000000001)));
    assert!(Value::parse_id("bogus123").is_err());
    let multi = Value::parse(&FieldType::MultiPickList, "CRM; ERP;", Direction::Input).unwrap();
    assert_eq!(multi, Value::MultiPicklist(vec!["CRM".into(), "ERP".into()]));
    assert_eq!(multi.to_text(Direction::Input).unwrap(), "CRM;ERP");
    assert!(Value::MultiPicklist(vec!["a;b".into()]).to_text(Direction::Input).is_err());
    assert_eq!(
        Value::parse(&FieldType::Unknown("Rich Text".into()), "x", Direction::Input).unwrap(),
        Value::Text("x".into())
    );
}

#[test]
fn field_type_strings_round_trip() {
    for t in FieldType::KNOWN {
        assert_eq!(FieldType::parse(t.as_str()), t);
    }
    assert_eq!(FieldType::parse("Multi Pick List"), FieldType::MultiPickList);
}

#[test]
fn modules() {
    for m in zcrm_protocol::module::STANDARD_MODULES {
        assert_eq!(m.api_name().parse::<Module>().unwrap(), m);
    }
    assert_eq!("CustomModule3".parse::<Module>().unwrap(), Module::Custom(3));
    assert_eq!(Module::Custom(3).id_field(), "CUSTOMMODULE3_ID");
    assert!("CustomModule0".parse::<Module>().is_err());
    assert!("leads".parse::<Module>().is_err(), "API names are case-sensitive");
    assert_eq!(Module::Leads.id_field(), "LEADID");
    assert_eq!(Module::Calls.id_field(), "ACTIVITYID");
    assert_eq!(Module::Accounts.duplicate_check_field(), Some("Account Name"));
    assert_eq!(Module::Tasks.duplicate_check_field(), None);
    assert_eq!(Module::SalesOrders.singular(), "Sales Order");
}

#[test]
fn methods_and_paths() {
    for m in Method::ALL {
        assert_eq!(m.name().parse::<Method>().unwrap(), *m);
    }
    assert_eq!(Method::GetRecords.path(Format::Xml, "Leads"), "/crm/private/xml/Leads/getRecords");
    assert_eq!(Method::GetUsers.path(Format::Json, "ignored"), "/crm/private/json/Users/getUsers");
    assert_eq!(Method::GetModules.path(Format::Xml, ""), "/crm/private/xml/Info/getModules");
    assert_eq!(Method::GetCvRecords.class(), MethodClass::SearchCv);
    assert_eq!(Method::GetSearchRecords.class(), MethodClass::SearchCv);
    assert_eq!(Method::SearchRecords.class(), MethodClass::General);
    assert!(Method::InsertRecords.is_write() && !Method::GetRecords.is_write());
    for old in DEPRECATED_METHODS {
        assert!(matches!(old.parse::<Method>(), Err(UnknownMethod::Deprecated(_))));
    }
    assert!(matches!("getLeads".parse::<Method>(), Err(UnknownMethod::Unknown(_))));
}

#[test]
fn edition_budgets_follow_the_seed_table() {
    assert_eq!(Edition::Free.daily_budget(1), 250);
    assert_eq!(Edition::Free.daily_budget(100), 250);
    assert_eq!(Edition::Standard.daily_budget(1), 1_000);
    assert_eq!(Edition::Standard.daily_budget(10), 2_500);
    assert_eq!(Edition::Standard.daily_budget(100), 5_000);
    assert_eq!(Edition::Professional.daily_budget(3), 2_000);
    assert_eq!(Edition::Professional.daily_budget(10), 2_500);
    assert_eq!(Edition::Professional.daily_budget(1_000), 10_000);
    assert_eq!(Edition::Enterprise.daily_budget(1), 3_000);
    assert_eq!(Edition::Enterprise.daily_budget(10), 5_000);
    assert_eq!(Edition::Enterprise.daily_budget(u32::MAX), 25_000);
    assert_eq!(BudgetRule::Fixed(7_777).daily_budget(), 7_777);
    assert_eq!(
        BudgetRule::Edition { edition: Edition::Professional, licenses: 10 }.daily_budget(),
        2_500
    );
    assert_eq!("Enterprise".parse::<Edition>().unwrap(), Edition::Enterprise);
    assert!("gold".parse::<Edition>().is_err());
    assert_eq!((MAX_READ_ROWS, MAX_WRITE_ROWS, SEARCH_CV_DAILY_CAP), (200, 200, 250));
    assert!(check_write_batch(100).is_ok() && check_write_batch(200).is_ok());
    assert!(check_write_batch(201).is_err() && check_write_batch(0).is_err());
}

#[test]
fn error_codes_round_trip_and_classify() {
    let documented = [
        "4000", "4001", "401", "401.1", "401.2", "401.3", "4101", "4102", "4103", "4401", "4420",
        "4421", "4422", "4423", "4424", "4425", "4487", "4500", "4501", "4502", "4600", "4807",
        "4809", "4820", "4831", "4832", "4834", "4835", "4890", "4891",
    ];
    for code in documented {
        let parsed = ApiCode::parse(code);
        assert!(!matches!(parsed, ApiCode::Other(_)), "{code} is documented");
        assert_eq!(parsed.as_str(), code);
    }
    assert_eq!(ApiCode::parse("9999"), ApiCode::Other("9999".into()));
    assert_eq!(ApiCode::parse("4820").retry(), Retry::AfterBackoff);
    assert_eq!(ApiCode::parse("4500").retry(), Retry::AfterBackoff);
    assert_eq!(ApiCode::parse("4421").retry(), Retry::NextDay);
    assert_eq!(ApiCode::parse("4423").retry(), Retry::NextDay);
    assert_eq!(ApiCode::parse("4832").retry(), Retry::Never);
    assert_eq!(ApiCode::parse("4834").retry(), Retry::Never);
}
