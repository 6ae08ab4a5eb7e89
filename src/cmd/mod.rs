//! One module per subcommand.

pub mod budget;
pub mod fields;
