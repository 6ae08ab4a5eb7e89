//! The v8 face's answers: a status, an optional JSON body and extra headers; and its error
//! shapes (`{"code","details","message","status":"error"}`, contract §3.10 and CD-2 .. CD-24).

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

/// What a v8 call answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The HTTP status.
    pub status: StatusCode,
    /// The JSON body (`None`: an empty body, as 204 and 304 have).
    pub body: Option<Value>,
    /// A file download instead of JSON: its name and bytes.
    pub file: Option<(String, Vec<u8>)>,
}

impl Answer {
    /// `status` with the JSON `body`.
    pub fn with(status: StatusCode, body: Value) -> Self {
        Self { status, body: Some(body), file: None }
    }

    /// 200 with `body`.
    pub fn ok(body: Value) -> Self {
        Self::with(StatusCode::OK, body)
    }

    /// A status without a body (204, 304).
    pub fn empty(status: StatusCode) -> Self {
        Self { status, body: None, file: None }
    }

    /// 200 with a file's bytes (`application/octet-stream`, named in `Content-Disposition`).
    pub fn download(name: String, bytes: Vec<u8>) -> Self {
        Self { status: StatusCode::OK, body: None, file: Some((name, bytes)) }
    }

    /// The HTTP response.
    pub fn into_response(self) -> Response {
        if let Some((name, bytes)) = self.file {
            let mut r = Response::new(Body::from(bytes));
            *r.status_mut() = self.status;
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
            let disposition =
                format!("attachment;filename=\"{}\"", name.replace(['"', '\r', '\n'], "_"));
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            return r;
        }
        let mut r = match &self.body {
            Some(v) => Response::new(Body::from(v.to_string())),
            None => Response::new(Body::empty()),
        };
        *r.status_mut() = self.status;
        if self.body.is_some() {
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        r
    }
}

/// A whole-call error.
#[derive(Debug, Clone, PartialEq)]
pub struct RestError {
    /// The HTTP status.
    pub status: StatusCode,
    /// `code`.
    pub code: &'static str,
    /// `message`.
    pub message: String,
    /// `details`.
    pub details: Value,
}

impl RestError {
    /// An error with an empty `details`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), details: json!({}) }
    }

    /// 400 with `code`, `message` and `details`.
    pub fn bad(code: &'static str, message: impl Into<String>, details: Value) -> Self {
        Self { status: StatusCode::BAD_REQUEST, code, message: message.into(), details }
    }

    /// 400 `INVALID_DATA` naming a parameter.
    pub fn invalid_param(name: &str) -> Self {
        Self::bad("INVALID_DATA", "invalid data", json!({"param_name": name}))
    }

    /// 400 `REQUIRED_PARAM_MISSING` naming a parameter.
    pub fn missing_param(name: &str) -> Self {
        Self::bad(
            "REQUIRED_PARAM_MISSING",
            "One of the expected parameter is missing",
            json!({"param_name": name}),
        )
    }

    /// 400 `INVALID_MODULE` (the module is the first path segment after the version).
    pub fn invalid_module() -> Self {
        Self::bad(
            "INVALID_MODULE",
            "the module name given seems to be invalid",
            json!({"resource_path_index": 0}),
        )
    }

    /// 500 `INTERNAL_ERROR` (a store failure).
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "Internal Server Error")
    }

    /// 401 `INVALID_TOKEN` with exactly the observed body (CD-2).
    pub fn invalid_token() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "INVALID_TOKEN", "invalid oauth token")
    }

    /// 401 `AUTHENTICATION_FAILURE` (no `Authorization` header).
    pub fn authentication_failure() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "AUTHENTICATION_FAILURE", "Authentication failed")
    }

    /// 429 `TOO_MANY_REQUESTS`, the same for credits and concurrency (CD-21).
    pub fn too_many_requests() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            "Number of API requests for the 24 hour period is exceeded or the concurrency limit of the user for the app is exceeded",
        )
    }

    /// The body.
    pub fn body(&self) -> Value {
        json!({"code": self.code, "details": self.details, "message": self.message, "status": "error"})
    }

    /// As an answer.
    pub fn answer(&self) -> Answer {
        Answer::with(self.status, self.body())
    }
}

impl From<rusqlite::Error> for RestError {
    fn from(_: rusqlite::Error) -> Self {
        Self::internal()
    }
}

/// One record's error in a write answer.
pub fn record_error(code: &str, message: &str, details: Value) -> Value {
    json!({"code": code, "details": details, "message": message, "status": "error"})
}

/// `INVALID_DATA` of a value: the expected type.
pub fn invalid_type(api_name: &str, path: &str, expected: &str) -> Value {
    record_error(
        "INVALID_DATA",
        "invalid data",
        json!({"api_name": api_name, "json_path": path, "expected_data_type": expected}),
    )
}

/// `INVALID_DATA` of a value too long.
pub fn too_long(api_name: &str, path: &str, max: u32) -> Value {
    record_error(
        "INVALID_DATA",
        "invalid data",
        json!({"api_name": api_name, "json_path": path, "maximum_length": max}),
    )
}

/// `MANDATORY_NOT_FOUND` of a field.
pub fn mandatory(api_name: &str, path: &str) -> Value {
    record_error(
        "MANDATORY_NOT_FOUND",
        "required field not found",
        json!({"api_name": api_name, "json_path": path}),
    )
}
