//! `zcrm fields MODULE`: the module's getFields metadata as a table or JSON, cached in the
//! state dir.

use anyhow::Result;
use zcrm_client::MetadataCache;
use zcrm_protocol::ModuleFields;

use crate::connection::{Settings, connect};

/// Runs the command; returns the text to print.
pub fn run(module: &str, json: bool, refresh: bool) -> Result<String> {
    let settings = Settings::from_env()?;
    let cache = MetadataCache::new(&settings.state_dir, &settings.org()?);
    let cached = match (refresh, cache.cached(module)) {
        (false, Some(hit)) => hit,
        _ => {
            let conn = connect(&settings, "cli")?;
            cache.get(&*conn.client, module, true)?
        }
    };
    if json {
        let doc = serde_json::json!({
            "module": cached.fields.module,
            "fetched_at": cached.fetched_at.to_string(),
            "from_cache": cached.from_cache,
            "org": settings.org()?,
            "sections": cached.fields.sections,
        });
        return Ok(serde_json::to_string_pretty(&doc)?);
    }
    let org = settings.org()?;
    let source = if cached.from_cache {
        format!("from the cache of org {org}, fetched {} ago at", age(cached.fetched_at))
    } else {
        format!("fetched now from org {org} at")
    };
    Ok(format!(
        "{}\n{} fields of {}, {source} {} (--refresh fetches again)\n",
        table(&cached.fields),
        cached.fields.fields().count(),
        cached.fields.module,
        cached.fetched_at
    ))
}

/// How long ago `t` was, roughly (`3 h`, `12 min`, `40 s`, `2 days`).
fn age(t: jiff::Timestamp) -> String {
    let secs = jiff::Timestamp::now().duration_since(t).as_secs().max(0);
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7_200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3_600),
        s => format!("{} days", s / 86_400),
    }
}

/// The fields as an aligned text table.
pub fn table(m: &ModuleFields) -> String {
    let header = ["Section", "Label", "Type", "Required", "Read-only", "Max", "Picklist / lookup"];
    let rows: Vec<[String; 7]> = m
        .fields()
        .map(|(s, f)| {
            let extra = if !f.picklist.is_empty() {
                f.picklist.join(", ")
            } else {
                f.lookup_module.as_ref().map(|l| format!("→ {l}")).unwrap_or_default()
            };
            let mut label = if f.display_label != f.label {
                format!("{} (shown as {})", f.label, f.display_label)
            } else {
                f.label.clone()
            };
            // The REST API's name, where the metadata came from it.
            if let Some(api) = f.api_name.as_deref().filter(|a| *a != f.label) {
                label.push_str(&format!(" [{api}]"));
            }
            [
                s.name.clone(),
                label,
                f.field_type.to_string(),
                if f.required { "yes".into() } else { String::new() },
                if f.read_only { "yes".into() } else { String::new() },
                f.max_length.map(|n| n.to_string()).unwrap_or_default(),
                extra,
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        let mut out = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(c);
            } else {
                out.push_str(&format!("{c:<w$}  "));
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(&header);
    let mut dashes = widths.map(|w| "-".repeat(w));
    dashes[6] = "-".repeat(header[6].len());
    out.push_str(&line(&dashes.iter().map(String::as_str).collect::<Vec<_>>()));
    for r in &rows {
        out.push_str(&line(&r.iter().map(String::as_str).collect::<Vec<_>>()));
    }
    out
}
