//! `zcrm init --from FILE --module MODULE [--to PIPELINE.toml]`: a commented first pipeline
//! for a source file — each column matched to the nearest field of the module (labels, API
//! names, synonyms, near spellings), date formats guessed from a sample, picklist values
//! checked, required fields without a column called out, unmatched columns listed. The file it
//! writes is valid: `zcrm validate` on it exits 0 or 1 (rows to fix), never 2.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use zcrm_client::MetadataCache;
use zcrm_mapping::suggest::{Matched, Suggestion, suggest_map};
use zcrm_readers::SourceOptions;

use crate::connection::{Settings, connect};

/// Rows of the source read to guess formats and check values.
const SAMPLE_ROWS: usize = 500;

/// Examples for `--help`.
pub const EXAMPLES: &str = "Examples:\n  zcrm init --from contacts.csv --module Contacts\n  \
zcrm init --from export.xlsx --module Leads --to pipelines/leads.toml\n\n\
Reads the file's header and its first 500 rows and the module's fields (cached in the state \
dir), and writes a pipeline to edit: then `zcrm validate` it, `zcrm plan` it, `zcrm run` it.";

/// Arguments of `zcrm init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The source file (CSV or XLSX; the first sheet).
    #[arg(long = "from", value_name = "FILE")]
    pub from: PathBuf,
    /// The module to import into (API name: Leads, Contacts, CustomModule1, ...).
    #[arg(long, value_parser = super::module_name)]
    pub module: String,
    /// The pipeline file to write (default: `<module>.toml` in the current folder).
    #[arg(long = "to", value_name = "PIPELINE")]
    pub to: Option<PathBuf>,
    /// Overwrite the pipeline file if it exists.
    #[arg(long, conflicts_with = "append")]
    pub force: bool,
    /// Add the step to the existing pipeline file (its connection and steps kept), after its
    /// steps; a column that is the key of one of its steps' files becomes a lookup to it.
    #[arg(long)]
    pub append: bool,
}

/// An import step already in the pipeline that `--append` adds to: what a lookup needs.
#[derive(Debug, Clone)]
struct Existing {
    name: String,
    module: String,
    key: Option<String>,
}

/// Modules whose records other names point at (`deal_id` → Potentials).
const MODULE_ALIASES: &[(&str, &str)] =
    &[("deal", "Potentials"), ("opportunity", "Potentials"), ("salesorder", "SalesOrders")];

/// The existing step whose file a key column `column` of another file points at: by the
/// column's stem (`account_id` → account) against the steps' modules (Accounts) and names.
fn step_for<'e>(column: &str, steps: &'e [Existing]) -> Option<&'e Existing> {
    let stem = zcrm_mapping::suggest::id_stem(column)?;
    let stem = stem.as_str();
    let alias = MODULE_ALIASES.iter().find(|(a, _)| *a == stem).map(|(_, m)| *m);
    steps.iter().filter(|s| s.key.is_some()).find(|s| {
        let module = s.module.to_ascii_lowercase();
        alias.is_some_and(|m| m == s.module)
            || module == format!("{stem}s")
            || module == stem
            || s.name == format!("{stem}s")
    })
}

/// A TOML basic string (JSON's escapes are TOML's).
fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{}\"", s.replace('"', "'")))
}

/// `target` relative to the folder `from` (both made absolute first).
fn relative(target: &Path, from: &Path) -> PathBuf {
    let abs = |p: &Path| {
        std::fs::canonicalize(p).unwrap_or_else(|_| {
            std::env::current_dir().map(|d| d.join(p)).unwrap_or_else(|_| p.to_path_buf())
        })
    };
    let (t, f) = (abs(target), abs(from));
    let tc: Vec<Component<'_>> = t.components().collect();
    let fc: Vec<Component<'_>> = f.components().collect();
    let common = tc.iter().zip(&fc).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return t;
    }
    let mut out = PathBuf::new();
    for _ in common..fc.len() {
        out.push("..");
    }
    for c in &tc[common..] {
        out.push(c.as_os_str());
    }
    out
}

/// The `[connection]` table for the connection this command used (the environment's).
fn connection_table() -> String {
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
    let mut out = String::from("[connection]\n");
    match var("ZCRM_URL").filter(|u| u != "embedded") {
        None => out.push_str(
            "# No url: the built-in emulator (a rehearsal; `zcrm run` starts it).\n\
             # For a live org see the README, \"Connecting to a live org\":\n\
             # api = \"v8\"\n# url = \"eu\"\n# client_id_env = \"ZOHO_CLIENT_ID\"\n\
             # client_secret_env = \"ZOHO_CLIENT_SECRET\"\n# refresh_token_env = \"ZOHO_REFRESH_TOKEN\"\n",
        ),
        Some(url) => {
            let _ = writeln!(out, "url = {}", q(&url));
            if var("ZCRM_API").is_some_and(|a| a.eq_ignore_ascii_case("v8")) {
                out.push_str(
                    "api = \"v8\"\nclient_id_env = \"ZCRM_CLIENT_ID\"\n\
                     client_secret_env = \"ZCRM_CLIENT_SECRET\"\nrefresh_token_env = \"ZCRM_REFRESH_TOKEN\"\n",
                );
            } else {
                out.push_str("authtoken_env = \"ZCRM_AUTHTOKEN\"\n");
            }
        }
    }
    for (key, name) in [("edition", "ZCRM_EDITION"), ("timezone", "ZCRM_TIMEZONE")] {
        if let Some(v) = var(name) {
            let _ = writeln!(out, "{key} = {}", q(&v));
        }
    }
    if let Some(v) = var("ZCRM_LICENSES").filter(|v| v.parse::<u32>().is_ok()) {
        let _ = writeln!(out, "licenses = {v}");
    }
    out
}

