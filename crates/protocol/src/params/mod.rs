//! Query parameters of the API methods (docs/protocol.md §2 and §4), typed both ways:
//! clients turn them into `name=value` pairs, the emulator reads them back with the same rules.

mod criteria;
mod format;
mod ids;
mod meta;
mod read;
mod search;
mod source;
mod write;

pub use criteria::{Criteria, MAX_CRITERIA_ATOMS};
pub use format::{ApiVersion, NewFormat};
pub use ids::IdSelection;
pub use meta::{FieldsFilter, UserType};
pub use read::{ReadParams, SelectColumns, Sort, SortOrder, Window};
pub use search::{SearchCondition, SearchOp};
pub use source::{Pairs, ParamSource, required, required_id};
pub use write::{DuplicateCheck, WriteParams};
