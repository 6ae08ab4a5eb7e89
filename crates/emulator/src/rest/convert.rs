//! `POST /Leads/{id}/actions/convert` (§3.13) through the XML face's conversion
//! ([`crate::api::convert::convert`]), and what `GET /Leads/{id}` shows of a conversion
//! (`$converted`, `$converted_detail`).

use rusqlite::Transaction;
use serde_json::{Map, Value, json};

use super::errors::{self, Answer, RestError, record_error};
use super::json::{self as vjson, Refusal, data_type, ignored_on_input, is_blank};
use super::router::Cx;
use super::write::body_items;
use crate::api::convert::{self as shared, Conversion, ConvertFail, Converted};
use crate::api::validate::display_name;
use crate::schema::ModuleDef;
use crate::store::records::{self, CONVERTED, Rec};

/// The conversion's SAVEPOINT: a refused conversion keeps nothing it wrote, while the call's
/// credit charge (in the same transaction) stays.
const SAVEPOINT: &str = "rest_convert";

fn item_error(code: &str, message: &str, details: Value) -> Answer {
    super::related::batch(vec![record_error(code, message, details)])
}

/// `{"id"}` of an object input, as a number.
fn object_id(v: &Value) -> Option<u64> {
    match v.as_object()?.get("id")? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// The Deals object as the Potentials layout's label/text pairs, or the item error.
fn deal_fields(
    cx: &Cx<'_>,
    tx: &Transaction<'_>,
    def: &ModuleDef,
    deal: &Map<String, Value>,
) -> Result<Result<Vec<(String, String)>, Value>, RestError> {
    let path = |k: &str| format!("$.data[0].Deals.{k}");
    for f in vjson::fields(def).filter(|f| f.required && !ignored_on_input(f)) {
        if is_blank(deal.get(&f.api_name)) {
            return Ok(Err(errors::mandatory(&f.api_name, &path(&f.api_name))));
        }
    }
    let mut pairs = Vec::new();
    for (k, v) in deal {
        let Some(f) = vjson::fields(def).find(|f| f.api_name == *k) else { continue };
        if ignored_on_input(f) || matches!(f.id_column(), Some("ACCOUNTID" | "CONTACTID")) {
            continue;
        }
        match vjson::input(cx.st, tx, f, v) {
            Ok(p) => pairs.extend(p),
            Err(Refusal::Type | Refusal::Missing(_)) => {
                return Ok(Err(errors::invalid_type(k, &path(k), data_type(f))));
            }
            Err(Refusal::TooLong(max)) => return Ok(Err(errors::too_long(k, &path(k), max))),
        }
    }
    Ok(Ok(pairs))
}

/// What the body asks, or the item error (the lead's owner owns what is created unless
/// `assign_to` names another user).
fn conversion(
    cx: &Cx<'_>,
    tx: &Transaction<'_>,
    lead: &Rec,
) -> Result<Result<Conversion, Answer>, RestError> {
    let items = body_items(cx, 1)?;
    let Some(item) = items.first().and_then(Value::as_object) else {
        return Ok(Err(item_error(
            "INVALID_DATA",
            "invalid data",
            json!({"json_path": "$.data[0]"}),
        )));
    };
    let invalid = |k: &str| {
        item_error(
            "INVALID_DATA",
            "invalid data",
            json!({"api_name": k, "json_path": format!("$.data[0].{k}")}),
        )
    };
    for flag in ["overwrite", "notify_lead_owner", "notify_new_entity_owner"] {
        if item.get(flag).is_some_and(|v| !v.is_boolean() && !v.is_null()) {
            return Ok(Err(invalid(flag)));
        }
    }
    let mut req = Conversion { owner: Some(lead.owner), ..Conversion::default() };
    if let Some(v) = item.get("assign_to").filter(|v| !v.is_null()) {
        match object_id(v).and_then(|id| cx.st.schema.user(id)).filter(|u| u.active) {
            Some(u) => req.owner = Some(u.id),
            None => return Ok(Err(invalid("assign_to"))),
        }
    }
    for (key, slot) in [("Accounts", &mut req.account), ("Contacts", &mut req.contact)] {
        if let Some(v) = item.get(key).filter(|v| !v.is_null()) {
            match object_id(v) {
                Some(id) => *slot = Some(id),
                None => return Ok(Err(invalid(key))),
            }
        }
    }
    if let Some(v) = item.get("Deals").filter(|v| !v.is_null()) {
        let (Some(deal), Some(def)) = (v.as_object(), cx.st.schema.module("Potentials")) else {
            return Ok(Err(invalid("Deals")));
        };
        match deal_fields(cx, tx, def, deal)? {
            Ok(pairs) => req.potential = Some(pairs),
            Err(e) => return Ok(Err(super::related::batch(vec![e]))),
        }
    }
    Ok(Ok(req))
}

fn named(cx: &Cx<'_>, tx: &Transaction<'_>, module: &str, id: u64) -> Result<Value, RestError> {
    let def = cx.st.schema.module(module);
    let rec = records::get_live(tx, Some(module), id)?;
    let name = rec.map(|r| display_name(def, &r));
    Ok(json!({"name": name, "id": id.to_string()}))
}

/// `POST /Leads/{id}/actions/convert`: an unknown lead is 400 `INVALID_DATA` and a converted
/// one 400 `ID_ALREADY_CONVERTED` (whole-call, the path is wrong); problems of the body's one
/// item are that item's error (HTTP 400); success is 200 with the records' names and ids.
pub fn convert(cx: &Cx<'_>, tx: &Transaction<'_>, id: &str) -> Result<Answer, RestError> {
    let bad =
        || RestError::bad("INVALID_DATA", "the id given seems to be invalid", json!({"id": id}));
    let lead_id: u64 = id.trim().parse().map_err(|_| bad())?;
    let Some(lead) = records::get_live(tx, Some("Leads"), lead_id)? else {
        if records::get_in_state(tx, "Leads", lead_id, CONVERTED)?.is_some() {
            return Err(RestError::bad(
                "ID_ALREADY_CONVERTED",
                "the lead has been converted already",
                json!({"id": id}),
            ));
        }
        return Err(bad());
    };
    let req = match conversion(cx, tx, &lead)? {
        Ok(r) => r,
        Err(answer) => return Ok(answer),
    };
    let params = std::collections::HashMap::new();
    let call = super::write::xml_call(cx, leads_def(cx)?, &params);
    tx.execute_batch(&format!("SAVEPOINT {SAVEPOINT}"))?;
    let done = shared::convert(&call, tx, &lead, &req);
    let refused = |code: &str, message: &str, details: Value| -> Result<Answer, RestError> {
        tx.execute_batch(&format!("ROLLBACK TO {SAVEPOINT}; RELEASE {SAVEPOINT}"))?;
        Ok(item_error(code, message, details))
    };
    let done: Converted = match done {
        Ok(d) => d,
        Err(ConvertFail::UnknownAccount) => {
            return refused(
                "INVALID_DATA",
                "invalid data",
                json!({"api_name": "Accounts", "json_path": "$.data[0].Accounts"}),
            );
        }
        Err(ConvertFail::UnknownContact) => {
            return refused(
                "INVALID_DATA",
                "invalid data",
                json!({"api_name": "Contacts", "json_path": "$.data[0].Contacts"}),
            );
        }
        Err(ConvertFail::Invalid(module, e)) => {
            let api = cx.st.schema.module(module).map_or(module, |d| d.api_name.as_str());
            return refused(
                "INVALID_DATA",
                "invalid data",
                json!({"api_name": api, "json_path": format!("$.data[0].{api}"), "message": e.message}),
            );
        }
        Err(ConvertFail::Fail(_)) => return Err(RestError::internal()),
    };
    tx.execute_batch(&format!("RELEASE {SAVEPOINT}"))?;
    let deal = match done.potential {
        Some(p) => named(cx, tx, "Potentials", p)?,
        None => Value::Null,
    };
    Ok(Answer::ok(json!({"data": [{
        "code": "SUCCESS",
        "details": {
            "Contacts": named(cx, tx, "Contacts", done.contact)?,
            "Deals": deal,
            "Accounts": named(cx, tx, "Accounts", done.account)?,
        },
        "message": "The record has been converted successfully",
        "status": "success",
    }]})))
}

fn leads_def<'a>(cx: &Cx<'a>) -> Result<&'a ModuleDef, RestError> {
    cx.st.schema.module("Leads").ok_or_else(RestError::internal)
}

