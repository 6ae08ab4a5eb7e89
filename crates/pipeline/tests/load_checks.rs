//! The loader's checks as a user meets them: every problem of a file in one report, secrets
//! kept out of messages, sources that cannot be read or would be overwritten, and files with
//! thousands of steps.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use miette::{GraphicalReportHandler, GraphicalTheme};
use zcrm_pipeline::{Diagnostic, Diagnostics, LoadError, load, load_str};

/// The problems of `text` (which must have some).
fn problems(file: &Path, text: &str) -> Vec<Diagnostic> {
    match load_str(file, text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(LoadError::Invalid(d)) => d.0,
        Err(e) => panic!("not a file problem: {e}"),
    }
}

/// Both renderings of `d`: the plain text and miette's report.
fn rendered(d: &[Diagnostic]) -> String {
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::none());
    let mut out = Diagnostics(d.to_vec()).to_string();
    for x in d {
        handler.render_report(&mut out, x).unwrap();
    }
    out
}

const EXPORT_STEP: &str = "[[steps]]\nname = \"e\"\nexport = \"Leads\"\nto = \"out/e.csv\"\n";

#[test]
fn a_secret_in_the_url_is_refused_at_its_place_and_never_repeated() {
    for url in [
        "https://me:s3cr3t@crm.zoho.com",
        "https://crm.zoho.com/?authtoken=s3cr3t",
        "https://crm.zoho.com#s3cr3t",
    ] {
        let text = format!("[connection]\nurl = \"{url}\"\n{EXPORT_STEP}");
        let d = problems(Path::new("p.toml"), &text);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!((d[0].line, d[0].column), (2, 7), "at the url's value");
        assert!(d[0].to_string().starts_with("p.toml:2:7: "), "{}", d[0]);
        let shown = rendered(&d);
        assert!(!shown.contains("s3cr3t"), "the secret is shown: {shown}");
        assert!(shown.contains("authtoken_env"), "says where the token goes: {shown}");
    }
}

/// A pipeline of `n` import steps, each with the body `step(i)`.
fn many_steps(n: usize, step: impl Fn(usize) -> String) -> String {
    (0..n).map(|i| format!("[[steps]]\nname = \"s{i}\"\n{}\n", step(i))).collect()
}

#[test]
fn thousands_of_problems_share_one_copy_of_the_file() {
    let text = many_steps(2_000, |i| {
        format!(
            "import = \"Leeds\"\nsource = \"in/{i}.csv\"\n[steps.map]\n\"Last Name\" = \"last\""
        )
    });
    let d = problems(Path::new("big.toml"), &text);
    assert_eq!(d.len(), 2_000, "one unknown module per step");
    let first = d[0].text.as_ref().expect("the file's text").inner();
    assert_eq!(first.len(), text.len());
    for x in &d {
        let shared = x.text.as_ref().expect("the file's text").inner();
        assert!(std::sync::Arc::ptr_eq(first, shared), "a copy of the file per problem");
    }
    assert_eq!(std::sync::Arc::strong_count(first), d.len(), "no other copy is kept alive");
}

#[test]
fn problems_found_after_loading_share_the_pipelines_copy() {
    let text = many_steps(2_000, |i| {
        format!(
            "import = \"Leads\"\nsource = \"in/{i}.csv\"\n[steps.map]\n\"Last Name\" = \"last\""
        )
    });
    let p = load_str(Path::new("big.toml"), &text).unwrap();
    assert_eq!(p.steps.len(), 2_000);
    let later: Vec<_> =
        (0..2_000).map(|i| Diagnostic::at(&p.path, &p.text, Some(i..i + 1), "x", None)).collect();
    for x in &later {
        let shared = x.text.as_ref().expect("the file's text").inner();
        assert!(std::sync::Arc::ptr_eq(&p.text, shared), "a copy of the file per problem");
    }
}

