//! `zcrm users [--all]`: the org's users, as owners by e-mail or name resolve against them.

use anyhow::Result;
use zcrm_protocol::params::UserType;

use crate::connection::{Settings, connect};

/// Runs the command; returns the table to print.
pub fn run(all: bool) -> Result<String> {
    let settings = Settings::from_env()?;
    let conn = connect(&settings, "cli")?;
    let kind = if all { UserType::AllUsers } else { UserType::ActiveUsers };
    let users = conn.client.users(kind)?;
    let header = ["Name", "E-mail", "Id", "Status", "Role", "Profile"];
    let rows: Vec<[String; 6]> = users
        .iter()
        .map(|u| {
            let attr = |k: &str| u.attr(k).unwrap_or_default().to_owned();
            [
                u.name.clone(),
                u.email.clone(),
                u.id.to_string(),
                attr("status"),
                attr("role"),
                attr("profile"),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut out = String::new();
        for (c, w) in cells.iter().zip(widths) {
            out.push_str(&format!("{c:<w$}  "));
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(&header.map(str::to_owned));
    out.push_str(&line(&widths.map(|w| "-".repeat(w))));
    for r in &rows {
        out.push_str(&line(r));
    }
    out.push_str(&format!(
        "{} {}user(s); an owner in a map (`{{ owner = \"column\" }}`) names one by e-mail or full name\n",
        users.len(),
        if all { "" } else { "active " }
    ));
    Ok(out)
}
