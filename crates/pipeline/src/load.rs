//! Reading a pipeline file: parse (serde, unknown keys are errors), then check everything
//! into a typed [`Pipeline`], collecting every problem with its place in the file.

use std::collections::HashSet;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use toml::Spanned;
use zcrm_client::{OnDuplicate, WriteOptions};
use zcrm_mapping::{MapSpec, PicklistMode};
use zcrm_protocol::value::Since;
use zcrm_protocol::{Edition, Module};
use zcrm_readers::{CsvOptions, Encoding, SheetRef, SourceKind, SourceOptions, XlsxOptions};

use crate::convert::map_spec;
use crate::files::{self, Role, StepFile};
use crate::model::{ImportSpans, Method as ImportMethod};
use crate::raw::{RawPipeline, RawStep};

mod action;
mod export_options;
mod line_items;
mod tests;

use crate::{
    Api, ConnectionSpec, Diagnostic, Diagnostics, ExportColumns, ExportMethod, ExportStep,
    ImportStep, Mode, Pipeline, Step,
};

/// A pipeline file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file has problems (all of them).
    #[error("{0}")]
    Invalid(Diagnostics),
}

struct Ctx<'a> {
    file: &'a Path,
    /// The file's text: every diagnostic shares this one copy.
    text: Arc<str>,
    dir: PathBuf,
    diags: Vec<Diagnostic>,
    /// The files the steps read and write, for [`files::check`].
    files: Vec<StepFile>,
    /// Whether the checks look at the file system.
    on_disk: bool,
    /// The connection's dialect (some step options exist on one only).
    api: Api,
    /// Values that look like secrets (a token where a variable name goes, a URL with
    /// credentials): masked in the text every problem draws from.
    secrets: Vec<Range<usize>>,
}

impl Ctx<'_> {
    /// A problem with a value that may be a secret: its line is not shown, and the value is
    /// masked in the lines other problems show around theirs.
    fn secret(&mut self, span: Range<usize>, message: impl Into<String>, hint: Option<String>) {
        let d = Diagnostic::at(self.file, &self.text, Some(span.clone()), message, hint);
        self.diags.push(d.without_text());
        self.secrets.push(span);
    }

    /// Masks the secrets found in the text (each byte of their values becomes `*`, so every
    /// place stays where it was) and redraws the problems from the masked text.
    fn mask_secrets(&mut self) {
        if self.secrets.is_empty() {
            return;
        }
        let mut bytes = self.text.as_bytes().to_vec();
        for s in &self.secrets {
            let (start, end) = (s.start.min(bytes.len()), s.end.min(bytes.len()));
            for b in &mut bytes[start..end] {
                if *b != b'\n' && *b != b'"' {
                    *b = b'*';
                }
            }
        }
        // Only whole values were replaced by ASCII, so the text is still UTF-8.
        let masked: Arc<str> = Arc::from(String::from_utf8_lossy(&bytes).as_ref());
        for d in &mut self.diags {
            d.retext(&masked);
        }
        self.text = masked;
    }

    fn error(
        &mut self,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.diags.push(Diagnostic::at(self.file, &self.text, span, message, hint));
    }

    /// Notes a file the pipeline reads or writes, for [`files::check`]; `at` is where the
    /// pipeline names it (`None` for a default path) and `step` the step's name and its place.
    fn file(
        &mut self,
        step: (&str, Option<Range<usize>>),
        role: Role,
        path: &Path,
        at: Option<Range<usize>>,
    ) {
        let (name, fallback) = step;
        self.files.push(StepFile {
            step: name.to_owned(),
            role,
            path: path.to_owned(),
            span: at,
            fallback,
        });
    }

    fn path(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        let joined = if p.is_absolute() || self.dir == Path::new(".") {
            p.to_owned()
        } else {
            self.dir.join(p)
        };
        normalize(&joined)
    }
}

/// Drops `.` and folds `dir/..` without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir if !out.is_empty() => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    if out.is_empty() { PathBuf::from(".") } else { out.iter().collect() }
}

/// Reads and checks the pipeline file at `path`, and the files it names: every source exists
/// and is a regular file.
pub fn load(path: &Path) -> Result<Pipeline, LoadError> {
    match load_partial(path)? {
        (p, d) if d.0.is_empty() => Ok(p),
        (_, d) => Err(LoadError::Invalid(d)),
    }
}

/// [`load`], returning the problems beside what could be read of the pipeline (the steps
/// without a problem that stops them) instead of failing, so later checks (a mapping against
/// the CRM's fields) can report theirs in the same list. An error only when the file cannot
/// be read or is not TOML at all.
pub fn load_partial(path: &Path) -> Result<(Pipeline, Diagnostics), LoadError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| LoadError::Io { path: path.to_owned(), source })?;
    check_partial(path, &text, true)
}

/// Checks pipeline `text` as if read from `path` (relative paths resolve against its folder),
/// without looking at the files it names.
pub fn load_str(path: &Path, text: &str) -> Result<Pipeline, LoadError> {
    check(path, text, false)
}