/// The head of a new pipeline file: how to use it, and the connection.
fn render_head(args: &InitArgs, to: &Path) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Written by `zcrm init --from {from} --module {module}`: check every line, then\n\
         #   zcrm validate {to}   (every row checked locally: the reject file says what to fix)\n\
         #   zcrm plan {to}       (calls and days it needs)\n\
         #   zcrm run {to}\n",
        from = args.from.display(),
        module = args.module,
        to = to.display(),
    );
    out.push_str(&connection_table());
    out
}

/// The step's text; `steps` are the import steps before it, whose keys its reference columns
/// may look up (`wired` gets each lookup written: field, step).
fn render(
    args: &InitArgs,
    step: &str,
    source: &Path,
    s: &Suggestion,
    steps: &[Existing],
    wired: &mut Vec<(String, String)>,
) -> String {
    let mut out = String::new();
    if !steps.is_empty() {
        let _ = writeln!(
            out,
            "\n# Added by `zcrm init --from {} --module {} --append`: check every line.",
            args.from.display(),
            args.module
        );
    }
    out.push_str("\n[[steps]]\n");
    let _ = writeln!(out, "name = {}", q(step));
    let _ = writeln!(out, "import = {}", q(&args.module));
    let _ = writeln!(out, "source = {}", q(&source.to_string_lossy()));
    match &s.key {
        Some(k) => {
            let _ = writeln!(
                out,
                "key = {}                 # identifies a row across runs and for lookups (unique in the sample)",
                q(k)
            );
        }
        None => out.push_str("# key = \"id\"             # a column that identifies each row (for reruns and lookups)\n"),
    }
    let _ = writeln!(out, "rejects = {}", q(&format!("out/{step}.rejects.csv")));
    // The field an upsert would match records on: Email when the file has it, else the
    // module's name field (Account Name, Potential Name), else the first mapped field.
    let match_on = s
        .entries
        .iter()
        .find(|e| e.field == "Email")
        .or_else(|| {
            s.entries.iter().find(|e| {
                e.field.ends_with(" Name")
                    && !matches!(e.field.as_str(), "First Name" | "Last Name")
            })
        })
        .or_else(|| s.entries.first())
        .map_or("Email", |e| e.field.as_str());
    let _ = write!(
        out,
        "# mode = \"upsert\"          # update the records that match, create the others\n\
         # match_on = {}\n\n[steps.map]\n",
        q(match_on)
    );
    for e in &s.entries {
        for n in &e.notes {
            let _ = writeln!(out, "# {n}");
        }
        let value = if e.owner {
            format!("{{ owner = {} }}", q(&e.column))
        } else if let Some(f) = &e.date_format {
            format!("{{ column = {}, date_format = {} }}", q(&e.column), q(f))
        } else {
            q(&e.column)
        };
        let why = match (e.how, e.owner) {
            (_, true) => "  # a user's e-mail or full name".to_owned(),
            (Matched::Name, false) => String::new(),
            (Matched::Synonym, false) => "  # a common name for this field".to_owned(),
            (Matched::Near, false) => "  # a near spelling: check it".to_owned(),
        };
        let _ = writeln!(out, "{} = {value}{why}", q(&e.field));
    }
    for f in &s.missing_required {
        let _ = writeln!(
            out,
            "# REQUIRED: no column matched {}; a constant keeps the file valid: map the right column instead\n{} = {{ value = \"TODO\" }}",
            q(f),
            q(f)
        );
    }
    // Keys of the files of earlier steps: lookups to them.
    let mut unwired = Vec::new();
    for (c, field) in &s.references {
        match (field, step_for(c, steps)) {
            (Some(f), Some(target)) => {
                let _ = writeln!(
                    out,
                    "{} = {{ lookup = {}, column = {} }}  # the key ({}) of step {}",
                    q(f),
                    q(&target.name),
                    q(c),
                    target.key.as_deref().unwrap_or_default(),
                    q(&target.name)
                );
                wired.push((f.clone(), target.name.clone()));
            }
            _ => unwired.push((c, field)),
        }
    }
    if !unwired.is_empty() {
        out.push_str(
            "\n# Keys of other files: import that file as a step of its own first (before this\n\
             # one, with the same values as its `key`; `zcrm init --append` wires it), then link\n\
             # each row to its record:\n",
        );
        for (c, field) in unwired {
            // `account_id` → a step named "accounts".
            let step = zcrm_mapping::suggest::id_stem(c)
                .map_or_else(|| "other".to_owned(), |stem| format!("{stem}s"));
            let field = field.as_deref().unwrap_or("<the lookup field>");
            let _ =
                writeln!(out, "# {} = {{ lookup = {}, column = {} }}", q(field), q(&step), q(c));
        }
    }
    if !s.unmatched.is_empty() {
        out.push_str("\n# Columns that matched no field (map them above, or leave them out):\n");
        for (c, near) in &s.unmatched {
            match near {
                Some(n) => {
                    let _ =
                        writeln!(out, "#   {}  (nearest field: {}, already mapped)", q(c), q(n));
                }
                None => {
                    let _ = writeln!(out, "#   {}", q(c));
                }
            }
        }
    }
    out
}

