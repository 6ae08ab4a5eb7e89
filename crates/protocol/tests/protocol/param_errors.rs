//! Parameter reading shared by client and emulator: the API error each parameter problem maps
//! to, `newFormat`/`version` as the server reads them, and getSearchRecords condition matching.

use std::collections::HashMap;

use zcrm_protocol::messages;
use zcrm_protocol::params::{
    ApiVersion, Criteria, NewFormat, ReadParams, SearchCondition, WriteParams, required,
    required_id,
};
use zcrm_protocol::{ApiCode, ParamError};

fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[test]
fn missing_parameter_is_4831() {
    let e = required(&params(&[]), "criteria").unwrap_err();
    let api = e.api_error();
    assert_eq!(api.code, ApiCode::MissingParameters);
    assert_eq!(api.message, "Missing parameter : criteria");
}

#[test]
fn malformed_criteria_is_4832_with_the_recorded_message() {
    let api = Criteria::parse("(:x)").unwrap_err().api_error();
    assert_eq!(api.code, ApiCode::WrongValue);
    assert_eq!(
        api.message,
        "API call cannot be completed as the Criteria parameter contains empty field name"
    );
    let other = Criteria::parse("Last Name:x").unwrap_err().api_error();
    assert_eq!(other.code, ApiCode::WrongValue);
    assert!(other.message.starts_with("API call cannot be completed as the Criteria parameter"));
}

#[test]
fn bad_id_is_4600_with_the_recorded_message() {
    let api = required_id(&params(&[("id", "bogus123")]), "id").unwrap_err().api_error();
    assert_eq!(api.code, ApiCode::InvalidParameter);
    assert_eq!(api.message, messages::invalid_parameter("id"));
    assert_eq!(
        api.message,
        "Unable to process your request. Please verify if the name and value is appropriate for the \"id\" parameter."
    );
}

#[test]
fn other_invalid_values_are_4600_naming_the_parameter() {
    let e = ParamError::invalid("toIndex", "500", "a window holds at most 200 records");
    let api = zcrm_protocol::ApiError::from(e);
    assert_eq!(api.code, ApiCode::InvalidParameter);
    assert!(api.message.contains("for the \"toIndex\" parameter (a window holds at most 200"));
}

#[test]
fn version_and_new_format_are_read_strictly() {
    assert_eq!(ApiVersion::read(&params(&[])).unwrap(), ApiVersion::V1);
    assert_eq!(ApiVersion::read(&params(&[("version", "2")])).unwrap(), ApiVersion::V2);
    assert_eq!(ApiVersion::read(&params(&[("version", " 4 ")])).unwrap(), ApiVersion::V4);
    for bad in ["3", "5", "two", "-1"] {
        let e = ApiVersion::read(&params(&[("version", bad)])).unwrap_err();
        assert_eq!(e.api_error().code, ApiCode::InvalidParameter, "version={bad}");
    }
    assert!(ReadParams::read(&params(&[("version", "3")]), "Leads").is_err());
    assert!(WriteParams::read(&params(&[("version", "3")])).is_err());
    assert_eq!(NewFormat::read(&params(&[("newFormat", "2")])).unwrap(), NewFormat::WithNulls);
    assert_eq!(NewFormat::read(&params(&[])).unwrap(), NewFormat::OmitNulls);
    assert!(NewFormat::read(&params(&[("newFormat", "0")])).is_err());
    assert_eq!(ApiVersion::V4.as_str(), "4");
    assert_eq!(NewFormat::WithNulls.as_str(), "2");
}

fn cond(text: &str) -> SearchCondition {
    SearchCondition::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn search_condition_text_operators() {
    assert!(cond("(Last Name|=|drake)").matches(Some("Drake"), false));
    assert!(!cond("(Last Name|=|drake)").matches(Some("Drakes"), false));
    assert!(cond("(Last Name|<>|drake)").matches(Some("Drakes"), false));
    assert!(cond("(Last Name|contains|*rak*)").matches(Some("DRAKE"), false));
    assert!(cond("(Last Name|doesn't contain|*zz*)").matches(Some("Drake"), false));
    assert!(cond("(Last Name|starts with|dr*)").matches(Some("Drake"), false));
    assert!(cond("(Last Name|ends with|*ke)").matches(Some("Drake"), false));
    assert!(!cond("(Last Name|ends with|*ka)").matches(Some("Drake"), false));
    assert!(cond("(Last Name|<|b)").matches(Some("a"), false));
}

#[test]
fn search_condition_numbers_and_absent_values() {
    assert!(cond("(Annual Revenue|>|100)").matches(Some("250.0"), true));
    assert!(!cond("(Annual Revenue|>|100)").matches(Some("99"), true));
    assert!(cond("(Annual Revenue|=|100)").matches(Some("100.00"), true));
    assert!(cond("(Annual Revenue|>=|100)").matches(Some("100"), true));
    assert!(cond("(Annual Revenue|<=|100)").matches(Some("7"), true), "numeric, not text order");
    assert!(!cond("(Annual Revenue|<|100)").matches(Some("n/a"), true));
    assert!(!cond("(Annual Revenue|=|100)").matches(None, true));
    assert!(cond("(Annual Revenue|<>|100)").matches(None, true));
    assert!(cond("(Email|doesn't contain|*x*)").matches(None, false));
}