/// [`load_str`], and with `on_disk` the checks of [`files::check`].
fn check(path: &Path, text: &str, on_disk: bool) -> Result<Pipeline, LoadError> {
    match check_partial(path, text, on_disk)? {
        (p, d) if d.0.is_empty() => Ok(p),
        (_, d) => Err(LoadError::Invalid(d)),
    }
}

/// The pipeline as far as it could be read, and every problem found.
fn check_partial(
    path: &Path,
    text: &str,
    on_disk: bool,
) -> Result<(Pipeline, Diagnostics), LoadError> {
    let dir = path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
    let mut cx = Ctx {
        file: path,
        text: Arc::from(text),
        dir,
        diags: Vec::new(),
        files: Vec::new(),
        on_disk,
        api: Api::Xml,
        secrets: Vec::new(),
    };
    cx.file(("", None), Role::Pipeline, &normalize(path), None);
    let (raw, problems) = crate::raw::parse(text);
    for (message, hint, span) in problems {
        cx.error(span, message, hint);
    }
    let Some(raw) = raw else { return Err(LoadError::Invalid(Diagnostics(cx.diags))) };
    let connection = connection(&mut cx, &raw);
    cx.api = connection.api;
    let state_dir = match raw.state.as_ref().and_then(|s| s.dir.as_ref()) {
        Some(d) => cx.path(d.get_ref()),
        None => cx.path(".zcrm/state"),
    };
    let mut names = HashSet::new();
    let mut import_names: Vec<String> = raw
        .steps
        .iter()
        .filter(|s| s.get_ref().import.is_some())
        .filter_map(|s| s.get_ref().name.as_ref().map(|n| n.get_ref().clone()))
        .collect();
    // A conversion's records: `{ lookup = "convert", creates = "Contacts", ... }`.
    for s in raw.steps.iter().filter(|s| s.get_ref().convert.is_some()) {
        if let Some(n) = &s.get_ref().name {
            import_names.extend(
                ["Contacts", "Accounts", "Potentials"].map(|m| format!("{}:{m}", n.get_ref())),
            );
        }
    }
    let mut steps = Vec::new();
    for s in &raw.steps {
        if let Some(step) = step(&mut cx, s, &mut names, &import_names) {
            steps.push(step);
        }
    }
    note_parents(&mut steps);
    let tests = tests::tests(&mut cx, &raw, &steps);
    for (message, hint, span) in files::check(&cx.files, on_disk) {
        cx.error(span, message, hint);
    }
    if raw.steps.is_empty() {
        cx.error(None, "the pipeline has no steps", Some("add a [[steps]] table".to_owned()));
    }
    cx.mask_secrets();
    cx.diags.sort_by_key(|d| (d.line == 0, d.line, d.column));
    Ok((
        Pipeline { path: path.to_owned(), text: cx.text, connection, state_dir, steps, tests },
        Diagnostics(cx.diags),
    ))
}

/// A Notes step's `"Parent" = { lookup = "step", column = "key" }` links each note to the
/// record that step made: sent as the parent's id (`SEID`) and its module (`SEMODULE`, the
/// looked-up step's module). A plain `"Parent" = "column"` holds CRM ids (`SEID` alone: the
/// CRM finds the module from the id).
fn note_parents(steps: &mut [Step]) {
    let modules: Vec<(String, String)> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Import(i) => Some((i.name.clone(), i.module.clone())),
            _ => None,
        })
        .collect();
    for s in steps.iter_mut() {
        let Step::Import(i) = s else { continue };
        if i.module != "Notes" {
            continue;
        }
        let mut added = Vec::new();
        for e in &mut i.map.entries {
            if !e.field.eq_ignore_ascii_case("parent") {
                continue;
            }
            e.field = "SEID".to_owned();
            // A conversion's record (`convert:Potentials`) names its module itself.
            let module = e.spec.lookup.as_ref().and_then(|step| match step.split_once(':') {
                Some((_, module)) => Some(module.to_owned()),
                None => modules.iter().find(|(n, _)| n == step).map(|(_, m)| m.clone()),
            });
            if let Some(module) = module {
                let mut spec = zcrm_mapping::FieldSpec::column(String::new());
                spec.source = zcrm_mapping::FieldSource::Value(module);
                added.push(zcrm_mapping::MapEntry {
                    field: "SEMODULE".to_owned(),
                    field_span: e.field_span.clone(),
                    spec,
                    spec_span: e.spec_span.clone(),
                });
            }
        }
        i.map.entries.extend(added);
    }
}

