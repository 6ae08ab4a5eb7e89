//! `GET settings/custom_views?module=`: the module's custom views (`crate::views`), one page
//! in Zoho's shape (`custom_views` and `info.default`), each with the order it lists its
//! records in (`sort_by`, `sort_order`; a `cvid` list takes no `sort_by`).

use serde_json::{Value, json};

use super::errors::{Answer, RestError};
use super::router::Cx;
use crate::views::{self, View};

fn view_json(cx: &Cx<'_>, view: &View) -> Value {
    let admin = cx.st.schema.admin();
    let by = json!({"name": admin.name, "id": admin.id.to_string()});
    json!({
        "id": view.id.to_string(),
        "name": view.name,
        "display_value": view.name,
        "system_name": view.system_name,
        "system_defined": true,
        "default": view.is_default(),
        "access_type": "public",
        "category": "public_views",
        "locked": false,
        "created_by": by,
        "modified_by": by,
        "created_time": null,
        "modified_time": null,
        "last_accessed_time": null,
        "sort_by": {"api_name": "Created_Time"},
        "sort_order": "asc",
    })
}

/// `GET settings/custom_views?module=`: without `module` 400 `REQUIRED_PARAM_MISSING`, an
/// unknown one 400 `INVALID_MODULE`.
pub fn list(cx: &Cx<'_>) -> Result<Answer, RestError> {
    let name = cx.param("module").ok_or_else(|| RestError::missing_param("module"))?;
    let def = super::module(cx.st, name).ok_or_else(RestError::invalid_module)?;
    let all = views::of(def);
    let default = all.iter().find(|v| v.is_default()).map(|v| v.id.to_string());
    let list: Vec<Value> = all.iter().map(|v| view_json(cx, v)).collect();
    Ok(Answer::ok(json!({
        "custom_views": list,
        "info": {
            "per_page": 200,
            "count": all.len(),
            "page": 1,
            "more_records": false,
            "default": default,
            "translation": {
                "public_views": "Public Views",
                "other_users_views": "Other User's Views",
                "shared_with_me": "Shared With Me",
                "created_by_me": "Created By Me",
            },
        },
    })))
}
