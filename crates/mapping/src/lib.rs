//! From source rows to CRM field values, checked locally as the server would check them.
//!
//! A [`MapSpec`] (the `[steps.map]` table of a pipeline, already parsed) is compiled against a
//! module's `getFields` metadata and the source's header into a [`Mapper`]; every problem of
//! the spec is reported at once ([`SpecError`]). The mapper then turns each [`zcrm_readers::Row`]
//! into a [`MappedRow`] (typed values in mapping order) or a [`RejectedRow`] listing all of the
//! row's problems. [`map_blocks`] (a reader's raw blocks, what `zcrm run`, `plan` and `validate`
//! use) and [`map_chunks`] (decoded chunks) do this in parallel with rayon, keeping source
//! order, and [`RejectWriter`] writes the reject file the README describes.

mod coerce;
mod compile;
mod error;
mod output;
mod reject;
mod row;
mod run;
mod spec;
pub mod suggest;
mod template;

pub use compile::{CompileOptions, Mapper};
pub use error::{Problem, SpecError};
pub use output::{MappedChunk, MappedRow, MappedValue, RejectedRow};
pub use reject::{RejectWriter, RejectWriterError};
pub use run::{map_blocks, map_chunks};
pub use spec::{Case, FieldSource, FieldSpec, MapEntry, MapSpec, PicklistMode, Span};
pub use zcrm_protocol::suggest::did_you_mean;
