use super::harness::*;
use zcrm_emulator::FaultSpec;

fn admin(env: &Env, method: reqwest::Method, path: &str) -> serde_json::Value {
    let r =
        env.http.request(method, format!("{}/__emulator/{path}", env.emu.url())).send().unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().unwrap_or(serde_json::Value::Null)
}

#[test]
fn admin_surface() {
    let env = start();
    env.insert_leads(3, "adm");
    env.get("Leads", "getRecords", &[]);
    let calls = admin(&env, reqwest::Method::GET, "calls");
    assert_eq!(calls["used_today"], 2);
    let today = calls["today"].as_str().unwrap().to_owned();
    assert_eq!(calls["by_day"][&today]["by_method"]["insertRecords"], 1);
    assert_eq!(calls["by_day"][&today]["by_module"]["Leads"], 2);
    assert_eq!(admin(&env, reqwest::Method::GET, "records")["Leads"], 3);
    let clock = admin(&env, reqwest::Method::POST, "clock/advance?days=3");
    assert_eq!(clock["offset_days"], 3);
    assert_ne!(clock["today"], today);
    let tok = admin(&env, reqwest::Method::POST, "tokens");
    let token = tok["token"].as_str().unwrap().to_owned();
    let body = env.raw_get("Leads", "getRecords", &[("authtoken", &token), ("scope", "crmapi")]);
    assert_eq!(code_of(&body), "ok");
    let f = admin(&env, reqwest::Method::POST, "faults?spec=latency=1ms,seed=3");
    assert_eq!(f["latency"], 1);
    admin(&env, reqwest::Method::DELETE, "faults");
    let log = admin(&env, reqwest::Method::GET, "requests");
    assert!(log.as_array().unwrap().iter().all(|r| r["params"]["authtoken"] == "***"));
    assert!(!serde_json::to_string(&log).unwrap().contains(TOKEN));
}

#[test]
fn error_fault_is_500_and_commits_nothing() {
    let env = start();
    env.emu.set_faults(FaultSpec::parse("error_rate=1,seed=1").unwrap());
    let xml =
        "<Leads><row no=\"1\"><FL val=\"Last Name\">A</FL><FL val=\"Company\">B</FL></row></Leads>";
    let r = env
        .http
        .post(env.url("Leads", "insertRecords"))
        .form(&[("authtoken", TOKEN), ("scope", "crmapi"), ("xmlData", xml)])
        .send()
        .unwrap();
    assert_eq!(r.status(), 500);
    env.emu.clear_faults();
    assert!(env.emu.record_counts().is_empty());
    assert_eq!(env.emu.calls_today(), 0);
}

#[test]
fn drop_after_commit_closes_the_connection_after_writing() {
    let env = start();
    env.emu.set_faults(FaultSpec::parse("drop_after_commit=1,seed=1").unwrap());
    let xml =
        "<Leads><row no=\"1\"><FL val=\"Last Name\">A</FL><FL val=\"Company\">B</FL></row></Leads>";
    let r = env
        .http
        .post(env.url("Leads", "insertRecords"))
        .form(&[("authtoken", TOKEN), ("scope", "crmapi"), ("xmlData", xml)])
        .send();
    assert!(r.is_err(), "expected a transport error, got {r:?}");
    env.emu.clear_faults();
    assert_eq!(env.emu.record_counts()["Leads"], 1);
}

#[test]
fn truncate_and_latency_faults() {
    let env = start();
    env.insert_leads(30, "tr");
    env.emu.set_faults(FaultSpec::parse("truncate=1,latency=30ms,seed=1").unwrap());
    let t = std::time::Instant::now();
    let body = env.get("Leads", "getRecords", &[]);
    assert!(t.elapsed() >= std::time::Duration::from_millis(30));
    assert!(zcrm_protocol::RecordsPage::decode(body.as_bytes()).is_err());
    env.emu.clear_faults();
    assert_eq!(page(&env.get("Leads", "getRecords", &[])).len(), 20);
}

#[test]
fn faults_are_deterministic_for_a_seed() {
    let outcomes = || {
        let env = start_with(|c| c.faults = FaultSpec::parse("error_rate=0.3,seed=42").unwrap());
        (0..30)
            .map(|_| {
                env.http
                    .get(env.url("Leads", "getRecords"))
                    .query(&[("authtoken", TOKEN), ("scope", "crmapi")])
                    .send()
                    .unwrap()
                    .status()
                    .as_u16()
            })
            .collect::<Vec<_>>()
    };
    let a = outcomes();
    assert_eq!(a, outcomes());
    assert!(a.contains(&500) && a.contains(&200));
}

#[test]
fn tls_with_the_generated_certificate() {
    let env = start_with(|c| c.tls = true);
    assert!(env.emu.url().starts_with("https://localhost:"));
    let pem = std::fs::read(env.dir.path().join("tls/cert.pem")).unwrap();
    let client = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .no_proxy()
        .build()
        .unwrap();
    let body = client
        .get(format!("{}/crm/private/xml/Leads/getRecords", env.emu.url()))
        .query(&[("authtoken", TOKEN), ("scope", "crmapi")])
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(page(&body).nodata);
}
