//! One module per subcommand.

pub mod budget;
pub mod export;
pub mod fields;
