//! Starting an emulator on an ephemeral port and calling it.

use zcrm_emulator::{Emulator, EmulatorConfig, EmulatorHandle};

pub const TOKEN: &str = "0123456789abcdef0123456789abcdef";

pub struct Env {
    pub emu: EmulatorHandle,
    pub dir: tempfile::TempDir,
    pub http: reqwest::blocking::Client,
}

pub fn config(dir: &std::path::Path) -> EmulatorConfig {
    let mut c = EmulatorConfig::new(dir).token(TOKEN);
    c.edition = zcrm_protocol::Edition::Enterprise;
    c.licenses = 10;
    c
}

pub fn start_with(f: impl FnOnce(&mut EmulatorConfig)) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    f(&mut c);
    let emu = Emulator::start(c).unwrap();
    Env { emu, dir, http: reqwest::blocking::Client::builder().no_proxy().build().unwrap() }
}

pub fn start() -> Env {
    start_with(|_| {})
}

impl Env {
    /// Moves the org clock past midnight when fewer than `secs` (plus a minute of slack) remain
    /// of the org's day, so a test that advances the clock by `secs` and then counts the day's
    /// calls never sees the budget day turn under it, whatever the wall clock says.
    pub fn clear_of_midnight(&self, secs: i64) {
        let now = self.emu.org_now();
        let since_midnight =
            i64::from(now.hour()) * 3600 + i64::from(now.minute()) * 60 + i64::from(now.second());
        let left = 86_400 - since_midnight;
        if left <= secs + 60 {
            self.emu.advance_secs(left + 1).unwrap();
        }
    }

    pub fn url(&self, module: &str, method: &str) -> String {
        format!("{}/crm/private/xml/{module}/{method}", self.emu.url())
    }

    /// GET with authtoken + scope added.
    pub fn get(&self, module: &str, method: &str, params: &[(&str, &str)]) -> String {
        let mut all = vec![("authtoken", TOKEN), ("scope", "crmapi")];
        all.extend_from_slice(params);
        let r = self.http.get(self.url(module, method)).query(&all).send().unwrap();
        assert_eq!(r.status(), 200);
        r.text().unwrap()
    }

    /// POST form with authtoken + scope added.
    pub fn post(&self, module: &str, method: &str, params: &[(&str, &str)]) -> String {
        let mut all = vec![("authtoken", TOKEN), ("scope", "crmapi")];
        all.extend_from_slice(params);
        let r = self.http.post(self.url(module, method)).form(&all).send().unwrap();
        assert_eq!(r.status(), 200);
        r.text().unwrap()
    }

    pub fn raw_get(&self, module: &str, method: &str, params: &[(&str, &str)]) -> String {
        self.http.get(self.url(module, method)).query(params).send().unwrap().text().unwrap()
    }

    /// Inserts leads (version=4) and returns their ids.
    pub fn insert_leads(&self, n: usize, tag: &str) -> Vec<u64> {
        let mut ids = Vec::new();
        for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
            let mut b = zcrm_protocol::XmlDataBuilder::new("Leads", 100);
            for i in chunk {
                let last = format!("{tag}{i:05}");
                let email = format!("{tag}{i}@example.com");
                b.push_row([
                    ("Last Name", last.as_str()),
                    ("Company", "Acme"),
                    ("Email", email.as_str()),
                ])
                .unwrap();
            }
            let xml = b.finish().unwrap();
            let body = self.post("Leads", "insertRecords", &[("version", "4"), ("xmlData", &xml)]);
            match zcrm_protocol::WriteResponse::decode(body.as_bytes()).unwrap() {
                zcrm_protocol::WriteResponse::Rows(rows) => {
                    for r in rows {
                        ids.push(r.outcome.detail().expect("row ok").id.0);
                    }
                }
                other => panic!("{other:?}"),
            }
        }
        ids
    }
}

pub fn code_of(body: &str) -> String {
    match zcrm_protocol::response::check_error(body.as_bytes()) {
        Ok(()) => "ok".to_owned(),
        Err(zcrm_protocol::ResponseError::Api(e)) => e.code.as_str().to_owned(),
        Err(e) => panic!("undecodable: {e} in {body}"),
    }
}

pub fn page(body: &str) -> zcrm_protocol::RecordsPage<'static> {
    zcrm_protocol::RecordsPage::decode(body.as_bytes())
        .unwrap_or_else(|e| panic!("{e}: {body}"))
        .into_owned()
}

/// Seconds from the org's now to its next `hour:minute` (the clock only moves forward).
pub fn seconds_to_org_time(env: &Env, hour: i8, minute: i8) -> i64 {
    let now = env.emu.org_now();
    let of = |h: i8, m: i8, s: i8| i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s);
    let delta = of(hour, minute, 0) - of(now.hour(), now.minute(), now.second());
    delta.rem_euclid(86_400)
}