/// Writes `files` (path, contents) under a new temporary folder.
fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (p, text) in files {
        let p = dir.path().join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

/// The problems `load` finds in the pipeline `p.toml` of `dir`.
fn load_problems(dir: &Path) -> Vec<Diagnostic> {
    match load(&dir.join("p.toml")) {
        Ok(_) => panic!("accepted"),
        Err(LoadError::Invalid(d)) => d.0,
        Err(e) => panic!("not a file problem: {e}"),
    }
}

/// `(line, column)` of each problem, checking that its one-line form starts with
/// `file:line:column: `.
fn places(file: &Path, d: &[Diagnostic]) -> Vec<(usize, usize)> {
    for x in d {
        let at = format!("{}:{}:{}: ", file.display(), x.line, x.column);
        assert!(x.line > 0 && x.to_string().starts_with(&at), "no place: {x}");
    }
    d.iter().map(|x| (x.line, x.column)).collect()
}

#[test]
fn every_problem_of_a_file_is_reported_at_once() {
    let text = r#"[connection]
url = "embedded"
edition = "enterprize"
licences = 3
[state]
folder = ".zcrm"
[[steps]]
name = "leads"
import = "Leads"
source = "in/missing.csv"
mode = "upsrt"
rejekts = "out/r.csv"
[steps.map]
"Last Name" = { colum = "last" }
"Company" = 3
"#;
    let dir = folder(&[("p.toml", text)]);
    let d = load_problems(dir.path());
    let file = dir.path().join("p.toml");
    assert_eq!(
        places(&file, &d),
        [(3, 11), (4, 1), (6, 1), (10, 10), (11, 8), (12, 1), (14, 15), (15, 13)],
        "{}",
        Diagnostics(d.clone())
    );
    let all = Diagnostics(d).to_string();
    for words in [
        "edition",
        "unknown field `licences`",
        "did you mean `licenses`?",
        "unknown field `folder`",
        "in/missing.csv",
        "unknown mode \"upsrt\"",
        "unknown field `rejekts`",
        "did you mean `rejects`?",
        "unknown key `colum`",
        "`Company` must map to a column name or a table",
        "8 problems in the pipeline",
    ] {
        assert!(all.contains(words), "{words:?} missing from:\n{all}");
    }
}

#[test]
fn values_of_the_wrong_type_do_not_hide_other_problems_either() {
    let text = r#"[connection]
licenses = "two"
write_batch = 1.5
[[steps]]
name = "a"
import = "Leads"
source = "a.csv"
colour = "blue"
header_row = "1"
[steps.map]
"Last Name" = "last"
[[steps]]
name = "b"
export = "Leeds"
to = "b.csv"
shape = "round"
"#;
    let d = problems(Path::new("p.toml"), text);
    assert_eq!(
        places(Path::new("p.toml"), &d),
        [(2, 12), (3, 15), (8, 1), (9, 14), (14, 10), (16, 1)],
        "{}",
        Diagnostics(d.clone())
    );
    let all = Diagnostics(d).to_string();
    assert!(all.contains("`licenses` must be an integer, not a string"), "{all}");
    assert!(all.contains("`write_batch` must be an integer, not a float"), "{all}");
    assert!(all.contains("unknown module \"Leeds\""), "{all}");
}

/// A pipeline with one import step reading `source`.
fn import_of(source: &str, extra: &str) -> String {
    format!(
        "[[steps]]\nname = \"leads\"\nimport = \"Leads\"\nsource = \"{source}\"\n{extra}[steps.map]\n\"Last Name\" = \"last\"\n"
    )
}

#[cfg(unix)]
#[test]
fn sources_that_are_not_regular_files_are_refused_at_their_place() {
    let dir = folder(&[("in/ok.csv", "last\nDoe\n")]);
    let ok = dir.path().join("in/ok.csv");
    let fifo = dir.path().join("in/fifo.csv");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success(), "mkfifo");
    std::fs::create_dir(dir.path().join("in/folder.csv")).unwrap();
    std::os::unix::fs::symlink("/dev/null", dir.path().join("in/device.csv")).unwrap();
    for (source, what) in
        [("in/fifo.csv", "a FIFO"), ("in/folder.csv", "a folder"), ("in/device.csv", "a device")]
    {
        std::fs::write(dir.path().join("p.toml"), import_of(source, "")).unwrap();
        let d = load_problems(dir.path());
        assert_eq!(places(&dir.path().join("p.toml"), &d), [(4, 10)], "at the source's value");
        assert!(d[0].message.contains(what), "{what}: {}", d[0]);
        assert!(d[0].message.contains("not a regular file"), "{}", d[0]);
    }
    // The same check follows a symbolic link to a regular file.
    std::os::unix::fs::symlink(&ok, dir.path().join("in/link.csv")).unwrap();
    std::fs::write(dir.path().join("p.toml"), import_of("in/link.csv", "")).unwrap();
    assert!(load(&dir.path().join("p.toml")).is_ok());
}

