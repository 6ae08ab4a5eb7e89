//! Per-field work: the text of each field (column, template or constant, then trim, value
//! replacement, case, default) coerced to the field's type and validated as the server would.

mod dates;
mod formats;
mod picklist;
mod plan;
mod text;
mod value;

pub(crate) use picklist::Picklist;
pub(crate) use plan::{Input, Plan, Target, TemplatePiece};
pub(crate) use text::CellSource;
pub(crate) use value::Coerced;