/// Runs the command; returns what to print.
pub fn run(args: &InitArgs) -> Result<String> {
    let to = args
        .to
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}.toml", args.module.to_lowercase())));
    if to.exists() && !args.force && !args.append {
        bail!(
            "{} exists: choose another --to, --append to add a step to it, or --force to overwrite it",
            to.display()
        );
    }
    // The pipeline a step is added to: it must load (every problem of it is reported first).
    let existing: Vec<Existing> = if args.append && to.exists() {
        let p = zcrm_pipeline::load(&to).map_err(|e| {
            anyhow::Error::new(e)
                .context(format!("{} must load before a step is added to it", to.display()))
        })?;
        p.imports()
            .map(|s| Existing {
                name: s.name.clone(),
                module: s.module.clone(),
                key: s.key.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut reader = zcrm_readers::open(&args.from, &SourceOptions::default())
        .with_context(|| format!("reading {}", args.from.display()))?;
    let headers = reader.headers().to_vec();
    let mut sample: Vec<Vec<String>> = Vec::new();
    for chunk in reader.by_ref() {
        let chunk = chunk.with_context(|| format!("reading {}", args.from.display()))?;
        for row in chunk.rows {
            sample.push(row.cells.to_vec());
            if sample.len() >= SAMPLE_ROWS {
                break;
            }
        }
        if sample.len() >= SAMPLE_ROWS {
            break;
        }
    }
    drop(reader);
    let settings = Settings::from_env()?;
    let cache = MetadataCache::new(&settings.state_dir, &settings.org()?);
    let fields = match cache.cached(&args.module) {
        Some(hit) => hit.fields,
        None => {
            let conn = connect(&settings, "cli")?;
            cache.get(&*conn.client, &args.module, false)?.fields
        }
    };
    let s = suggest_map(&headers, &sample, &fields);
    let dir = to.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let source = relative(&args.from, dir);
    // A step name of its own: the module's, numbered when the pipeline has one already.
    let base = args.module.to_lowercase();
    let step = (1..)
        .map(|i| if i == 1 { base.clone() } else { format!("{base}-{i}") })
        .find(|n| !existing.iter().any(|e| e.name == *n))
        .unwrap_or(base);
    let mut wired = Vec::new();
    let body = render(args, &step, &source, &s, &existing, &mut wired);
    let text = if args.append && to.exists() {
        let before =
            std::fs::read_to_string(&to).with_context(|| format!("reading {}", to.display()))?;
        let sep = if before.ends_with('\n') { "" } else { "\n" };
        format!("{before}{sep}{body}")
    } else {
        format!("{}{body}", render_head(args, &to))
    };
    if !dir.as_os_str().is_empty() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&to, text).with_context(|| format!("writing {}", to.display()))?;
    let count = |m: Matched| s.entries.iter().filter(|e| e.how == m).count();
    let mut out = format!(
        "{} {}: {} of {} columns mapped ({} by name, {} by a common name, {} by a near spelling)\n",
        if existing.is_empty() { "wrote".to_owned() } else { format!("added step {step:?} to") },
        to.display(),
        s.entries.len(),
        headers.len(),
        count(Matched::Name),
        count(Matched::Synonym),
        count(Matched::Near)
    );
    if !s.missing_required.is_empty() {
        let _ = writeln!(
            out,
            "required fields with no column (set to \"TODO\"): {}",
            s.missing_required.join(", ")
        );
    }
    for (field, target) in &wired {
        let _ = writeln!(out, "lookup: {field} → the records of step {target:?}");
    }
    if s.references.len() > wired.len() {
        let cols: Vec<&str> = s
            .references
            .iter()
            .filter(|(_, f)| !f.as_ref().is_some_and(|f| wired.iter().any(|(w, _)| w == f)))
            .map(|(c, _)| c.as_str())
            .collect();
        let _ = writeln!(
            out,
            "keys of other files (a lookup once that file is a step; see the comments): {}",
            cols.join(", ")
        );
    }
    if !s.unmatched.is_empty() {
        let cols: Vec<&str> = s.unmatched.iter().map(|(c, _)| c.as_str()).collect();
        let _ = writeln!(out, "columns not mapped: {}", cols.join(", "));
    }
    let _ = writeln!(out, "next: zcrm validate {}", to.display());
    Ok(out)
}
