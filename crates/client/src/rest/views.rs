//! Custom views on v8: a view's id by its name from `GET /crm/v8/settings/custom_views?module=`
//! (asked once per module per client), then its records through the record list with `cvid`
//! (`reads`: the same paging as whole-module reads, `page_token` past record 2,000).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Deserialize;
use zcrm_protocol::Method;
use zcrm_protocol::params::ReadParams;

use crate::ClientError;
use crate::api::CallKind;
use crate::rest::client::{API_PREFIX, Body, Call, Host, RestClient};
use crate::rest::names;
use crate::rest::records;
use crate::rest::results::{Problem, status_error};

/// One custom view as `settings/custom_views` lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub(crate) struct ViewInfo {
    /// Its id (a numeric string).
    #[serde(deserialize_with = "id_text")]
    pub(crate) id: String,
    /// Its name.
    #[serde(default)]
    pub(crate) name: Option<String>,
    /// The name users see.
    #[serde(default)]
    pub(crate) display_value: Option<String>,
}

/// An id given as a string or a number.
fn id_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    })
}

impl ViewInfo {
    /// Whether `wanted` names it (its `name` or `display_value`, ignoring case and the spaces
    /// around).
    fn is_named(&self, wanted: &str) -> bool {
        let wanted = wanted.trim();
        [&self.name, &self.display_value]
            .into_iter()
            .flatten()
            .any(|n| n.trim().eq_ignore_ascii_case(wanted))
    }

    /// The name to show.
    fn shown(&self) -> String {
        self.display_value.clone().or_else(|| self.name.clone()).unwrap_or_else(|| self.id.clone())
    }
}

/// The body of `settings/custom_views` (204: none).
pub(crate) fn decode_views(body: &[u8]) -> Result<Vec<ViewInfo>, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct Listing {
        #[serde(default)]
        custom_views: Vec<ViewInfo>,
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    Ok(serde_json::from_slice::<Listing>(body)?.custom_views)
}

/// The id of the view `wanted` names among `views`, else [`ClientError::UnknownView`] naming
/// the module's views.
pub(crate) fn find_view(
    module: &str,
    views: &[ViewInfo],
    wanted: &str,
) -> Result<String, ClientError> {
    views.iter().find(|v| v.is_named(wanted)).map(|v| v.id.clone()).ok_or_else(|| {
        ClientError::UnknownView {
            module: module.to_owned(),
            view: wanted.trim().to_owned(),
            known: views.iter().map(ViewInfo::shown).collect(),
        }
    })
}

/// Each module's views as the client first read them (by the module's v8 name).
#[derive(Debug, Default)]
pub(crate) struct Views {
    by_module: Mutex<HashMap<String, Arc<Vec<ViewInfo>>>>,
}

impl RestClient {
    /// One window of custom view `name`'s records, as [`crate::CrmApi::read_body`] answers.
    /// `params.last_modified` is sent as `If-Modified-Since`, as for whole-module reads.
    pub(crate) fn view_body(
        &self,
        module: &str,
        name: &str,
        params: &ReadParams,
    ) -> Result<(Vec<u8>, usize), ClientError> {
        let cvid = find_view(module, &self.views_of(module)?, name)?;
        let l = self.list_view(module, &cvid, params)?;
        Ok((records::envelope(&l.schema.fields.module, &l.parts), l.rows))
    }

    /// The views of `module`: remembered, or one `settings/custom_views` call (made under
    /// the cache's lock, so pages asked for at once still make one).
    fn views_of(&self, module: &str) -> Result<Arc<Vec<ViewInfo>>, ClientError> {
        let key = names::v8_module(module).to_ascii_lowercase();
        let mut cache = self.views.by_module.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(v) = cache.get(&key) {
            return Ok(v.clone());
        }
        let call = Call {
            method: Method::GetCvRecords,
            http: reqwest::Method::GET,
            path: format!("{API_PREFIX}/settings/custom_views"),
            query: vec![("module", names::v8_module(module).to_owned())],
            if_modified_since: None,
            body: Body::None,
            kind: CallKind::Settings,
            module,
            rows: 0,
            host: Host::Api,
        };
        let views = Arc::new(self.call(&call, |a| {
            match a.status {
                200 | 204 => decode_views(&a.body)
                    .map_err(|e| Problem::Undecodable(format!("settings/custom_views: {e}"))),
                s => Err(Problem::Api(status_error(s, &a.body))),
            }
        })?);
        cache.insert(key, views.clone());
        Ok(views)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const LISTING: &str = r#"{"custom_views":[
        {"id":"5725767000000087501","name":"All Leads","display_value":"All Leads","system_name":"ALLVIEWS","default":true},
        {"id":5725767000000087502,"name":"open_leads","display_value":"All Open Leads","system_name":null,"default":false}],
        "info":{"per_page":200,"count":2,"page":1,"more_records":false}}"#;

    #[test]
    fn a_view_is_found_by_name_or_display_value_in_any_case() {
        let views = decode_views(LISTING.as_bytes()).unwrap();
        assert_eq!(find_view("Leads", &views, "all leads").unwrap(), "5725767000000087501");
        assert_eq!(find_view("Leads", &views, " ALL OPEN LEADS ").unwrap(), "5725767000000087502");
        assert_eq!(find_view("Leads", &views, "Open_Leads").unwrap(), "5725767000000087502");
        assert!(decode_views(b"").unwrap().is_empty(), "204: no views");
    }

    #[test]
    fn an_unknown_view_names_the_modules_views() {
        let views = decode_views(LISTING.as_bytes()).unwrap();
        let e = find_view("Leads", &views, "Hot Leads").unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"Leads has no custom view "Hot Leads"; its views: "All Leads", "All Open Leads""#
        );
        assert_eq!(e.class(), crate::ErrorClass::Usage);
    }
}
