//! XML plumbing shared by every codec: escaping, the hardened reader, a small element tree, and
//! a writer for API documents.

pub(crate) mod escape;
pub(crate) mod reader;
pub mod tree;
pub(crate) mod writer;

pub use escape::{check_xml_text, is_xml_char};
pub use reader::MAX_DEPTH;
