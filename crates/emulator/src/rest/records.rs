//! `GET /{module}` (CD-15, CD-16, CD-17) and `GET /{module}/{id}` (CD-6, CD-17).

use axum::http::StatusCode;
use rusqlite::Transaction;
use serde_json::{Value, json};
use zcrm_protocol::rest_limits::{MAX_FIELDS, MAX_PAGE_RECORDS, MAX_PER_PAGE, MAX_TOKEN_RECORDS};

use super::errors::{Answer, RestError};
use super::json::{self, epoch_out};
use super::paging::{Cursor, TOKEN_SECS, fnv};
use super::router::Cx;
use crate::schema::{FieldDef, ModuleDef};
use crate::store::records::{self, CONVERTED, LIVE, Listing, SortKey};

/// `per_page` (and `page`) as a number within `min..=max`, else `INVALID_DATA` naming it.
pub fn number_param(
    cx: &Cx<'_>,
    name: &str,
    default: u32,
    min: u32,
    max: u32,
) -> Result<u32, RestError> {
    match cx.param(name) {
        None => Ok(default),
        Some(t) => t.parse::<u32>().ok().filter(|n| (min..=max).contains(n)).ok_or_else(|| {
            RestError::bad(
                "INVALID_DATA",
                "invalid data",
                json!({"param_name": name, "minimum": min, "maximum": max}),
            )
        }),
    }
}

/// `If-Modified-Since` as epoch seconds: ISO 8601 with an offset, else 400 (CD-17).
pub fn if_modified_since(cx: &Cx<'_>) -> Result<Option<i64>, RestError> {
    let Some(v) = cx.headers.get("If-Modified-Since") else { return Ok(None) };
    let text = v.to_str().unwrap_or_default().trim();
    json::parse_iso(text, true).map(|ts| Some(ts.as_second())).ok_or_else(|| {
        RestError::bad("INVALID_DATA", "invalid data", json!({"header_name": "If-Modified-Since"}))
    })
}

/// The requested fields (CD-15): more than 50 names is `LIMIT_EXCEEDED`; unknown names are
/// ignored; `None` when every field is wanted (`fields` left out where `optional`).
pub fn requested<'d>(
    cx: &Cx<'_>,
    def: &'d ModuleDef,
    optional: bool,
) -> Result<(Option<Vec<&'d FieldDef>>, Vec<String>), RestError> {
    let Some(text) = cx.param("fields") else {
        if optional {
            return Ok((None, Vec::new()));
        }
        return Err(RestError::missing_param("fields"));
    };
    let names: Vec<String> =
        text.split(',').map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned).collect();
    if names.len() > MAX_FIELDS {
        return Err(RestError::bad(
            "LIMIT_EXCEEDED",
            "Fields limit exceeded",
            json!({"limit": MAX_FIELDS}),
        ));
    }
    let list = json::fields(def).filter(|f| names.contains(&f.api_name)).collect();
    let mut set = names;
    set.sort();
    set.dedup();
    Ok((Some(list), set))
}

fn sort(cx: &Cx<'_>) -> Result<(SortKey, &'static str, bool, &'static str), RestError> {
    let key = match cx.param("sort_by") {
        None | Some("id") => (SortKey::Id, "id"),
        Some("Created_Time") => (SortKey::Created, "Created_Time"),
        Some("Modified_Time") => (SortKey::Modified, "Modified_Time"),
        Some(_) => return Err(RestError::invalid_param("sort_by")),
    };
    let (desc, order) = match cx.param("sort_order") {
        None | Some("desc") => (true, "desc"),
        Some("asc") => (false, "asc"),
        Some(_) => return Err(RestError::invalid_param("sort_order")),
    };
    Ok((key.0, key.1, desc, order))
}

/// The order of a custom view's records (`cvid`; v8 takes no `sort_by` with it): creation
/// time, oldest first, the order exports ask of the other reads.
const VIEW_ORDER: (SortKey, &str, bool, &str) = (SortKey::Created, "Created_Time", false, "asc");