/// The one problem `load` finds in `p.toml` of `dir` written as `text`: its place and message.
fn the_problem(dir: &Path, text: &str) -> ((usize, usize), String) {
    std::fs::write(dir.join("p.toml"), text).unwrap();
    let d = load_problems(dir);
    let at = places(&dir.join("p.toml"), &d);
    assert_eq!(d.len(), 1, "{}", Diagnostics(d.clone()));
    (at[0], d[0].message.clone())
}

#[cfg(unix)]
#[test]
fn an_output_that_is_an_input_is_refused_however_it_is_spelt() {
    let source = "last\nDoe\n";
    let dir = folder(&[("in/leads.csv", source), ("in/other.csv", source)]);
    let d = dir.path();
    std::fs::create_dir(d.join("out")).unwrap();
    std::os::unix::fs::symlink("../in/leads.csv", d.join("out/link.csv")).unwrap();
    std::os::unix::fs::symlink("in", d.join("alias")).unwrap();
    std::fs::hard_link(d.join("in/leads.csv"), d.join("out/hard.csv")).unwrap();
    for rejects in [
        "in/leads.csv",
        "./in/../in/leads.csv",
        d.join("in/leads.csv").to_str().unwrap(),
        "out/link.csv",
        "alias/leads.csv",
        "out/hard.csv",
    ] {
        let text = import_of("in/leads.csv", &format!("rejects = \"{rejects}\"\n"));
        let (at, message) = the_problem(d, &text);
        assert_eq!(at, (5, 11), "{rejects}: at the value of `rejects`");
        assert!(message.contains("reject file") && message.contains("source"), "{message}");
        // The success file, named or by default next to the reject file, too.
        let text = import_of("in/leads.csv", &format!("success = \"{rejects}\"\n"));
        assert_eq!(the_problem(d, &text).0, (5, 11), "{rejects}: at the value of `success`");
    }
    let text = import_of("in/leads.csv", "rejects = \"in/leads.rejects.csv\"\n")
        .replace("in/leads.csv", "in/leads.success.csv");
    std::fs::write(d.join("in/leads.success.csv"), source).unwrap();
    let (at, message) = the_problem(d, &text);
    assert_eq!(at, (4, 10), "a default path has no place of its own: the source's");
    assert!(message.contains("success file"), "{message}");
    // Nothing was read or written: the sources are intact.
    assert_eq!(std::fs::read_to_string(d.join("in/leads.csv")).unwrap(), source);
}

#[test]
fn outputs_must_not_overwrite_other_steps_files_or_the_pipeline() {
    let dir = folder(&[("in/a.csv", "last\nDoe\n"), ("in/b.csv", "last\nRoe\n")]);
    let d = dir.path();
    let a = import_of("in/a.csv", "rejects = \"out/a.csv\"\n");
    let b = import_of("in/b.csv", "success = \"out/a.csv\"\n").replace("\"leads\"", "\"b\"");
    // Another step's source, another step's output, the pipeline file itself.
    let onto_b = import_of("in/a.csv", "rejects = \"in/b.csv\"\n");
    let (at, m) = the_problem(d, &format!("{onto_b}{b}"));
    assert_eq!(at, (5, 11), "{m}");
    assert!(m.contains("the source of step \"b\""), "{m}");
    let (at, m) = the_problem(d, &format!("{a}{b}"));
    assert_eq!(at, (12, 11), "{m}");
    assert!(m.contains("the reject file of step \"leads\""), "{m}");
    let (at, m) = the_problem(d, &import_of("in/a.csv", "rejects = \"p.toml\"\n"));
    assert_eq!(at, (5, 11), "{m}");
    assert!(m.contains("pipeline file"), "{m}");
    // An export's file, or a folder the export writes parts into that holds a source.
    let export = |to: &str| format!("[[steps]]\nname = \"e\"\nexport = \"Leads\"\nto = \"{to}\"\n");
    let (at, m) = the_problem(d, &format!("{a}{}", export("in/a.csv")));
    assert_eq!(at, (11, 6), "{m}");
    assert!(m.contains("the source of step \"leads\""), "{m}");
    let (at, m) = the_problem(d, &format!("{a}{}", export("in/")));
    assert_eq!(at, (11, 6), "{m}");
    assert!(m.contains("in/a.csv"), "{m}");
    // Without the file system (load_str), the same spelling is still caught.
    let text = import_of("in/a.csv", "rejects = \"in/a.csv\"\n");
    let d = problems(&d.join("p.toml"), &text);
    assert_eq!(places(&dir.path().join("p.toml"), &d), [(5, 11)]);
}

