//! `zcrm test PIPELINE.toml`: the pipeline's `[[tests]]` run offline — each test's row mapped
//! by its step's map against the module's fields (a `--schema` file, else the state dir's
//! metadata cache, else the built-in standard modules; no call is made), and each failure
//! reported with the field and both values.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, anyhow};
use zcrm_client::MetadataCache;
use zcrm_emulator::schema::Schema;
use zcrm_pipeline::{Metadata, MetadataError};
use zcrm_protocol::ModuleFields;
use zcrm_protocol::params::FieldsFilter;

/// Examples for `--help`.
pub const EXAMPLES: &str = "Examples:\n  zcrm test pipelines/quickstart.toml\n  \
zcrm test migration.toml --step contacts --schema org-schema.toml\n\n\
Runs the [[tests]] tables offline; no call is made. Exit codes: 0 every test passed; 1 some \
failed; 2 the pipeline or a mapping is wrong.";

/// Arguments of `zcrm test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// The pipeline file.
    pub pipeline: PathBuf,
    /// Only the tests of these steps (repeatable).
    #[arg(long = "step")]
    pub steps: Vec<String>,
    /// A schema file describing the org's modules (the emulator's `--schema` format) instead
    /// of the state dir's metadata cache.
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
}

/// Metadata without the network: a schema file, else the cache, else the standard modules.
struct Offline {
    cache: MetadataCache,
    schema: Schema,
    prefer_schema: bool,
    sources: Vec<String>,
}

impl Metadata for Offline {
    fn fields(&mut self, module: &str) -> Result<ModuleFields, MetadataError> {
        if !self.prefer_schema
            && let Some(hit) = self.cache.cached(module)
        {
            self.sources.push(format!("{module}: the state dir's cache ({})", hit.fetched_at));
            return Ok(hit.fields);
        }
        let def = self.schema.module(module).ok_or_else(|| {
            MetadataError::from(format!(
                "{module} is neither cached in the state dir nor in the schema: run `zcrm fields {module}` once, or give --schema"
            ))
        })?;
        let from =
            if self.prefer_schema { "the schema file" } else { "the built-in standard modules" };
        self.sources.push(format!("{module}: {from}"));
        Ok(def.fields_meta(FieldsFilter::All, false))
    }
}

fn run(args: &TestArgs) -> Result<(String, bool)> {
    let p = zcrm_pipeline::load(&args.pipeline)?;
    if p.tests.is_empty() {
        return Err(anyhow!(
            "{}: the pipeline has no [[tests]] (see the README, \"Tests in the pipeline file\")",
            args.pipeline.display()
        ));
    }
    let schema = match &args.schema {
        Some(f) => Schema::with_file(f)?,
        None => Schema::standard()?,
    };
    let mut meta = Offline {
        cache: MetadataCache::new(&p.state_dir, &p.connection.org()?),
        schema,
        prefer_schema: args.schema.is_some(),
        sources: Vec::new(),
    };
    let outcomes = zcrm_pipeline::run_tests(&p, &args.steps, &mut meta)?;
    let mut out = String::new();
    for s in &meta.sources {
        let _ = writeln!(out, "fields of {s}");
    }
    let failed = outcomes.iter().filter(|t| !t.failures.is_empty()).count();
    for t in &outcomes {
        if t.failures.is_empty() {
            let _ = writeln!(out, "ok    {} (step {})", t.name, t.step);
        } else {
            let _ = writeln!(out, "FAIL  {} (step {})", t.name, t.step);
            for f in &t.failures {
                let _ = writeln!(out, "        {f}");
            }
        }
    }
    let _ = writeln!(
        out,
        "{} test(s): {} passed, {failed} failed",
        outcomes.len(),
        outcomes.len() - failed
    );
    Ok((out, failed == 0))
}

/// Runs the command, prints, and returns the exit code.
pub fn main(args: &TestArgs) -> ExitCode {
    match run(args) {
        Ok((text, passed)) => {
            let printed = crate::print(&text);
            if passed { printed } else { ExitCode::from(crate::exit::REJECTS) }
        }
        Err(e) => {
            crate::report(&e);
            ExitCode::from(crate::exit::code(&e))
        }
    }
}
