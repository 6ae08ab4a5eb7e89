//! `settings/fields?module=` (CD-24), `settings/modules[/{module}]`, `users?type=` and `org`.

use serde_json::{Value, json};
use zcrm_protocol::field::FieldType;

use super::errors::{Answer, RestError};
use super::json::{data_type, decimal_place, fields as shown, json_type};
use super::router::Cx;
use crate::schema::{FieldDef, LookupTarget, ModuleDef};

/// The synthetic id of a module (its position among the org's modules).
fn module_id(cx: &Cx<'_>, def: &ModuleDef) -> String {
    let at = cx.st.schema.modules.values().position(|m| m.api_name == def.api_name).unwrap_or(0);
    (900_000_000_000_000_001u64 + at as u64).to_string()
}

fn field_json(cx: &Cx<'_>, def: &ModuleDef, i: usize, f: &FieldDef) -> Value {
    let picklist: Vec<Value> = f
        .picklist
        .iter()
        .enumerate()
        .map(|(n, v)| {
            json!({"display_value": v, "actual_value": v, "sequence_number": n + 1, "type": "used"})
        })
        .collect();
    let lookup = match &f.lookup {
        Some((LookupTarget::Module(m), _)) => {
            let target = cx.st.schema.module(&m.api_name());
            let api = target.map_or_else(|| m.api_name().into_owned(), |t| t.api_name.clone());
            let id = target.map(|t| module_id(cx, t));
            json!({"module": {"api_name": api, "id": id}, "display_label": f.display, "api_name": f.api_name})
        }
        _ => json!({}),
    };
    let mut v = json!({
        "api_name": f.api_name,
        "field_label": f.label,
        "display_label": f.display,
        "data_type": data_type(f),
        "json_type": json_type(f),
        "length": f.max_length,
        "decimal_place": decimal_place(f),
        "system_mandatory": f.required,
        "read_only": f.read_only || f.system,
        "field_read_only": f.read_only || f.system || f.ty.is_computed(),
        "custom_field": f.custom,
        "visible": true,
        "id": format!("{}{:03}", module_id(cx, def), i),
        "pick_list_values": picklist,
        "lookup": lookup,
    });
    if let Some(o) = v.as_object_mut() {
        if f.unique {
            o.insert("unique".to_owned(), json!({"casesensitive": false}));
        }
        if f.ty == FieldType::Currency {
            o.insert("currency".to_owned(), json!({"rounding_option": "normal", "precision": 2}));
        }
    }
    v
}

/// `GET settings/fields?module=`.
pub fn fields(cx: &Cx<'_>) -> Result<Answer, RestError> {
    let name = cx.param("module").ok_or_else(|| RestError::missing_param("module"))?;
    let def = super::module(cx.st, name).ok_or_else(RestError::invalid_module)?;
    let list: Vec<Value> = shown(def).enumerate().map(|(i, f)| field_json(cx, def, i, f)).collect();
    Ok(Answer::ok(json!({ "fields": list })))
}

fn module_json(cx: &Cx<'_>, def: &ModuleDef) -> Value {
    json!({
        "api_name": def.api_name,
        "module_name": def.module.api_name(),
        "singular_label": def.singular,
        "plural_label": def.plural,
        "id": module_id(cx, def),
        "api_supported": true,
        "generated_type": if def.module.is_custom() { "custom" } else { "default" },
        "creatable": true,
        "editable": true,
        "deletable": true,
        "viewable": true,
        "convertable": def.module == zcrm_protocol::Module::Leads,
        "visibility": 1,
        "status": "visible",
        "recycle_bin_on_delete": true,
    })
}

/// `GET settings/modules` (or one module).
pub fn modules(cx: &Cx<'_>, one: Option<&ModuleDef>) -> Result<Answer, RestError> {
    let list: Vec<Value> = match one {
        Some(def) => vec![module_json(cx, def)],
        None => cx.st.schema.modules.values().map(|m| module_json(cx, m)).collect(),
    };
    Ok(Answer::ok(json!({ "modules": list })))
}

/// `GET users?type=` (AllUsers by default; CurrentUser is the administrator every token acts as).
pub fn users(cx: &Cx<'_>) -> Result<Answer, RestError> {
    let kind = cx.param("type").unwrap_or("AllUsers");
    let admin_id = cx.st.schema.admin().id;
    let keep = |u: &crate::schema::UserDef| -> Option<bool> {
        Some(match kind {
            "AllUsers" => true,
            "ActiveUsers" => u.active,
            "DeactiveUsers" => !u.active,
            "AdminUsers" => u.profile == "Administrator",
            "ActiveConfirmedAdmins" => u.profile == "Administrator" && u.active,
            "CurrentUser" => u.id == admin_id,
            _ => return None,
        })
    };
    let mut list = Vec::new();
    for u in &cx.st.schema.users {
        match keep(u) {
            None => return Err(RestError::invalid_param("type")),
            Some(false) => {}
            Some(true) => {
                let (first, last) = u.name.split_once(' ').unwrap_or(("", u.name.as_str()));
                list.push(json!({
                    "id": u.id.to_string(),
                    "full_name": u.name,
                    "first_name": first,
                    "last_name": last,
                    "email": u.email,
                    "status": if u.active { "active" } else { "disabled" },
                    "role": {"name": u.role, "id": (u.id + 1_000).to_string()},
                    "profile": {"name": u.profile, "id": (u.id + 2_000).to_string()},
                    "zuid": (u.id % 100_000_000).to_string(),
                    "time_zone": cx.st.cfg.timezone,
                    "confirm": true,
                }));
            }
        }
    }
    if list.is_empty() {
        return Ok(Answer::empty(axum::http::StatusCode::NO_CONTENT));
    }
    let count = list.len();
    Ok(Answer::ok(json!({
        "users": list,
        "info": {"per_page": 200, "count": count, "page": 1, "more_records": false},
    })))
}

/// The org's `zgid` (`GET /org`), the `X-CRM-ORG` header of uploads.
pub const ZGID: &str = "900000001";

/// `GET /org`.
pub fn org(cx: &Cx<'_>) -> Result<Answer, RestError> {
    let admin = cx.st.schema.admin();
    let edition = format!("{:?}", cx.st.cfg.edition).to_lowercase();
    Ok(Answer::ok(json!({"org": [{
        "id": "900000000000000001",
        "company_name": "zcrm emulator",
        "zgid": ZGID,
        "primary_zuid": (admin.id % 100_000_000).to_string(),
        "primary_email": admin.email,
        "time_zone": cx.st.cfg.timezone,
        "iso_code": "USD",
        "currency": "US Dollar",
        "currency_symbol": "$",
        "mc_status": false,
        "domain_name": "org900000001",
        "country_code": "US",
        "license_details": {
            "paid": true,
            "paid_type": edition,
            "users_license_purchased": cx.st.cfg.licenses,
        },
    }]})))
}
