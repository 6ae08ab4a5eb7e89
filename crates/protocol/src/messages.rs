//! The real service's error messages (docs/protocol.md §3.3–§3.5, §6), verbatim, typos included,
//! so the emulator answers with them and clients can recognise them.

/// 4834: the message for a missing or unknown authtoken.
pub const INVALID_TICKET: &str = "Invalid Ticket Id";

/// 4421: the org's daily call quota is spent.
pub const DAILY_LIMIT_EXCEEDED: &str =
    "You have exceeded the maximum number of API calls allowed for the day";

/// 4421 for a method with its own daily cap (getSearchRecords, getCVRecords): the cap and the
/// method name.
pub fn method_daily_cap_exceeded(cap: u32, method: &str) -> String {
    format!("You have exceeded the maximum of {cap} {method} calls allowed for the day")
}

/// 4401: a version 1/2 write with a missing mandatory field (whole call).
pub const MANDATORY_V1: &str =
    "Unable to populate data, please check if mandatory value is entered correctly.";

/// 401.2: a version=4 update row whose record cannot be edited (or whose `Id` is unknown).
pub const NO_EDIT_PERMISSION: &str = "You do not have the permission to edit this record or the \"id\" value you have given is invalid.";

/// 4425: a version=4 update row without a usable `Id`.
pub const INVALID_RECORD_ID: &str =
    "Unable to process your request. Please check whether you have given the valid record Id";

/// 4500: the recorded internal-error message (sic: "occured").
pub const INTERNAL_ERROR: &str = "Problem occured while processing the request";

/// 4600: the generic message for an unknown method, module or malformed call.
pub const INVALID_REQUEST: &str = "Unable to process your request. Please verify whether you have entered proper method name, parameter and parameter values";

/// 4820: a per-minute rate limit (searchRecords, uploadFile) was hit.
pub const RATE_LIMIT_EXCEEDED: &str =
    "API call cannot be completed as you have exceeded the \"rate limit\"";

/// 4103: single-record updateRecords with an unknown `id`.
pub const RECORD_NOT_FOUND: &str = "No record available with the specified record ID.";

/// 4600 naming a parameter: `Unable to process your request. Please verify if the name and
/// value is appropriate for the "<name>" parameter.` (recorded for a bad `id`).
pub fn invalid_parameter(name: &str) -> String {
    format!(
        "Unable to process your request. Please verify if the name and value is appropriate for the \"{name}\" parameter."
    )
}

/// 4831: `Missing parameter : <name>`.
pub fn missing_parameter(name: &str) -> String {
    format!("Missing parameter : {name}")
}

/// 4832 per row: `You have given a wrong value for the field : <label>`.
pub fn wrong_value(label: &str) -> String {
    format!("You have given a wrong value for the field : {label}")
}

/// 4891 per row: `Mandatory Field Missing : <label>`.
pub fn mandatory_missing(label: &str) -> String {
    format!("Mandatory Field Missing : {label}")
}

/// 4832 for a malformed searchRecords `criteria`; `reason` continues the sentence (e.g. "contains
/// empty field name").
pub fn criteria_error(reason: &str) -> String {
    format!("API call cannot be completed as the Criteria parameter {reason}")
}
