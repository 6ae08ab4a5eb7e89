//! The `zcrm` command line: thin argument parsing over the stage crates.

mod cmd;
mod connection;
mod diagnostics;
mod exit;
mod progress;
mod report;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The allocator of every zcrm process (the CLI and the emulator it serves).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// zcrm moves data in and out of Zoho CRM in bulk through the XML Developer API.
///
/// Without ZCRM_URL every command runs against the built-in emulator (data in .zcrm/emulator).
#[derive(Debug, Parser)]
#[command(
    name = "zcrm",
    version,
    about,
    after_long_help = "Connection (commands without a pipeline file): ZCRM_URL (https://crm.zoho.com, eu, cn, in, au, or \
any URL; omitted or 'embedded' = the built-in emulator), ZCRM_AUTHTOKEN, ZCRM_EDITION (free|standard|professional|enterprise), \
ZCRM_LICENSES, ZCRM_DAILY_BUDGET, ZCRM_BUDGET_SHARE, ZCRM_TIMEZONE, ZCRM_ORG, ZCRM_STATE_DIR (default .zcrm/state).\n\n\
Exit codes: 0 done; 1 finished but some rows rejected; 2 usage or pipeline-file error (nothing sent); 3 the CRM or the \
network failed after retries, or anything failed after a write was sent; 4 another run of the pipeline is in progress; \
75 stopped because today's budget is spent (rerun resumes)."
)]
struct Cli {
    /// Log lines on stderr as plain text or as JSON objects (for machines).
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print a module's fields (getFields) as a table; cached in the state dir.
    #[command(
        after_long_help = "Examples:\n  zcrm fields Leads\n  zcrm fields Contacts --json\n  zcrm fields Leads --refresh"
    )]
    Fields {
        /// The module's API name (Leads, Contacts, CustomModule1, ...).
        #[arg(value_parser = cmd::module_name)]
        module: String,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Fetch again instead of using the cached metadata (spends one call).
        #[arg(long)]
        refresh: bool,
    },
    /// Print calls spent today, the day's budget, what is left and when the day turns.
    #[command(
        after_long_help = "Examples:\n  zcrm budget\n  ZCRM_EDITION=enterprise ZCRM_LICENSES=40 zcrm budget --json"
    )]
    Budget {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Export a whole module (or what changed since the last run) to Parquet or CSV.
    #[command(after_long_help = "Examples:\n  zcrm export Leads --to out/leads.parquet\n  \
zcrm export Contacts --to out/contacts.csv --columns \"Last Name,Email,Account Name\"\n  \
zcrm export Leads --to out/leads/ --since last-run     # a new part-NNNN.parquet per run, deletions beside it")]
    Export(cmd::export::ExportArgs),
    /// Run a pipeline's steps in order; a rerun resumes where the last run stopped.
    #[command(after_long_help = "Examples:\n  zcrm run pipelines/quickstart.toml\n  \
