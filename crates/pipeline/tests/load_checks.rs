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