/// `$converted` and `$converted_detail` of a lead (`{"contact","deal","account"}` ids; `{}`
/// when not converted or converted before conversions were recorded).
pub fn converted_keys(
    tx: &Transaction<'_>,
    lead: u64,
    converted: bool,
) -> Result<[(String, Value); 2], RestError> {
    let detail = match shared::converted_into(tx, lead)? {
        Some(c) if converted => json!({
            "contact": c.contact.to_string(),
            "deal": c.potential.map(|p| p.to_string()),
            "account": c.account.to_string(),
        }),
        _ => json!({}),
    };
    Ok([
        ("$converted".to_owned(), Value::Bool(converted)),
        ("$converted_detail".to_owned(), detail),
    ])
}

/// A converted lead as `GET /Leads/{id}` shows it, `None` when `id` is not a converted lead.
pub fn converted_lead(
    cx: &Cx<'_>,
    tx: &Transaction<'_>,
    def: &ModuleDef,
    id: u64,
) -> Result<Option<Value>, RestError> {
    if def.api_name != "Leads" {
        return Ok(None);
    }
    let Some(rec) = records::get_in_state(tx, "Leads", id, CONVERTED)? else { return Ok(None) };
    let mut v = vjson::record(cx.st, def, &rec, None);
    if let Some(o) = v.as_object_mut() {
        for (k, val) in converted_keys(tx, id, true)? {
            o.insert(k, val);
        }
    }
    Ok(Some(v))
}