fn connection(cx: &mut Ctx<'_>, raw: &RawPipeline) -> ConnectionSpec {
    let mut spec = ConnectionSpec::default();
    let Some(c) = raw.connection.as_ref().map(Spanned::get_ref) else {
        env_api(cx, &mut spec);
        return spec;
    };
    if let Some(u) = &c.url {
        let url = u.get_ref().trim();
        if !url.eq_ignore_ascii_case("embedded") {
            match zcrm_client::Endpoint::parse(url) {
                Ok(endpoint) => spec.url = Some(endpoint),
                Err(e) => {
                    let hint = Some(
                        "use https://crm.zoho.com (or .eu, .com.cn), or \"embedded\"".to_owned(),
                    );
                    // What follows `@`, `?` or `#` is likely a token: the line is not shown.
                    if url.contains(['@', '?', '#']) {
                        cx.secret(u.span(), e.to_string(), hint);
                    } else {
                        cx.error(Some(u.span()), e.to_string(), hint);
                    }
                }
            }
        }
    }
    if let Some(t) = &c.authtoken_env
        && let Some(name) = variable_name(cx, "authtoken_env", t)
    {
        spec.authtoken_env = name;
    }
    if let Some(o) = &c.org {
        let name = o.get_ref().trim();
        if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
            cx.error(
                Some(o.span()),
                format!("org {name:?} is not a usable name"),
                Some("org names the organisation (1 to 64 printable characters), e.g. \"acme-production\"".to_owned()),
            );
        } else {
            spec.org = Some(name.to_owned());
        }
    }
    if let Some(e) = &c.edition {
        match Edition::from_str(e.get_ref()) {
            Ok(ed) => spec.edition = ed,
            Err(err) => cx.error(Some(e.span()), err.to_string(), None),
        }
    }
    if let Some(l) = &c.licenses {
        match u32::try_from(*l.get_ref()) {
            Ok(n) if n >= 1 => spec.licenses = n,
            _ => cx.error(
                Some(l.span()),
                format!("licenses must be at least 1, not {}", l.get_ref()),
                None,
            ),
        }
    }
    if let Some(b) = &c.budget_share {
        let v = match b.get_ref() {
            toml::Value::Float(f) => Some(*f),
            toml::Value::Integer(i) => Some(*i as f64),
            _ => None,
        };
        match v {
            Some(f) if f > 0.0 && f <= 1.0 => spec.budget_share = f,
            _ => cx.error(
                Some(b.span()),
                "budget_share must be a number in (0, 1]",
                Some("0.8 lets this pipeline spend 80% of a day's calls".to_owned()),
            ),
        }
    }
    if let Some(t) = &c.timezone {
        match zcrm_client::budget::timezone(t.get_ref()) {
            Ok(tz) => spec.timezone = tz,
            Err(_) => cx.error(
                Some(t.span()),
                format!("unknown time zone {:?}", t.get_ref()),
                Some("use an IANA name such as \"America/Los_Angeles\"".to_owned()),
            ),
        }
    }
    if let Some(d) = &c.daily_budget {
        match u32::try_from(*d.get_ref()) {
            Ok(n) if n >= 1 => spec.daily_budget = Some(n),
            _ => cx.error(
                Some(d.span()),
                format!("daily_budget must be at least 1, not {}", d.get_ref()),
                None,
            ),
        }
    }
    if let Some(w) = &c.write_batch {
        match u32::try_from(*w.get_ref()).ok().map(zcrm_protocol::limits::check_write_batch) {
            Some(Ok(n)) => spec.write_batch = n,
            Some(Err(e)) => cx.error(Some(w.span()), e.to_string(), None),
            None => cx.error(
                Some(w.span()),
                format!("write_batch of {} rows: it must be between 1 and 200", w.get_ref()),
                None,
            ),
        }
    }
    if let Some(w) = &c.writes_in_flight {
        match u32::try_from(*w.get_ref()) {
            Ok(n @ 1..=8) => spec.writes_in_flight = n,
            _ => cx.error(
                Some(w.span()),
                format!("writes_in_flight of {}: it must be between 1 and 8", w.get_ref()),
                Some("1 sends one write call at a time; the default is 3".into()),
            ),
        }
    }
    dialect(cx, c, &mut spec);
    reads_in_flight(cx, c, &mut spec);
    spec
}

/// `reads_in_flight`: 1..=8, and on v8 at most what the edition's concurrency cap leaves
/// (`rest_limits::reads_in_flight_cap`).
fn reads_in_flight(cx: &mut Ctx<'_>, c: &crate::raw::RawConnection, spec: &mut ConnectionSpec) {
    let Some(r) = &c.reads_in_flight else { return };
    let most = match spec.api {
        Api::Xml => zcrm_protocol::limits::MAX_READS_IN_FLIGHT,
        Api::V8 => zcrm_protocol::rest_limits::reads_in_flight_cap(spec.edition),
    };
    match u32::try_from(*r.get_ref()) {
        Ok(n) if (1..=most).contains(&n) => spec.reads_in_flight = n,
        _ => cx.error(
            Some(r.span()),
            format!("reads_in_flight of {}: it must be between 1 and {most}", r.get_ref()),
            Some(match spec.api {
                Api::Xml => "1 reads one page at a time; the default is 4".to_owned(),
                Api::V8 => format!(
                    "the {} edition allows {} concurrent calls, and zcrm leaves room for others; the default is 4",
                    spec.edition,
                    zcrm_protocol::rest_limits::concurrency(spec.edition)
                ),
            }),
        ),
    }
}

