//! The routes below one record, `/{module}/{id}/...`: related lists (`related`), lead
//! conversion (`convert`), attachments and the photo (`files`); their credits (Convert Lead 5,
//! the others 1) and whether the faults treat them as writes.

use axum::http::{Method, StatusCode};
use rusqlite::Transaction;
use serde_json::json;
use zcrm_protocol::rest_limits::CONVERT_CREDITS;

use super::errors::{Answer, RestError};
use super::router::Cx;
use super::{convert, files, related};
use crate::schema::ModuleDef;
use crate::state::State;

/// A call below one record: the module, the record id as the path gives it, and what.
#[derive(Debug, Clone, Copy)]
pub struct Action<'a> {
    /// The record's module.
    pub def: &'a ModuleDef,
    /// The record id, as in the path.
    pub id: &'a str,
    /// What is asked.
    pub what: What<'a>,
}

/// What a call below a record asks for.
#[derive(Debug, Clone, Copy)]
pub enum What<'a> {
    /// `GET /{module}/{id}/{related_list}`.
    Related(&'a ModuleDef),
    /// `PUT /{module}/{id}/{related_list}`.
    Relate(&'a ModuleDef),
    /// `DELETE /{module}/{id}/{related_list}/{related_id}` or `…/{related_list}?ids=`.
    Delink(&'a ModuleDef, Option<&'a str>),
    /// `POST /Leads/{id}/actions/convert`.
    Convert,
    /// `GET /{module}/{id}/Attachments`.
    Attachments,
    /// `POST /{module}/{id}/Attachments`.
    Attach,
    /// `GET /{module}/{id}/Attachments/{attachment_id}`.
    Download(&'a str),
    /// `DELETE /{module}/{id}/Attachments/{attachment_id}`.
    Detach(&'a str),
    /// `GET /{module}/{id}/photo`.
    Photo,
    /// `POST /{module}/{id}/photo`.
    SetPhoto,
    /// `DELETE /{module}/{id}/photo`.
    DeletePhoto,
}

fn wrong_method() -> RestError {
    RestError::bad(
        "INVALID_REQUEST_METHOD",
        "The http request method type is not a valid one",
        json!({}),
    )
}

fn not_found() -> RestError {
    RestError::new(
        StatusCode::NOT_FOUND,
        "INVALID_URL_PATTERN",
        "Please check if the URL trying to access is a correct one",
    )
}

/// The route of `method` on `rest`, the segments after `/{module}/{id}/`.
pub fn resolve<'a>(
    st: &'a State,
    method: &Method,
    def: &'a ModuleDef,
    id: &'a str,
    rest: &[&'a str],
) -> Result<Action<'a>, RestError> {
    if id == "actions" {
        // `/{module}/actions/...` is the module's namespace (count, mass_update), not a record.
        return Err(not_found());
    }
    let m = method.clone();
    let what = match rest {
        ["actions", "convert"] if def.api_name == "Leads" => match m {
            Method::POST => What::Convert,
            _ => return Err(wrong_method()),
        },
        ["actions", ..] => return Err(not_found()),
        [a] if a.eq_ignore_ascii_case("Attachments") => match m {
            Method::GET => What::Attachments,
            Method::POST => What::Attach,
            _ => return Err(wrong_method()),
        },
        [a, att] if a.eq_ignore_ascii_case("Attachments") => match m {
            Method::GET => What::Download(att),
            Method::DELETE => What::Detach(att),
            _ => return Err(wrong_method()),
        },
        [p] if p.eq_ignore_ascii_case("photo") => match m {
            Method::GET => What::Photo,
            Method::POST => What::SetPhoto,
            Method::DELETE => What::DeletePhoto,
            _ => return Err(wrong_method()),
        },
        [list] => {
            let list = super::module(st, list).ok_or_else(related::invalid_list)?;
            match m {
                Method::GET => What::Related(list),
                Method::PUT => What::Relate(list),
                Method::DELETE => What::Delink(list, None),
                _ => return Err(wrong_method()),
            }
        }
        [list, other] => {
            let list = super::module(st, list).ok_or_else(related::invalid_list)?;
            match m {
                Method::DELETE => What::Delink(list, Some(other)),
                _ => return Err(wrong_method()),
            }
        }
        _ => return Err(not_found()),
    };
    Ok(Action { def, id, what })
}

impl Action<'_> {
    /// Whether the faults of `--faults` treat the call as a write.
    pub fn is_write(&self) -> bool {
        !matches!(self.what, What::Related(_) | What::Attachments | What::Download(_) | What::Photo)
    }

    /// The call's credits (§5.2: Convert Lead 5, the others the default 1).
    pub fn credits(&self) -> u64 {
        match self.what {
            What::Convert => u64::from(CONVERT_CREDITS),
            _ => 1,
        }
    }
}

/// Runs the call.
pub fn dispatch(cx: &Cx<'_>, tx: &Transaction<'_>, a: Action<'_>) -> Result<Answer, RestError> {
    match a.what {
        What::Related(list) => related::list(cx, tx, a.def, a.id, list),
        What::Relate(list) => related::relate(cx, tx, a.def, a.id, list),
        What::Delink(list, other) => related::delink(cx, tx, a.def, a.id, list, other),
        What::Convert => convert::convert(cx, tx, a.id),
        What::Attachments => files::list(cx, tx, a.def, a.id),
        What::Attach => files::attach(cx, tx, a.def, a.id),
        What::Download(att) => files::download(cx, tx, a.def, a.id, att),
        What::Detach(att) => files::detach(cx, tx, a.def, a.id, att),
        What::Photo => files::photo(cx, tx, a.def, a.id),
        What::SetPhoto => files::set_photo(cx, tx, a.def, a.id),
        What::DeletePhoto => files::delete_photo(cx, tx, a.def, a.id),
    }
}

/// The live record `id` of `def` the path names: a non-numeric or unknown id is 400
/// `INVALID_DATA` "the id given seems to be invalid" `{id}` for the whole call.
pub fn parent(
    tx: &Transaction<'_>,
    def: &ModuleDef,
    id: &str,
) -> Result<crate::store::records::Rec, RestError> {
    let bad =
        || RestError::bad("INVALID_DATA", "the id given seems to be invalid", json!({"id": id}));
    let n: u64 = id.trim().parse().map_err(|_| bad())?;
    crate::store::records::get_live(tx, Some(&def.module.api_name()), n)?.ok_or_else(bad)
}
