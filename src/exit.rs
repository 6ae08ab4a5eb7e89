//! Exit codes, decided in one place by walking an error's whole chain (as ripgrep's `main`
//! does): every error zcrm's crates raise belongs to a class, and the class, together with
//! whether this process had already sent a write call, gives the code the README promises.

use zcrm_batcher::BatchError;
use zcrm_client::{ClientError, ErrorClass};

/// Done.
pub const OK: u8 = 0;
/// Done, some rows rejected.
pub const REJECTS: u8 = 1;
/// Usage or pipeline-file error, or a local problem found before any write call: nothing sent.
pub const USAGE: u8 = 2;
/// The CRM or the network failed (after retries), or anything failed after a write call.
pub const CRM: u8 = 3;
/// Another run of the same pipeline holds its journal: nothing was read or sent.
pub const BUSY: u8 = 4;
/// Today's budget share is spent: a rerun resumes.
pub const BUDGET: u8 = 75;

/// What kind of failure an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// The command line, the pipeline file or the configuration is wrong.
    Usage,
    /// The CRM or the network.
    Remote,
    /// The day's budget.
    Budget,
    /// A local file or the state dir.
    LocalIo,
    /// Another process holds the pipeline's journal.
    Busy,
}

fn client_class(e: &ClientError) -> Class {
    match e.class() {
        ErrorClass::Budget => Class::Budget,
        ErrorClass::Usage => Class::Usage,
        ErrorClass::LocalIo => Class::LocalIo,
        ErrorClass::Remote => Class::Remote,
    }
}

fn batch_class(e: &BatchError) -> Class {
    match e {
        BatchError::Budget { .. } => Class::Budget,
        BatchError::Client(c) => client_class(c),
        BatchError::Locked { .. } => Class::Busy,
        BatchError::Journal(_)
        | BatchError::JournalFile(_)
        | BatchError::Lock { .. }
        | BatchError::StoredPayload { .. }
        | BatchError::Report { .. } => Class::LocalIo,
        _ => Class::Remote,
    }
}

fn export_class(e: &zcrm_writers::ExportError) -> Class {
    use zcrm_writers::ExportError as E;
    match e {
        E::Client(c) => client_class(c),
        E::Attachment { source, .. } => client_class(source),
        E::Io { .. } => Class::LocalIo,
        E::Usage(_) | E::SchemaChanged { .. } | E::SchemaTypeChanged { .. } => Class::Usage,
        _ => Class::Remote,
    }
}

/// A validate error's class; `None` for a metadata failure, whose cause (next in the chain)
/// says what it is.
fn validate_class(e: &zcrm_pipeline::ValidateError) -> Option<Class> {
    use zcrm_pipeline::ValidateError as E;
    match e {
        E::Spec(_) => Some(Class::Usage),
        E::Metadata { .. } => None,
        E::Read(_) | E::Reject(_) | E::Lines(_) | E::Keys(_) => Some(Class::LocalIo),
    }
}

fn connect_class(e: &zcrm_connect::ConnectError) -> Class {
    match e {
        zcrm_connect::ConnectError::Client(c) => client_class(c),
        zcrm_connect::ConnectError::Emulator(_) => Class::LocalIo,
    }
}

/// An engine error as the front end reports it: a variant that only carries another crate's
/// error is unwrapped, so the chain holds that error itself (its diagnostics are rendered, its
/// class read) exactly as when the binary called that crate directly.
pub fn engine_error(e: zcrm_engine::EngineError) -> anyhow::Error {
    use zcrm_engine::EngineError as E;
    match e {
        E::Load(x) => x.into(),
        E::Connect(x) => x.into(),
        E::Client(x) => x.into(),
        E::Batch(x) => x.into(),
        E::Reject(x) => x.into(),
        E::Read(x) => (*x).into(),
        E::Validate(x) => x.into(),
        E::ExportModule(x) => x.into(),
        other => other.into(),
    }
}

