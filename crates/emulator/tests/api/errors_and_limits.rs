use super::harness::*;

#[test]
fn auth_errors() {
    let env = start();
    let no_token = env.raw_get("Leads", "getRecords", &[("scope", "crmapi")]);
    assert_eq!(code_of(&no_token), "4834");
    let bad = env.raw_get("Leads", "getRecords", &[("authtoken", "nope"), ("scope", "crmapi")]);
    assert_eq!(code_of(&bad), "4834");
    assert_eq!(env.emu.calls_today(), 0, "unknown tokens are not counted");
    let no_scope = env.raw_get("Leads", "getRecords", &[("authtoken", TOKEN)]);
    assert_eq!(code_of(&no_scope), "4831");
    assert_eq!(env.emu.calls_today(), 1, "valid tokens count even when the call fails");
}

#[test]
fn unknown_method_module_and_deprecated() {
    let env = start();
    assert_eq!(code_of(&env.get("Leads", "getEverything", &[])), "4600");
    assert_eq!(code_of(&env.get("Widgets", "getRecords", &[])), "4600");
    let dep = env.get("Leads", "getAllRecords", &[]);
    assert_eq!(dep, zcrm_protocol::response::encode_refusal());
    let r = env.http.get(format!("{}/crm/private/xml/Leads", env.emu.url())).send().unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().unwrap().contains("<code>4600</code>"));
}

#[test]
fn read_window_limits() {
    let env = start();
    assert_eq!(
        code_of(&env.get("Leads", "getRecords", &[("fromIndex", "1"), ("toIndex", "201")])),
        "4600"
    );
    assert_eq!(
        code_of(&env.get("Leads", "getRecords", &[("fromIndex", "10"), ("toIndex", "5")])),
        "4600"
    );
    assert_eq!(
        code_of(&env.get("Leads", "getRecords", &[("fromIndex", "1"), ("toIndex", "200")])),
        "ok"
    );
    assert_eq!(
        code_of(&env.get("Leads", "getRecords", &[("sortColumnString", "No Such Field")])),
        "4600"
    );
    assert_eq!(code_of(&env.get("Leads", "deleteRecords", &[])), "4831");
}

#[test]
fn daily_budget_and_the_turn_of_the_day() {
    let env = start_with(|c| c.daily_budget = Some(5));
    for _ in 0..5 {
        assert_eq!(code_of(&env.get("Leads", "getRecords", &[])), "ok");
    }
    let over = env.get("Leads", "getRecords", &[]);
    assert_eq!(code_of(&over), "4421");
    assert_eq!(code_of(&env.get("Leads", "getFields", &[])), "4421");
    assert_eq!(env.emu.calls_today(), 7);
    env.emu.advance_days(1).unwrap();
    assert_eq!(code_of(&env.get("Leads", "getRecords", &[])), "ok");
    assert_eq!(env.emu.calls_today(), 1);
}

#[test]
fn edition_budget_free_is_250() {
    let dir = tempfile::tempdir().unwrap();
    let emu =
        zcrm_emulator::Emulator::start(zcrm_emulator::EmulatorConfig::new(dir.path()).token(TOKEN))
            .unwrap();
    assert_eq!(emu.daily_budget(), 250);
}

#[test]
fn search_and_cv_cap_of_250() {
    let env = start();
    for i in 0..250 {
        let m = if i % 2 == 0 { "getSearchRecords" } else { "getCVRecords" };
        let p: &[(&str, &str)] = if m == "getSearchRecords" {
            &[("selectColumns", "All"), ("searchCondition", "(Last Name|=|x)")]
        } else {
            &[("cvName", "All Leads")]
        };
        assert_ne!(code_of(&env.get("Leads", m, p)), "4421", "call {i}");
    }
    let over = env.get("Leads", "getCVRecords", &[("cvName", "All Leads")]);
    assert_eq!(code_of(&over), "4421");
    assert_eq!(code_of(&env.get("Leads", "getRecords", &[])), "ok");
    env.emu.advance_days(1).unwrap();
    assert_eq!(code_of(&env.get("Leads", "getCVRecords", &[("cvName", "All Leads")])), "ok");
}

#[test]
fn parameter_errors_use_the_protocol_messages() {
    let env = start();
    let v3 = env.get("Leads", "getRecords", &[("version", "3")]);
    assert_eq!(code_of(&v3), "4600", "version=3 is not a version");
    let crit = env.get("Leads", "searchRecords", &[("criteria", "(:x)")]);
    assert_eq!(code_of(&crit), "4832");
    assert!(crit.contains(
        "API call cannot be completed as the Criteria parameter contains empty field name"
    ));
    let missing = env.get("Leads", "searchRecords", &[]);
    assert_eq!(code_of(&missing), "4831");
    assert!(missing.contains("Missing parameter : criteria"));
    let bad_id = env.get("Leads", "deleteRecords", &[("id", "bogus123")]);
    assert!(bad_id.contains(&zcrm_protocol::messages::invalid_parameter("id")));
    let no_token = env.raw_get("Leads", "getRecords", &[("scope", "crmapi")]);
    assert!(no_token.contains(zcrm_protocol::messages::INVALID_TICKET));
}