#[test]
fn an_export_since_that_is_no_time_is_a_problem_at_load() {
    let text =
        "[[steps]]\nname = \"e\"\nexport = \"Leads\"\nto = \"out/e.csv\"\nsince = \"yesterday\"\n";
    let err = zcrm_pipeline::load_str(Path::new("p.toml"), text).unwrap_err();
    let all = err.to_string();
    assert!(all.contains("since \"yesterday\" is not a starting point"), "{all}");
    assert!(all.contains("p.toml:5:9"), "{all}");
    for ok in ["last-run", "all", "2026-01-31", "2026-01-31 08:00:00"] {
        let text = text.replace("yesterday", ok);
        assert!(zcrm_pipeline::load_str(Path::new("p.toml"), &text).is_ok(), "{ok}");
    }
}

#[test]
fn a_v8_connection_names_its_oauth_variables_and_counts_credits() {
    let text = format!(
        "[connection]\napi = \"v8\"\nclient_id_env = \"ZOHO_CLIENT_ID\"\nclient_secret_env = \"ZOHO_CLIENT_SECRET\"\nrefresh_token_env = \"ZOHO_REFRESH_TOKEN\"\nedition = \"enterprise\"\nlicenses = 40\nbudget_share = 0.5\n{EXPORT_STEP}"
    );
    let p = load_str(Path::new("p.toml"), &text).unwrap();
    let c = &p.connection;
    assert_eq!(c.api, zcrm_pipeline::Api::V8);
    assert_eq!(c.oauth.client_id, "ZOHO_CLIENT_ID");
    assert_eq!(c.oauth.client_secret, "ZOHO_CLIENT_SECRET");
    assert_eq!(c.oauth.refresh_token, "ZOHO_REFRESH_TOKEN");
    assert!(c.rule().rolling());
    assert_eq!(c.rule().daily_budget(), 90_000, "50,000 + 40 × 1,000 credits");
    assert_eq!(c.org().unwrap(), "embedded~v8", "no url: the embedded emulator's v8 face");

    let text = format!("[connection]\napi = \"V8\"\ndaily_credits = 250000\n{EXPORT_STEP}");
    let p = load_str(Path::new("p.toml"), &text).unwrap();
    assert_eq!(p.connection.rule(), zcrm_protocol::BudgetRule::FixedCredits(250_000));
    // The XML default is unchanged: calls per org day.
    let p = load_str(Path::new("p.toml"), EXPORT_STEP).unwrap();
    assert_eq!(p.connection.api, zcrm_pipeline::Api::Xml);
    assert!(!p.connection.rule().rolling());
}

#[test]
fn keys_of_the_other_dialect_are_refused_and_a_secret_given_as_a_name_is_not_repeated() {
    let text = format!(
        "[connection]\napi = \"v8\"\nauthtoken_env = \"ZCRM_AUTHTOKEN\"\ndaily_budget = 5000\nclient_secret_env = \"1000.abcdef-s3cr3t\"\n{EXPORT_STEP}"
    );
    let d = problems(Path::new("p.toml"), &text);
    let shown = rendered(&d);
    assert_eq!(d.len(), 3, "{shown}");
    assert!(shown.contains("authtoken_env applies to api = \"xml\" only"), "{shown}");
    assert!(shown.contains("daily_credits"), "says what a v8 org has instead: {shown}");
    assert!(shown.contains("client_secret_env is not a variable name"), "{shown}");
    assert!(!shown.contains("s3cr3t"), "the secret is shown: {shown}");

    let text = format!(
        "[connection]\nclient_id_env = \"ZOHO_CLIENT_ID\"\ndaily_credits = 10\napi = \"v9\"\n{EXPORT_STEP}"
    );
    let d = problems(Path::new("p.toml"), &text);
    let shown = rendered(&d);
    assert_eq!(d.len(), 3, "{shown}");
    assert!(shown.contains("unknown api \"v9\""), "{shown}");
    assert!(shown.contains("client_id_env applies to api = \"v8\" only"), "{shown}");
    assert!(shown.contains("daily_credits applies to api = \"v8\" only"), "{shown}");
}

#[test]
fn a_secret_never_shows_in_the_context_lines_of_other_problems() {
    // A token pasted where a variable name goes, and a token in a URL: their own problems
    // hide their lines, and so must the problems on the lines around them.
    let text = format!(
        "[connection]\nedition = \"platinum\"\nauthtoken_env = \"9f8e7d6c5b4a-t0ken\"\nlicenses = 0\nurl = \"https://crm.zoho.com/?authtoken=s3cr3t\"\nbudget_share = 7\n{EXPORT_STEP}"
    );
    let d = problems(Path::new("p.toml"), &text);
    let shown = rendered(&d);
    assert_eq!(d.len(), 5, "{shown}");
    assert!(!shown.contains("t0ken"), "the token is shown: {shown}");
    assert!(!shown.contains("s3cr3t"), "the URL's token is shown: {shown}");
    assert!(shown.contains("authtoken_env is not a variable name"), "{shown}");
    assert!(shown.contains("licenses must be at least 1"), "{shown}");
}