/// `GET /{module}`; with `cvid`, only that custom view's records (`crate::views`): with
/// `sort_by` 400 `AMBIGUITY_DURING_PROCESSING`, an unknown id 400 `INVALID_DATA` naming `cvid`.
pub fn list(cx: &Cx<'_>, tx: &Transaction<'_>, def: &ModuleDef) -> Result<Answer, RestError> {
    let (only, field_set) = requested(cx, def, cx.fields_optional)?;
    let per_page = number_param(cx, "per_page", MAX_PER_PAGE, 1, MAX_PER_PAGE)?;
    let token = cx.param("page_token");
    if token.is_some() && cx.param("page").is_some() {
        return Err(RestError::bad(
            "AMBIGUITY_DURING_PROCESSING",
            "page and page_token cannot be given together",
            json!({"param_names": ["page", "page_token"]}),
        ));
    }
    let page = number_param(cx, "page", 1, 1, u32::MAX)?;
    let view = match cx.param("cvid") {
        None => None,
        Some(_) if cx.param("sort_by").is_some() => {
            return Err(RestError::bad(
                "AMBIGUITY_DURING_PROCESSING",
                "cvid and sort_by cannot be given together",
                json!({"param_names": ["cvid", "sort_by"]}),
            ));
        }
        Some(id) => {
            Some(crate::views::by_id(def, id).ok_or_else(|| RestError::invalid_param("cvid"))?)
        }
    };
    // A view lists in its own order: creation time, oldest first (VIEW_ORDER).
    let (sort_key, sort_by, desc, sort_order) = if view.is_some() { VIEW_ORDER } else { sort(cx)? };
    let states: &[i64] = match cx.param("converted") {
        None | Some("false") => &[LIVE],
        Some("true") => &[CONVERTED],
        Some("both") => &[LIVE, CONVERTED],
        Some(_) => return Err(RestError::invalid_param("converted")),
    };
    let ids: Option<Vec<u64>> = match cx.param("ids") {
        None => None,
        Some(t) => Some(
            t.split(',')
                .map(|s| s.trim().parse::<u64>())
                .collect::<Result<_, _>>()
                .map_err(|_| RestError::invalid_param("ids"))?,
        ),
    };
    let since = if_modified_since(cx)?;
    let binding = fnv(format!(
        "{}|{}|{sort_by}|{sort_order}|{since:?}|{:?}|{:?}{}",
        def.api_name,
        field_set.join(","),
        ids,
        cx.param("converted").unwrap_or("false"),
        view.as_ref().map(|v| format!("|cvid={}", v.id)).unwrap_or_default()
    )
    .as_bytes());
    let (after, served, created, page_no) = match token {
        Some(t) => {
            let c = Cursor::decode(t).ok_or_else(|| RestError::invalid_param("page_token"))?;
            if c.binding != binding {
                return Err(RestError::bad(
                    "TOKEN_BOUND_DATA_MISMATCH",
                    "the parameters differ from those the page_token was made for",
                    json!({"param_name": "page_token"}),
                ));
            }
            if cx.now - c.created > TOKEN_SECS {
                return Err(RestError::bad(
                    "EXPIRED_VALUE",
                    "the page_token has expired",
                    json!({"param_name": "page_token"}),
                ));
            }
            if c.served >= MAX_TOKEN_RECORDS {
                return Err(RestError::bad(
                    "PAGINATION_LIMIT_EXCEEDED",
                    "pagination limit exceeded",
                    json!({"limit": MAX_TOKEN_RECORDS}),
                ));
            }
            (Some((c.key, c.id)), c.served, c.created, c.served / per_page + 1)
        }
        None => {
            if u64::from(page) * u64::from(per_page) > u64::from(MAX_PAGE_RECORDS) {
                return Err(RestError::bad(
                    "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                    "the page and per_page reach past the 2000th record; use page_token",
                    json!({"limit": MAX_PAGE_RECORDS}),
                ));
            }
            (None, (page - 1) * per_page, cx.now, page)
        }
    };
    let room = MAX_TOKEN_RECORDS.saturating_sub(served);
    let want = per_page.min(room);
    let module = def.module.api_name();
    let mut recs = records::listing(
        tx,
        &Listing {
            module: &module,
            states,
            since,
            ids: ids.as_deref(),
            owner: view.as_ref().and_then(|v| v.owner(cx.st.schema.admin().id)),
            excluded: view.as_ref().and_then(crate::views::View::excluded),
            sort: sort_key,
            desc,
            after,
            offset: if after.is_some() { 0 } else { served },
            limit: want + 1,
        },
    )?;
    let more = recs.len() > want as usize && served + want < MAX_TOKEN_RECORDS;
    recs.truncate(want as usize);
    if recs.is_empty() {
        let status = if since.is_some() && token.is_none() && page == 1 {
            StatusCode::NOT_MODIFIED
        } else {
            StatusCode::NO_CONTENT
        };
        return Ok(Answer::empty(status));
    }
    let data: Vec<Value> =
        recs.iter().map(|r| json::record(cx.st, def, r, only.as_deref())).collect();
    let count = recs.len();
    let (next, expiry) = match recs.last().filter(|_| more) {
        Some(last) => {
            let c = Cursor {
                binding,
                key: sort_key.of(last),
                id: last.id,
                served: served + u32::try_from(count).unwrap_or(0),
                created,
            };
            (Value::String(c.encode()), Value::String(epoch_out(cx.st, created + TOKEN_SECS)))
        }
        None => (Value::Null, Value::Null),
    };
    Ok(Answer::ok(json!({
        "data": data,
        "info": {
            "per_page": per_page,
            "count": count,
            "page": page_no,
            "sort_by": sort_by,
            "sort_order": sort_order,
            "more_records": more,
            "next_page_token": next,
            "previous_page_token": null,
            "page_token_expiry": expiry,
            "call": false,
            "email": false,
        },
    })))
}

/// `GET /{module}/{id}`: every field, `null` when empty, with `$approval_state`, `$editable`
/// and `$currency_symbol` (a lead also with `$converted` and `$converted_detail`, and a
/// converted lead is still shown); 204 for an unknown or deleted id.
pub fn get(
    cx: &Cx<'_>,
    tx: &Transaction<'_>,
    def: &ModuleDef,
    id: &str,
) -> Result<Answer, RestError> {
    let id: u64 = id.trim().parse().map_err(|_| {
        RestError::bad("INVALID_DATA", "the id given seems to be invalid", json!({"id": id}))
    })?;
    let live = records::get_live(tx, Some(&def.module.api_name()), id)?;
    let mut v = match &live {
        Some(rec) => json::record(cx.st, def, rec, None),
        None => match super::convert::converted_lead(cx, tx, def, id)? {
            Some(v) => v,
            None => return Ok(Answer::empty(StatusCode::NO_CONTENT)),
        },
    };
    if let Some(o) = v.as_object_mut() {
        if def.api_name == "Leads" && !o.contains_key("$converted") {
            for (k, val) in super::convert::converted_keys(tx, id, false)? {
                o.insert(k, val);
            }
        }
        o.insert("$approval_state".to_owned(), json!("approved"));
        o.insert("$editable".to_owned(), json!(true));
        o.insert("$currency_symbol".to_owned(), json!("$"));
        if let Some(rec) = &live
            && let Some((key, items)) = super::items::output(def, rec)
        {
            o.insert(key.to_owned(), items);
        }
    }
    Ok(Answer::ok(json!({ "data": [v] })))
}
