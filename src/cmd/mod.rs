//! One module per subcommand.

pub mod auth;
pub mod budget;
pub mod emulator;
pub mod export;
pub mod fields;
pub mod generate;
pub mod init;
pub mod plan;
pub mod run;
pub mod settle;
pub mod status;
pub mod test;
pub mod undo;
pub mod users;
pub mod validate;

/// A module argument: a standard module's API name or `CustomModuleN`; anything else is a usage
/// error with the nearest standard name, before any call is spent.
pub fn module_name(s: &str) -> Result<String, String> {
    s.parse::<zcrm_protocol::Module>()
        .map(|m| m.api_name().into_owned())
        .map_err(|_| format!("unknown module {s:?}: {}", zcrm_pipeline::unknown_module_hint(s)))
}
