//! One module per subcommand.

pub mod budget;
pub mod export;
pub mod fields;
pub mod generate;
pub mod plan;
pub mod run;
pub mod status;
pub mod validate;