zcrm run migration.toml --step accounts --step contacts\n  zcrm run migration.toml --dry-run\n  \
zcrm run nightly.toml --wait-for-budget\n\nExit codes: 0 done; 1 done but some rows rejected; 2 pipeline error (nothing sent); \
3 CRM or network failure, or any failure after a write was sent; 4 another run of this pipeline is in progress; \
75 today's budget share is spent (rerun resumes).")]
    Run(cmd::run::RunArgs),
    /// Show the calls, payloads and days each step needs; sends no write call.
    #[command(after_long_help = "Examples:\n  zcrm plan migration.toml")]
    Plan {
        /// The pipeline file.
        pipeline: std::path::PathBuf,
    },
    /// Show per step rows done, rejected and in flight, and today's calls.
    #[command(after_long_help = "Examples:\n  zcrm status migration.toml")]
    Status {
        /// The pipeline file.
        pipeline: std::path::PathBuf,
    },
    /// Settle a Bulk Write job whose creation answer was lost (shown by `zcrm status`).
    #[command(after_long_help = cmd::settle::EXAMPLES)]
    Settle(cmd::settle::SettleArgs),
    /// Get a refresh token for the REST API (v8) from a Self Client's grant code, or check one.
    #[command(after_long_help = cmd::auth::EXAMPLES)]
    Auth(cmd::auth::AuthArgs),
    /// List the org's active users (`--all`: every user), by whom owners resolve.
    #[command(after_long_help = "Examples:\n  zcrm users\n  ZCRM_API=v8 zcrm users --all")]
    Users {
        /// Every user, deactivated ones included.
        #[arg(long)]
        all: bool,
    },
    /// Run the pipeline's [[tests]] offline: each test row mapped and compared.
    #[command(after_long_help = cmd::test::EXAMPLES)]
    Test(cmd::test::TestArgs),
    /// Write a first pipeline for a CSV or XLSX file: columns matched to the module's fields.
    #[command(after_long_help = cmd::init::EXAMPLES)]
    Init(cmd::init::InitArgs),
    /// Delete the records a pipeline's runs created (from its journal), newest step first.
    #[command(after_long_help = cmd::undo::EXAMPLES)]
    Undo(cmd::undo::UndoArgs),
    /// Read, map and check every source row of a pipeline's import steps; write reject files.
    #[command(after_long_help = cmd::validate::EXAMPLES)]
    Validate(cmd::validate::ValidateArgs),
    /// Generate sample data files (for benchmarks and demos).
    #[command(hide = true)]
    Generate(cmd::generate::GenerateArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(
        after_long_help = "Examples:\n  zcrm completions bash > /etc/bash_completion.d/zcrm\n  zcrm completions zsh > ~/.zfunc/_zcrm"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Run the built-in Zoho CRM XML API emulator on loopback.
    #[command(
        after_long_help = "Examples:\n  zcrm emulator --seed-demo --token 0123456789abcdef0123456789abcdef\n  \
zcrm emulator --listen 127.0.0.1:4280 --edition enterprise --licenses 20 --tls\n  \
zcrm emulator --faults latency=50ms,error_rate=0.05,drop_after_commit=0.02,seed=7"
    )]
    Emulator(cmd::emulator::EmulatorArgs),
}

/// Prints an error on stderr: pipeline-file problems as miette reports (then what the
/// command adds, e.g. "nothing was sent"), anything else as `zcrm: cause: cause...` with no
/// sentence said twice.
pub(crate) fn report(err: &anyhow::Error) {
    let diags = err.chain().find_map(|e| {
        if let Some(zcrm_pipeline::LoadError::Invalid(d)) = e.downcast_ref() {
            return Some(d);
        }
        if let Some(zcrm_pipeline::ValidateError::Spec(d)) = e.downcast_ref() {
            return Some(d);
        }
        e.downcast_ref::<zcrm_pipeline::Diagnostics>()
    });
    match diags {
        Some(d) => {
            eprint!("{}", diagnostics::render(d, diagnostics::Style::for_stderr()));
            if err.chain().count() > 1 {
                eprintln!("zcrm: {err}");
            }
        }
        None => eprintln!("zcrm: {}", message(err)),
    }
}

/// The error and its causes joined with `: `, leaving out a cause whose text the message
/// already holds (an error that embeds its source's text would say it twice).
pub(crate) fn message(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        let text = text.trim();
        if text.is_empty() || out.contains(text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(text);
    }
    out
}

fn print(text: &str) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    // A closed pipe (`zcrm fields Leads | head`) is not an error.
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("zcrm: {e}");
            ExitCode::from(exit::CRM)
        }
    }
}