#[test]
fn write_options_are_checked_against_the_mode_and_the_dialect() {
    let step = |extra: &str| {
        format!(
            "[[steps]]\nname = \"s\"\nimport = \"Leads\"\nsource = \"in.csv\"\n{extra}\n[steps.map]\n\"Last Name\" = \"last\"\n\"Company\" = \"c\"\n"
        )
    };
    let p = load_str(
        Path::new("p.toml"),
        &step("workflow = true\napproval = true\non_duplicate = \"reject\""),
    )
    .unwrap();
    let zcrm_pipeline::Step::Import(s) = &p.steps[0] else { panic!() };
    assert!(s.options.workflow && s.options.approval);
    assert_eq!(s.options.on_duplicate, zcrm_client::OnDuplicate::Reject);

    let text = format!(
        "{}{}",
        step("on_duplicate = \"skip\"\nworkflow = \"yes\""),
        step("mode = \"upsert\"\nmatch_on = \"Email\"\non_duplicate = \"match\"")
            .replace("\"s\"", "\"t\"")
    );
    let d = problems(Path::new("p.toml"), &text);
    let shown = rendered(&d);
    assert_eq!(d.len(), 3, "{shown}");
    assert!(shown.contains("unknown on_duplicate \"skip\""), "{shown}");
    assert!(shown.contains("workflow") && shown.contains("true or false"), "{shown}");
    assert!(shown.contains("on_duplicate applies to mode = \"insert\""), "{shown}");

    let text = format!("[connection]\napi = \"v8\"\n{}", step("on_duplicate = \"reject\""));
    let shown = rendered(&problems(Path::new("p.toml"), &text));
    assert!(shown.contains("on_duplicate applies to api = \"xml\""), "{shown}");
}

#[test]
fn the_write_method_is_records_or_bulk_and_bulk_needs_v8_without_line_items() {
    let step = |name: &str, extra: &str| {
        format!(
            "[[steps]]\nname = \"{name}\"\nimport = \"Leads\"\nsource = \"in.csv\"\n{extra}\n[steps.map]\n\"Last Name\" = \"last\"\n\"Company\" = \"c\"\n"
        )
    };
    let v8 = "[connection]\napi = \"v8\"\n";
    let text = format!(
        "{v8}{}{}{}",
        step("a", "method = \"bulk\""),
        step("b", "method = \"records\""),
        step("c", "")
    );
    let p = load_str(Path::new("p.toml"), &text).unwrap();
    let methods: Vec<_> = p
        .steps
        .iter()
        .map(|s| match s {
            zcrm_pipeline::Step::Import(s) => s.method,
            _ => panic!(),
        })
        .collect();
    use zcrm_pipeline::Method;
    assert_eq!(methods, [Some(Method::Bulk), Some(Method::Records), None]);

    // On XML, bulk names the key; an unknown method is refused at its place.
    let text = format!("{}{}", step("a", "method = \"bulk\""), step("b", "method = \"fast\""));
    let d = problems(Path::new("p.toml"), &text);
    let shown = rendered(&d);
    assert_eq!(d.len(), 2, "{shown}");
    assert!(shown.contains("method = \"bulk\" needs api = \"v8\""), "{shown}");
    assert!(shown.contains("unknown method \"fast\""), "{shown}");
    assert_eq!(d[0].line, 5, "at the method key: {shown}");

    // Line items go through the record API.
    let quotes = "[[steps]]\nname = \"q\"\nimport = \"Quotes\"\nsource = \"q.csv\"\nkey = \"k\"\nmethod = \"bulk\"\n[steps.map]\n\"Subject\" = \"s\"\n[steps.line_items]\nsource = \"l.csv\"\nparent = \"k\"\n[steps.line_items.map]\n\"Product Id\" = \"p\"\n\"Quantity\" = \"n\"\n";
    let shown = rendered(&problems(Path::new("p.toml"), &format!("{v8}{quotes}")));
    assert!(shown.contains("cannot send [steps.line_items]"), "{shown}");

    // Exports read through the record API or Bulk Read (v8 only); nothing else.
    let p =
        load_str(Path::new("p.toml"), &format!("{v8}{EXPORT_STEP}method = \"bulk\"\n")).unwrap();
    let zcrm_pipeline::Step::Export(e) = &p.steps[0] else { panic!() };
    assert_eq!(e.method, Some(zcrm_pipeline::ExportMethod::Bulk));
    let shown =
        rendered(&problems(Path::new("p.toml"), &format!("{EXPORT_STEP}method = \"bulk\"\n")));
    assert!(shown.contains("Bulk Read is a REST API feature"), "{shown}");
    let shown =
        rendered(&problems(Path::new("p.toml"), &format!("{v8}{EXPORT_STEP}method = \"fast\"\n")));
    assert!(shown.contains("is not a way to export"), "{shown}");
}