/// `api` and the keys that belong to one dialect only: OAuth variables and credits for v8,
/// the authtoken and a daily call budget for XML.
fn dialect(cx: &mut Ctx<'_>, c: &crate::raw::RawConnection, spec: &mut ConnectionSpec) {
    if c.api.is_none() {
        env_api(cx, spec);
    }
    if let Some(a) = &c.api {
        match Api::parse(a.get_ref()) {
            Some(api) => spec.api = api,
            None => cx.error(
                Some(a.span()),
                format!("unknown api {:?}", a.get_ref()),
                Some("use \"xml\" (Zoho's legacy XML API) or \"v8\" (the REST API every org speaks today)".to_owned()),
            ),
        }
    }
    let v8 = spec.api == Api::V8;
    // A data centre's name means its REST API domain on v8 (`eu` → https://www.zohoapis.eu).
    if v8
        && let Some(u) = &c.url
        && let Some(dc) = zcrm_client::DataCentre::parse(u.get_ref())
        && let Ok(endpoint) = zcrm_client::Endpoint::parse(dc.api_domain())
    {
        spec.url = Some(endpoint);
    }
    let only = |cx: &mut Ctx<'_>, key: &str, at: Option<Range<usize>>, needs: &str| {
        cx.error(at, format!("{key} applies to api = {needs:?} only"), None);
    };
    for (key, raw, slot) in [
        ("client_id_env", &c.client_id_env, &mut spec.oauth.client_id),
        ("client_secret_env", &c.client_secret_env, &mut spec.oauth.client_secret),
        ("refresh_token_env", &c.refresh_token_env, &mut spec.oauth.refresh_token),
    ] {
        let Some(v) = raw else { continue };
        if !v8 {
            only(cx, key, Some(v.span()), "v8");
        } else if let Some(name) = variable_name(cx, key, v) {
            *slot = name;
        }
    }
    if let Some(d) = &c.daily_credits {
        match u32::try_from(*d.get_ref()) {
            Ok(n) if n >= 1 && v8 => spec.daily_credits = Some(n),
            Ok(n) if n >= 1 => only(cx, "daily_credits", Some(d.span()), "v8"),
            _ => cx.error(
                Some(d.span()),
                format!("daily_credits must be at least 1, not {}", d.get_ref()),
                None,
            ),
        }
    }
    if v8 {
        if let Some(t) = &c.authtoken_env {
            cx.error(
                Some(t.span()),
                "authtoken_env applies to api = \"xml\" only",
                Some(
                    "a v8 connection names client_id_env, client_secret_env and refresh_token_env"
                        .to_owned(),
                ),
            );
        }
        if let Some(w) = &c.write_batch
            && spec.write_batch > zcrm_protocol::rest_limits::MAX_WRITE_RECORDS
        {
            cx.error(
                Some(w.span()),
                format!(
                    "write_batch of {} rows: a v8 write call carries at most {} records",
                    spec.write_batch,
                    zcrm_protocol::rest_limits::MAX_WRITE_RECORDS
                ),
                None,
            );
        }
        if let Some(d) = &c.daily_budget {
            cx.error(
                Some(d.span()),
                "daily_budget counts XML calls; a v8 org has credits",
                Some("use daily_credits = N (credits per rolling 24 hours)".to_owned()),
            );
        }
    }
}

/// A pipeline that names no dialect takes `ZCRM_API` when it is set (files read from disk
/// only): one switch runs the examples, and any pipeline on the embedded emulator, on either
/// face.
fn env_api(cx: &Ctx<'_>, spec: &mut ConnectionSpec) {
    if cx.on_disk
        && let Some(api) = std::env::var("ZCRM_API").ok().as_deref().and_then(Api::parse)
    {
        spec.api = api;
    }
}

/// The name of an environment variable given for `key` (letters, digits and `_`), or `None`
/// with a problem reported (the value might be the secret itself: it is never repeated).
fn variable_name(cx: &mut Ctx<'_>, key: &str, v: &Spanned<String>) -> Option<String> {
    let name = v.get_ref();
    if !name.is_empty() && name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_') {
        return Some(name.clone());
    }
    let example = if key == "authtoken_env" { "ZCRM_AUTHTOKEN" } else { "ZOHO_CLIENT_SECRET" };
    cx.secret(
        v.span(),
        format!("{key} is not a variable name"),
        Some(format!(
            "{key} holds the NAME of the variable with the secret (e.g. \"{example}\"), never the secret"
        )),
    );
    None
}

/// A CSV source's `delimiter`, `quote` and `encoding` (each reported where it is wrong, and left
/// at its default).
fn csv_options(
    cx: &mut Ctx<'_>,
    delimiter: Option<&Spanned<String>>,
    quote: Option<&Spanned<String>>,
    encoding: Option<&Spanned<String>>,
) -> CsvOptions {
    let mut csv = CsvOptions::default();
    if let Some(b) = delimiter.and_then(|d| single_byte(cx, d, "delimiter")) {
        csv.delimiter = b;
    }
    if let Some(b) = quote.and_then(|q| single_byte(cx, q, "quote")) {
        csv.quote = b;
    }
    if let Some(e) = encoding {
        match Encoding::parse(e.get_ref()) {
            Some(enc) => csv.encoding = enc,
            None => cx.error(
                Some(e.span()),
                format!("unknown encoding {:?}", e.get_ref()),
                Some("use \"utf-8\", \"windows-1252\" or \"latin-1\"".to_owned()),
            ),
        }
    }
    csv
}