/// `zcrm run`: the summary table, then the exit code the README documents.
fn run_pipeline(args: &cmd::run::RunArgs, progress: &progress::Progress) -> ExitCode {
    match cmd::run::run(args, progress) {
        Ok(r) => {
            let code = match &r.stopped {
                Some(zcrm_engine::Stop::Budget(msg)) => {
                    eprintln!("zcrm: {msg}");
                    exit::BUDGET
                }
                Some(zcrm_engine::Stop::Rejects(msg)) => {
                    eprintln!("zcrm: {msg}");
                    exit::REJECTS
                }
                // Rejected rows within a step's `max_rejects` are tolerated.
                None if r.steps.iter().any(|s| s.rejected > s.allowed_rejects.unwrap_or(0)) => {
                    exit::REJECTS
                }
                None => exit::OK,
            };
            if let Err(e) = report::write(
                &r,
                &args.pipeline,
                code,
                args.summary_json.as_deref(),
                args.report.as_deref(),
            ) {
                report(&e);
            }
            let printed = print(&cmd::run::table(&r));
            if code == exit::OK { printed } else { ExitCode::from(code) }
        }
        Err(e) => {
            report(&e);
            let code = exit::code(&e);
            if let Some(p) = &args.summary_json {
                let doc = serde_json::json!({
                    "pipeline": args.pipeline.display().to_string(),
                    "exit_code": code,
                    "error": format!("{e:#}"),
                });
                let _ = std::fs::write(p, doc.to_string());
            }
            ExitCode::from(code)
        }
    }
}

/// The log filter: `ZCRM_LOG` (errors only when unset), plus the plain progress lines
/// unless `ZCRM_LOG` says something about them (`ZCRM_LOG=zcrm::progress=off` silences them).
fn log_filter() -> tracing_subscriber::EnvFilter {
    let user = std::env::var("ZCRM_LOG").unwrap_or_default();
    let user = user.trim();
    let mut directives = if user.is_empty() { "error".to_owned() } else { user.to_owned() };
    if !user.contains(progress::TARGET) {
        directives.push_str(&format!(",{}=info", progress::TARGET));
    }
    tracing_subscriber::EnvFilter::builder().parse_lossy(directives)
}

/// Installs the log lines on stderr (text or JSON, filtered by [`log_filter`]) and, when steps
/// show bars, the layer that draws them: log lines are then written above the bars.
fn init_logs(format: LogFormat, bars: bool) {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::fmt::writer::BoxMakeWriter;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let bars = bars.then(progress::bars_layer);
    let writer = match &bars {
        Some(bars) => BoxMakeWriter::new(bars.inner().get_stderr_writer()),
        None => BoxMakeWriter::new(std::io::stderr),
    };
    let logs = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(writer);
    let logs = match format {
        LogFormat::Text => logs.boxed(),
        LogFormat::Json => logs.json().boxed(),
    };
    tracing_subscriber::registry().with(bars).with(logs.with_filter(log_filter())).init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let progress = progress::Progress::from_env(matches!(cli.log_format, LogFormat::Json));
    init_logs(cli.log_format, progress.bars());
    let result = match cli.command {
        Command::Fields { module, json, refresh } => cmd::fields::run(&module, json, refresh),
        Command::Budget { json } => cmd::budget::run(json),
        Command::Auth(args) => cmd::auth::run(&args),
        Command::Users { all } => cmd::users::run(all),
        Command::Init(args) => cmd::init::run(&args),
        Command::Export(args) => cmd::export::run(&args, &progress),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "zcrm",
                &mut out,
            );
            Ok(String::from_utf8_lossy(&out).into_owned())
        }
        Command::Plan { pipeline } => cmd::plan::run(&pipeline),
        Command::Status { pipeline } => cmd::status::run(&pipeline),
        Command::Settle(args) => cmd::settle::run(&args),
        Command::Run(args) => return run_pipeline(&args, &progress),
        Command::Validate(args) => return cmd::validate::main(&args),
        Command::Test(args) => return cmd::test::main(&args),
        Command::Undo(args) => return cmd::undo::main(&args, &progress),
        Command::Generate(args) => cmd::generate::run(&args),
        Command::Emulator(args) => {
            cmd::emulator::run(args).map(|()| String::new()).map_err(anyhow::Error::from)
        }
    };
    match result {
        Ok(text) => print(&text),
        Err(e) => {
            report(&e);
            ExitCode::from(exit::code(&e))
        }
    }
}