/// An engine error's class; `None` for a step's context (its cause, next in the chain, says
/// what it is). Variants that wrap another crate's error are unwrapped by [`engine_error`].
fn engine_class(e: &zcrm_engine::EngineError) -> Option<Class> {
    use zcrm_engine::EngineError as E;
    match e {
        E::Load(_)
        | E::UnknownStep { .. }
        | E::Invalid { .. }
        | E::UndoInFlight { .. }
        | E::ExportRefused { .. } => Some(Class::Usage),
        E::Connect(c) => Some(connect_class(c)),
        E::Client(c) => Some(client_class(c)),
        E::Batch(b) => Some(batch_class(b)),
        E::Reject(_) | E::Read(_) | E::Fingerprint { .. } | E::Lines { .. } => Some(Class::LocalIo),
        E::Validate(v) => validate_class(v),
        E::ExportModule(x) => Some(export_class(x)),
        _ => None,
    }
}

/// The class of one error of the chain, if it is one of zcrm's typed errors.
fn class_of(e: &(dyn std::error::Error + 'static)) -> Option<Class> {
    if let Some(e) = e.downcast_ref::<zcrm_engine::EngineError>() {
        return engine_class(e);
    }
    if let Some(e) = e.downcast_ref::<ClientError>() {
        return Some(client_class(e));
    }
    if let Some(e) = e.downcast_ref::<BatchError>() {
        return Some(batch_class(e));
    }
    if let Some(e) = e.downcast_ref::<zcrm_writers::ExportError>() {
        return Some(export_class(e));
    }
    if let Some(e) = e.downcast_ref::<zcrm_pipeline::ValidateError>() {
        return validate_class(e);
    }
    if let Some(e) = e.downcast_ref::<zcrm_connect::ConnectError>() {
        return Some(connect_class(e));
    }
    if e.is::<zcrm_client::BudgetExhausted>() {
        return Some(Class::Budget);
    }
    if e.is::<zcrm_pipeline::LoadError>() || e.is::<zcrm_pipeline::Diagnostics>() {
        return Some(Class::Usage);
    }
    if e.is::<zcrm_readers::ReadError>()
        || e.is::<zcrm_mapping::RejectWriterError>()
        || e.is::<std::io::Error>()
        || e.is::<zcrm_gen::GenError>()
        || e.is::<zcrm_emulator::EmulatorError>()
    {
        return Some(Class::LocalIo);
    }
    None
}

/// The class of an error: the first typed error of its chain that says one, outermost first
/// (a context line says nothing; the budget and a held journal win wherever they are).
pub fn classify(err: &anyhow::Error) -> Class {
    let classes: Vec<Class> = err.chain().filter_map(class_of).collect();
    for wins in [Class::Budget, Class::Busy] {
        if classes.contains(&wins) {
            return wins;
        }
    }
    classes.first().copied().unwrap_or(Class::Usage)
}

/// The exit code of a failed command. Before this process sent a write call, usage and
/// local problems are 2 (nothing was sent: fix and rerun); after one, every failure but the
/// budget is 3, since the CRM has changed and the journal holds the truth.
pub fn code(err: &anyhow::Error) -> u8 {
    code_for(classify(err), zcrm_client::write_sent())
}

/// [`code`] for a known class and whether a write was sent.
pub fn code_for(class: Class, write_sent: bool) -> u8 {
    match class {
        Class::Budget => BUDGET,
        Class::Busy => BUSY,
        Class::Remote => CRM,
        Class::Usage | Class::LocalIo if write_sent => CRM,
        Class::Usage | Class::LocalIo => USAGE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_and_a_held_journal_win_wherever_they_are_in_the_chain() {
        let lock = BatchError::Lock { path: "j.lock".into(), source: std::io::Error::other("x") };
        let budget = anyhow::Error::new(lock).context("step a");
        assert_eq!(classify(&budget), Class::LocalIo);
        let locked = anyhow::Error::new(BatchError::Locked { journal: "j".into() });
        assert_eq!(code_for(classify(&locked), true), BUSY);
        assert_eq!(code_for(Class::LocalIo, false), USAGE);
        assert_eq!(code_for(Class::LocalIo, true), CRM);
        assert_eq!(code_for(Class::Usage, true), CRM);
        assert_eq!(code_for(Class::Remote, false), CRM);
        assert_eq!(code_for(Class::Budget, true), BUDGET);
        let plain = anyhow::anyhow!("no step named \"x\"");
        assert_eq!(classify(&plain), Class::Usage);
        let io = anyhow::Error::new(std::io::Error::other("disk full")).context("writing");
        assert_eq!(classify(&io), Class::LocalIo);
    }
}