/// `reads_in_flight`: 4 by default, 1..=8 on XML, at most the edition's cap less one on a v8
/// Free org; out of range at its place, naming the bounds.
#[test]
fn reads_in_flight_are_bounded_by_the_dialect() {
    let p = load_str(Path::new("p.toml"), EXPORT_STEP).unwrap();
    assert_eq!(p.connection.reads_in_flight, 4);
    let text = format!("[connection]\nreads_in_flight = 8\n{EXPORT_STEP}");
    assert_eq!(load_str(Path::new("p.toml"), &text).unwrap().connection.reads_in_flight, 8);
    let text = format!("[connection]\nreads_in_flight = 9\n{EXPORT_STEP}");
    let d = problems(Path::new("p.toml"), &text);
    assert!(rendered(&d).contains("between 1 and 8"), "{}", rendered(&d));
    let text = format!("[connection]\napi = \"v8\"\nreads_in_flight = 5\n{EXPORT_STEP}");
    let d = problems(Path::new("p.toml"), &text);
    assert!(rendered(&d).contains("between 1 and 4"), "free: {}", rendered(&d));
    let text = format!(
        "[connection]\napi = \"v8\"\nedition = \"enterprise\"\nreads_in_flight = 8\n{EXPORT_STEP}"
    );
    assert_eq!(load_str(Path::new("p.toml"), &text).unwrap().connection.reads_in_flight, 8);
}

/// `attachments = "DIR"`: a folder beside the pipeline file on v8; on XML refused at its place,
/// naming the dialect and why; not a key of import steps; not a folder the pipeline reads from.
#[test]
fn export_attachments_need_v8_and_a_folder_of_their_own() {
    let v8 = "[connection]\napi = \"v8\"\n";
    let p = load_str(
        Path::new("dir/p.toml"),
        &format!("{v8}{EXPORT_STEP}attachments = \"out/files\"\nmethod = \"bulk\"\n"),
    )
    .unwrap();
    let zcrm_pipeline::Step::Export(e) = &p.steps[0] else { panic!() };
    assert_eq!(e.attachments.as_deref(), Some(Path::new("dir/out/files")));
    let p = load_str(Path::new("p.toml"), &format!("{v8}{EXPORT_STEP}")).unwrap();
    let zcrm_pipeline::Step::Export(e) = &p.steps[0] else { panic!() };
    assert_eq!(e.attachments, None);

    let text = format!("{EXPORT_STEP}attachments = \"out/files\"\n");
    let d = problems(Path::new("p.toml"), &text);
    let shown = rendered(&d);
    assert_eq!(d.len(), 1, "{shown}");
    assert!(
        shown.contains("attachments needs api = \"v8\": the XML API has no call that lists a record's attachments"),
        "{shown}"
    );
    let at = text.find("\"out/files\"").unwrap();
    assert_eq!(d[0].span.as_ref().map(|s| s.start), Some(at), "{shown}");

    let shown = rendered(&problems(
        Path::new("p.toml"),
        &format!(
            "{v8}{EXPORT_STEP}attachments = 3\n{}",
            import_of("in.csv", "attachments = \"x\"\n")
        ),
    ));
    assert!(shown.contains("attachments"), "{shown}");
    assert!(shown.contains("does not apply to import steps"), "{shown}");

    // The attachments folder is an output: the same folder as the export's parts clashes.
    let shown = rendered(&problems(
        Path::new("p.toml"),
        &format!(
            "{v8}[[steps]]\nname = \"e\"\nexport = \"Leads\"\nto = \"out/parts/\"\nattachments = \"out/parts\"\n"
        ),
    ));
    assert!(shown.contains("the attachments folder of step \"e\""), "{shown}");
}