fn single_byte(cx: &mut Ctx<'_>, v: &Spanned<String>, what: &str) -> Option<u8> {
    let s = v.get_ref();
    let b = match s.as_str() {
        "\\t" | "\t" | "tab" => Some(b'\t'),
        s if s.len() == 1 && s.is_ascii() => s.bytes().next(),
        _ => None,
    };
    if b.is_none() {
        cx.error(
            Some(v.span()),
            format!("{what} must be one ASCII character, not {s:?}"),
            Some("e.g. \";\" or \"\\t\" for tab".to_owned()),
        );
    }
    b
}

fn step(
    cx: &mut Ctx<'_>,
    s: &Spanned<RawStep>,
    names: &mut HashSet<String>,
    imports: &[String],
) -> Option<Step> {
    let span = s.span();
    let r = s.get_ref();
    let name = match &r.name {
        Some(n) if !n.get_ref().trim().is_empty() => {
            if !names.insert(n.get_ref().clone()) {
                cx.error(
                    Some(n.span()),
                    format!("two steps are named {:?}", n.get_ref()),
                    Some("step names must be unique".to_owned()),
                );
            }
            n.get_ref().clone()
        }
        Some(n) => {
            cx.error(Some(n.span()), "a step's name cannot be empty", None);
            return None;
        }
        None => {
            cx.error(
                Some(span.start..span.start + 1),
                "this step has no `name`",
                Some("add name = \"...\"".to_owned()),
            );
            return None;
        }
    };
    let kinds: Vec<(&str, &Spanned<String>)> = [
        ("import", &r.import),
        ("export", &r.export),
        ("delete", &r.delete),
        ("attach", &r.attach),
        ("relate", &r.relate),
        ("convert", &r.convert),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
    .collect();
    match kinds.as_slice() {
        [("import", m)] => {
            import_step(cx, name, m, r, span, imports).map(|s| Step::Import(Box::new(s)))
        }
        [("export", m)] => export_step(cx, name, m, r).map(Step::Export),
        [(kind, m)] => action::action_step(cx, name, kind, m, r, span, imports)
            .map(|s| Step::Action(Box::new(s))),
        [(first, _), (second, e), ..] => {
            cx.error(
                Some(e.span()),
                format!("step {name:?} has both `{first}` and `{second}`"),
                Some("a step has exactly one kind".to_owned()),
            );
            None
        }
        [] => {
            let at = r.name.as_ref().map(Spanned::span);
            cx.error(
                at,
                format!("step {name:?} has no kind"),
                Some(
                    "add import, export, delete, attach, relate or convert = \"Module\"".to_owned(),
                ),
            );
            None
        }
    }
}

fn module(cx: &mut Ctx<'_>, m: &Spanned<String>) -> Option<String> {
    match Module::from_str(m.get_ref()) {
        Ok(module) => Some(module.api_name().into_owned()),
        Err(_) => {
            let hint = unknown_module_hint(m.get_ref());
            cx.error(Some(m.span()), format!("unknown module {:?}", m.get_ref()), Some(hint));
            None
        }
    }
}

/// What to tell someone who named a module that does not exist: the nearest standard module,
/// or what module names look like.
pub fn unknown_module_hint(name: &str) -> String {
    let known: Vec<_> =
        zcrm_protocol::module::STANDARD_MODULES.iter().map(|m| m.api_name()).collect();
    zcrm_mapping::did_you_mean(name, known.iter().map(AsRef::as_ref)).map_or_else(
        || "use the module's API name (Leads, Contacts, CustomModule1, ...)".to_owned(),
        |s| format!("did you mean {s:?}?"),
    )
}

fn not_for(cx: &mut Ctx<'_>, kind: &str, keys: &[(&str, Option<Range<usize>>)]) {
    for (k, span) in keys {
        if let Some(s) = span {
            cx.error(Some(s.clone()), format!("`{k}` does not apply to {kind} steps"), None);
        }
    }
}

fn import_step(
    cx: &mut Ctx<'_>,
    name: String,
    m: &Spanned<String>,
    r: &RawStep,
    span: Range<usize>,
    imports: &[String],
) -> Option<ImportStep> {
    let module = module(cx, m);
    let name_span = r.name.as_ref().map(Spanned::span);
    not_for(
        cx,
        "import",
        &[
            ("to", r.to.as_ref().map(Spanned::span)),
            ("columns", r.columns.as_ref().map(Spanned::span)),
            ("since", r.since.as_ref().map(Spanned::span)),
            ("on_schema_change", r.on_schema_change.as_ref().map(Spanned::span)),
            ("criteria", r.criteria.as_ref().map(Spanned::span)),
            ("view", r.view.as_ref().map(Spanned::span)),
            ("attachments", r.attachments.as_ref().map(Spanned::span)),
        ],
    );
    let (source, opts) = source_options(cx, &name, name_span.clone(), "import", m, r);
    let match_on = r.match_on.as_ref().map(|m| m.get_ref().clone());
    let mode = match r.mode.as_ref().map(|md| (md, md.get_ref().as_str())) {
        None | Some((_, "insert")) => Mode::Insert,
        Some((md, kind @ ("update" | "upsert"))) => match match_on {
            Some(match_on) if kind == "update" => Mode::Update { match_on },
            Some(match_on) => Mode::Upsert { match_on },
            None => {
                cx.error(
                    Some(md.span()),
                    format!("mode {kind} needs `match_on`"),
                    Some(
                        "match_on names the CRM field that identifies a record, e.g. \"Email\""
                            .to_owned(),
                    ),
                );
                Mode::Insert
            }
        },
        Some((md, other)) => {
            cx.error(
                Some(md.span()),
                format!("unknown mode {other:?}"),
                Some("use insert, update or upsert".to_owned()),
            );
            Mode::Insert
        }
    };
    let picklist = match &r.picklist {
        Some(p) => PicklistMode::parse(p.get_ref()).unwrap_or_else(|| {
            cx.error(
                Some(p.span()),
                format!("unknown picklist mode {:?}", p.get_ref()),
                Some("use strict (reject), warn or allow".to_owned()),
            );
            PicklistMode::Strict
        }),
        None => PicklistMode::Strict,
    };
    let options = write_options(cx, r, &mode);
    let (rejects, success) = report_paths(cx, &name, r);
    let at = |k: &Option<Spanned<String>>| k.as_ref().map(Spanned::span);
    cx.file((&name, name_span.clone()), Role::Rejects, &rejects, at(&r.rejects));
    cx.file((&name, name_span), Role::Success, &success, at(&r.success));
    let map = match &r.map {
        Some(m) => {
            let (spec, errors) = map_spec(m.get_ref());
            for (msg, hint, sp) in errors {
                cx.error(Some(sp), msg, hint);
            }
            for e in &spec.entries {
                if let Some(step) = &e.spec.lookup
                    && !imports.iter().any(|i| i == step)
                {
                    unknown_lookup(cx, &e.field, step, imports, e.spec_span.clone());
                }
            }
            spec
        }
        None => {
            cx.error(
                Some(m.span()),
                format!("import step {name:?} has no [steps.map]"),
                Some("map CRM fields to source columns: \"Last Name\" = \"surname\"".to_owned()),
            );
            MapSpec::default()
        }
    };
    let line_items = line_items::line_items(cx, &name, r, &rejects, imports);
    let method = import_method(cx, r);
    let spans = ImportSpans {
        step: span,
        module: Some(m.span()),
        source: r.source.as_ref().map(Spanned::span),
        key: r.key.as_ref().map(Spanned::span),
        map: r.map.as_ref().map(Spanned::span),
    };
    Some(ImportStep {
        name,
        module: module?,
        source: source?,
        source_options: opts,
        mode,
        key: r.key.as_ref().map(|k| k.get_ref().clone()),
        rejects,
        success,
        picklist,
        options,
        map,
        spans,
        line_items,
        method,
        max_rejects: r.max_rejects.as_ref().and_then(|m| {
            let parsed = crate::model::MaxRejects::parse(m.get_ref());
            if parsed.is_none() {
                cx.error(
                    Some(m.span()),
                    "max_rejects is a number of rows or a percentage of the rows read",
                    Some("e.g. max_rejects = 10 or max_rejects = \"2%\"".to_owned()),
                );
            }
            parsed
        }),
        sample: r.sample.as_ref().and_then(|n| match u64::try_from(*n.get_ref()) {
            Ok(n) if n > 0 => Some(n),
            _ => {
                cx.error(Some(n.span()), "sample is a number of rows, at least 1", None);
                None
            }
        }),
    })
}

/// `method` of an import step: `records` or `bulk`; bulk only on v8 and without line items.
fn import_method(cx: &mut Ctx<'_>, r: &RawStep) -> Option<ImportMethod> {
    let m = r.method.as_ref()?;
    let method = match m.get_ref().trim().to_ascii_lowercase().as_str() {
        "records" => ImportMethod::Records,
        "bulk" => ImportMethod::Bulk,
        other => {
            cx.error(
                Some(m.span()),
                format!("unknown method {other:?}"),
                Some("use \"records\" (the record API) or \"bulk\" (Bulk Write jobs, v8); leave it out to let the planner pick".to_owned()),
            );
            return None;
        }
    };
    if method == ImportMethod::Bulk {
        if cx.api != Api::V8 {
            cx.error(
                Some(m.span()),
                "method = \"bulk\" needs api = \"v8\" (Bulk Write is a REST API feature)",
                Some("remove `method`, or set api = \"v8\" in [connection]".to_owned()),
            );
        } else if r.line_items.is_some() {
            cx.error(
                Some(m.span()),
                "method = \"bulk\" cannot send [steps.line_items] (zcrm writes no child CSVs)",
                Some("remove `method`: line items go through the record API".to_owned()),
            );
        }
    }
    Some(method)
}

/// A step's `source` and its reader options (sheet, header row, CSV delimiter, quote,
/// encoding), each problem reported.
fn source_options(
    cx: &mut Ctx<'_>,
    name: &str,
    name_span: Option<Range<usize>>,
    kind: &str,
    m: &Spanned<String>,
    r: &RawStep,
) -> (Option<PathBuf>, SourceOptions) {
    let source = match &r.source {
        Some(s) => {
            let p = cx.path(s.get_ref());
            cx.file((name, name_span), Role::Source, &p, Some(s.span()));
            if SourceKind::of(&p).is_none() {
                cx.error(
                    Some(s.span()),
                    format!("{:?} is not a CSV or XLSX file", s.get_ref()),
                    Some("sources end in .csv, .txt, .tsv or .xlsx".to_owned()),
                );
            }
            Some(p)
        }
        None => {
            cx.error(
                Some(m.span()),
                format!("{kind} step {name:?} has no `source`"),
                Some("add source = \"path/to/file.csv\"".to_owned()),
            );
            None
        }
    };
    let kind = source.as_deref().and_then(SourceKind::of);
    let mut opts = SourceOptions::default();
    let mut csv = csv_options(cx, r.delimiter.as_ref(), r.quote.as_ref(), r.encoding.as_ref());
    if kind == Some(SourceKind::Xlsx) {
        not_for(
            cx,
            "XLSX",
            &[
                ("delimiter", r.delimiter.as_ref().map(Spanned::span)),
                ("quote", r.quote.as_ref().map(Spanned::span)),
                ("encoding", r.encoding.as_ref().map(Spanned::span)),
            ],
        );
    }
    let mut xlsx = XlsxOptions::default();
    if let Some(h) = &r.header_row {
        match u64::try_from(*h.get_ref()) {
            Ok(n) if n >= 1 => {
                csv.header_row = n;
                xlsx.header_row = Some(n);
            }
            _ => cx.error(Some(h.span()), "header_row is 1-based: at least 1", None),
        }
    }
    if let Some(sh) = &r.sheet {
        if kind == Some(SourceKind::Csv) {
            cx.error(Some(sh.span()), "`sheet` applies to XLSX sources only", None);
        }
        match sh.get_ref() {
            toml::Value::String(n) => xlsx.sheet = Some(SheetRef::Name(n.clone())),
            toml::Value::Integer(i) if *i >= 1 => xlsx.sheet = Some(SheetRef::Index(*i as usize)),
            _ => cx.error(Some(sh.span()), "sheet is a name or a 1-based number", None),
        }
    }
    opts.csv = csv;
    opts.xlsx = xlsx;
    (source, opts)
}

/// Reports that `what` looks up a step that is not among `imports`, with the nearest name.
fn unknown_lookup(cx: &mut Ctx<'_>, what: &str, step: &str, imports: &[String], at: Range<usize>) {
    let hint = zcrm_mapping::did_you_mean(step, imports.iter().map(String::as_str)).map_or_else(
        || format!("lookups name an import step; the import steps are: {}", imports.join(", ")),
        |s| format!("did you mean {s:?}?"),
    );
    cx.error(
        Some(at),
        format!("`{what}` looks up the step {step:?}, which does not exist"),
        Some(hint),
    );
}

/// A step's reject file (`rejects`, default `out/<step>.rejects.csv`) and success file
/// (`success`, default beside the reject file: `<stem>.success.csv`).
fn report_paths(cx: &Ctx<'_>, name: &str, r: &RawStep) -> (PathBuf, PathBuf) {
    let rejects = r
        .rejects
        .as_ref()
        .map_or_else(|| cx.path(&format!("out/{name}.rejects.csv")), |p| cx.path(p.get_ref()));
    let success = r.success.as_ref().map_or_else(
        || {
            let file = rejects.file_name().and_then(|f| f.to_str()).unwrap_or("rejects.csv");
            let stem = file
                .strip_suffix(".rejects.csv")
                .or_else(|| file.strip_suffix(".csv"))
                .unwrap_or(file);
            rejects.with_file_name(format!("{stem}.success.csv"))
        },
        |p| cx.path(p.get_ref()),
    );
    (rejects, success)
}

/// `workflow`, `approval` and `on_duplicate` of an import step.
fn write_options(cx: &mut Ctx<'_>, r: &RawStep, mode: &Mode) -> WriteOptions {
    let mut o = WriteOptions {
        workflow: r.workflow.as_ref().is_some_and(|w| *w.get_ref()),
        approval: r.approval.as_ref().is_some_and(|a| *a.get_ref()),
        ..WriteOptions::default()
    };
    let Some(d) = &r.on_duplicate else { return o };
    o.on_duplicate = match d.get_ref().as_str() {
        "create" => OnDuplicate::Create,
        "reject" => OnDuplicate::Reject,
        "match" => OnDuplicate::Match,
        other => {
            cx.error(
                Some(d.span()),
                format!("unknown on_duplicate {other:?}"),
                Some("use \"create\" (the default), \"reject\" (to the reject file) or \"match\" (record the existing one)".to_owned()),
            );
            OnDuplicate::Create
        }
    };
    if o.on_duplicate != OnDuplicate::Create {
        if *mode != Mode::Insert {
            cx.error(
                Some(d.span()),
                "on_duplicate applies to mode = \"insert\"",
                Some("an upsert already updates the record that matches".to_owned()),
            );
        } else if cx.api == Api::V8 {
            cx.error(
                Some(d.span()),
                "on_duplicate applies to api = \"xml\" (its duplicateCheck=1)",
                Some("on v8 unique fields always refuse duplicates (DUPLICATE_DATA), and mode = \"upsert\" matches the duplicate-check field".to_owned()),
            );
        }
    }
    o
}

fn export_step(
    cx: &mut Ctx<'_>,
    name: String,
    m: &Spanned<String>,
    r: &RawStep,
) -> Option<ExportStep> {
    let module = module(cx, m);
    let sp = |x: &Option<Spanned<String>>| x.as_ref().map(Spanned::span);
    not_for(
        cx,
        "export",
        &[
            ("source", sp(&r.source)),
            ("mode", sp(&r.mode)),
            ("match_on", sp(&r.match_on)),
            ("key", sp(&r.key)),
            ("rejects", sp(&r.rejects)),
            ("success", sp(&r.success)),
            ("picklist", sp(&r.picklist)),
            ("on_duplicate", sp(&r.on_duplicate)),
            ("workflow", r.workflow.as_ref().map(Spanned::span)),
            ("approval", r.approval.as_ref().map(Spanned::span)),
            ("delimiter", sp(&r.delimiter)),
            ("quote", sp(&r.quote)),
            ("encoding", sp(&r.encoding)),
            ("map", r.map.as_ref().map(Spanned::span)),
            ("sheet", r.sheet.as_ref().map(Spanned::span)),
            ("header_row", r.header_row.as_ref().map(Spanned::span)),
            ("line_items", r.line_items.as_ref().map(Spanned::span)),
        ],
    );
    let Some(to) = &r.to else {
        cx.error(
            Some(m.span()),
            format!("export step {name:?} has no `to`"),
            Some("add to = \"out/file.parquet\" (or .csv)".to_owned()),
        );
        return None;
    };
    let columns = match r.columns.as_ref().map(Spanned::get_ref) {
        None => ExportColumns::All,
        Some(toml::Value::String(s)) if s.eq_ignore_ascii_case("all") => ExportColumns::All,
        Some(toml::Value::String(s)) => ExportColumns::List(
            s.split(',').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect(),
        ),
        Some(toml::Value::Array(a)) if a.iter().all(toml::Value::is_str) => {
            ExportColumns::List(a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        }
        Some(_) => {
            let at = r.columns.as_ref().map(Spanned::span);
            cx.error(at, "columns is \"all\", \"A,B\" or a list of field names", None);
            ExportColumns::All
        }
    };
    let dest = cx.path(to.get_ref());
    let written = to.get_ref().trim_end();
    let folder = written.ends_with('/')
        || dest.extension().is_none()
        || (cx.on_disk && std::fs::metadata(&dest).is_ok_and(|m| m.is_dir()));
    let step = (name.as_str(), r.name.as_ref().map(Spanned::span));
    if folder {
        // Parts go into the folder, lists of deleted records into `<folder>.deleted/`.
        let mut deleted = dest.clone().into_os_string();
        deleted.push(".deleted");
        cx.file(step.clone(), Role::ExportFolder, &dest, Some(to.span()));
        cx.file(step, Role::ExportFolder, Path::new(&deleted), Some(to.span()));
    } else {
        let stem = dest.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let deleted = dest.with_file_name(format!("{stem}.deleted.csv"));
        cx.file(step.clone(), Role::ExportFile, &dest, Some(to.span()));
        cx.file(step, Role::DeletedFile, &deleted, Some(to.span()));
    }
    let since = match &r.since {
        None => Since::All,
        Some(s) => Since::parse(s.get_ref()).unwrap_or_else(|| {
            cx.error(
                Some(s.span()),
                format!("since {:?} is not a starting point", s.get_ref()),
                Some("use \"last-run\", \"all\", or a time in the org's zone: \"2026-01-31\" or \"2026-01-31 08:00:00\"".to_owned()),
            );
            Since::All
        }),
    };
    let method = r.method.as_ref().and_then(|m| match m.get_ref().to_ascii_lowercase().as_str() {
        "records" => Some(ExportMethod::Records),
        "bulk" => Some(ExportMethod::Bulk),
        other => {
            cx.error(
                Some(m.span()),
                format!("method {other:?} is not a way to export"),
                Some("use \"records\" (the record API) or \"bulk\" (Bulk Read, v8)".to_owned()),
            );
            None
        }
    });
    if method == Some(ExportMethod::Bulk)
        && cx.api != Api::V8
        && let Some(m) = &r.method
    {
        cx.error(
            Some(m.span()),
            "method = \"bulk\" needs api = \"v8\" (Bulk Read is a REST API feature)",
            Some("remove `method`, or set api = \"v8\" in [connection]".to_owned()),
        );
    }
    let on_schema_change = export_options::on_schema_change(cx, r);
    let filter = export_options::filter(cx, r, method);
    let attachments =
        export_options::attachments(cx, r, (name.as_str(), r.name.as_ref().map(Spanned::span)));
    Some(ExportStep {
        name,
        module: module?,
        to: dest,
        columns,
        since,
        method,
        on_schema_change,
        filter,
        attachments,
    })
}
