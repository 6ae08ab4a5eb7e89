//! The Zoho CRM XML API wire format, typed: modules, `getFields` metadata, field values,
//! `xmlData` payloads, method parameters, and every response shape of `docs/protocol.md`,
//! encoded and decoded with quick-xml. No I/O: `zcrm-client` and `zcrm-emulator` both speak
//! through this crate, so they agree on every byte.
//!
//! Decoding is hardened: DOCTYPEs are refused (no entity is ever expanded), only predefined
//! entities and character references resolve, nesting is bounded, and truncated or non-UTF-8
//! bodies are typed errors. Record pages decode without building a tree.

pub mod error;
pub mod field;
pub mod formula_guard;
pub mod json;
pub mod limits;
pub mod line_items;
pub mod messages;
pub mod method;
pub mod module;
pub mod params;
pub mod request;
pub mod response;
pub mod rest_limits;
pub mod suggest;
pub mod value;
pub mod xml;
pub mod xmldata;

pub use error::{ApiCode, ApiError, DecodeError, EncodeError, ParamError, ResponseError, Retry};
pub use field::{FieldMeta, FieldType, ModuleFields, Section};
pub use limits::{BudgetRule, Edition};
pub use method::{Format, Method, MethodClass};
pub use module::Module;
pub use request::Request;
pub use response::records::{Cell, RecordsPage};
pub use response::write::{RecordDetail, RowOutcome, RowResult, WriteResponse};
pub use value::{Direction, RecordId, Value};
pub use xmldata::{XmlData, XmlDataBuilder, decode_xml_data};
