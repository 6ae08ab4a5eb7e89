//! Line items (`[steps.line_items]`): a line file joined to an import step's rows by key,
//! never both files in memory.
//!
//! Before the step, [`LineIndex::build`] reads the whole line file once, maps and checks every
//! line like a row (the line-item fields of [`line_item_fields`], lookups between steps as
//! anywhere), and writes each line to a private temporary SQLite database on disk (SQLite's
//! own temporary file, deleted when the index is dropped), keyed by its parent key, in
//! line-file order, with its line number and either its values or its problems. While the
//! step's rows are mapped, [`LineIndex::lines_of`] hands each row its lines (marking them
//! claimed); a row with any bad line is rejected whole, naming the line file's lines
//! (`Product Details: line 7: Quantity: ...`). When the step ends, [`LineIndex::finish`] writes
//! every line that no row claimed to the line reject file (`<step>.lines.rejects.csv`: the
//! line file's columns, `_row`, `_line`, `_errors`). Nothing is dropped silently.

use std::path::PathBuf;
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, params};
use zcrm_mapping::{CompileOptions, MappedValue, Mapper, RejectWriter, RejectWriterError};
use zcrm_protocol::line_items as li;
use zcrm_protocol::{Direction, FieldMeta, FieldType, ModuleFields, RecordId, Section, Value};
use zcrm_readers::{ReadError, RowReader, SourceKind};

use crate::{Diagnostic, ImportStep, Pipeline};

/// The line-item fields as a module of their own, for the mapping's checks: `Product Id` (a
/// Products lookup, required), `Quantity` (required), `List Price` or `Unit Price`,
/// `Discount`, `Tax` (numbers), `Product Description` (text).
pub fn line_item_fields() -> ModuleFields {
    let field = |label: &str, t: FieldType, required: bool| FieldMeta {
        required,
        ..FieldMeta::new(label, t)
    };
    let product = FieldMeta {
        lookup_module: Some("Products".to_owned()),
        ..field(li::PRODUCT_ID, FieldType::Lookup, true)
    };
    ModuleFields {
        module: "Product Details".to_owned(),
        sections: vec![Section {
            name: "Product Details".to_owned(),
            display_name: "Product Details".to_owned(),
            fields: vec![
                product,
                field(li::QUANTITY, FieldType::Double, true),
                field(li::LIST_PRICE, FieldType::Currency, false),
                field(li::UNIT_PRICE, FieldType::Currency, false),
                field(li::DISCOUNT, FieldType::Currency, false),
                field(li::TAX, FieldType::Currency, false),
                FieldMeta {
                    max_length: Some(2000),
                    ..field(li::DESCRIPTION, FieldType::TextArea, false)
                },
            ],
        }],
    }
}

/// A step's line file, open and its mapping compiled.
#[derive(Debug)]
pub struct LineSource {
    reader: RowReader,
    mapper: Mapper,
    headers: Vec<String>,
    parent: usize,
}

/// Opens `step`'s line file and compiles its map: `None` when the step has no line items,
/// or with the problems (a file that cannot be opened, a `parent` column the file lacks,
/// every mapping mistake) added to `diags`.
pub fn compile_lines(
    p: &Pipeline,
    step: &ImportStep,
    diags: &mut Vec<Diagnostic>,
) -> Option<LineSource> {
    let l = step.line_items.as_ref()?;
    let problem = |diags: &mut Vec<Diagnostic>, span, msg: String, hint: Option<String>| {
        diags.push(Diagnostic::at(
            &p.path,
            &p.text,
            span,
            format!("step {:?}: {msg}", step.name),
            hint,
        ));
    };
    let reader = match zcrm_readers::open(&l.source, &l.source_options) {
        Ok(r) => r,
        Err(e) => {
            problem(diags, l.spans.source.clone(), format!("line items: {e}"), None);
            return None;
        }
    };
    let headers = reader.headers().to_vec();
    let parent = headers.iter().position(|h| *h == l.parent);
    if parent.is_none() {
        let hint = zcrm_mapping::did_you_mean(&l.parent, headers.iter().map(String::as_str))
            .map_or_else(
                || format!("the line file's columns are: {}", headers.join(", ")),
                |s| format!("did you mean the column `{s}`?"),
            );
        problem(
            diags,
            l.spans.parent.clone(),
            format!("the parent column `{}` is not in {}", l.parent, l.source.display()),
            Some(hint),
        );
    }
    let prices: Vec<_> = l
        .map
        .entries
        .iter()
        .filter(|e| e.field == li::LIST_PRICE || e.field == li::UNIT_PRICE)
        .collect();
    if let [_, second, ..] = prices.as_slice() {
        problem(
            diags,
            Some(second.field_span.clone()),
            "the price is mapped twice (`List Price` and `Unit Price` are one field)".to_owned(),
            None,
        );
    }
    let opts = CompileOptions {
        require_mandatory: true,
        key: Some((l.parent.clone(), l.spans.parent.clone())),
        lookup_steps: p.lookup_targets(),
        excel_serials: reader.kind() == SourceKind::Xlsx,
        ..CompileOptions::default()
    };
    let mapper = match Mapper::compile(&l.map, &line_item_fields(), &headers, &opts) {
        Ok(m) => Some(m),
        Err(errors) => {
            for e in errors {
                // The missing parent column is reported above, in the words of line items.
                if parent.is_none() && e.message.starts_with("the key column") {
                    continue;
                }
                let span = e.span.or_else(|| l.spans.map.clone());
                problem(diags, span, format!("line items: {}", e.message), e.hint);
            }
            None
        }
    };
    let (mapper, parent) = (mapper?, parent?);
    if prices.len() > 1 {
        return None;
    }
    Some(LineSource { reader, mapper, headers, parent })
}

/// Why the line index failed (the line file, the temporary database, the reject file).
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    /// The line file stopped being readable.
    #[error("reading the line items: {0}")]
    Read(#[from] ReadError),
    /// The temporary index on disk.
    #[error("indexing the line items on disk")]
    Index(#[from] rusqlite::Error),
    /// The line reject file.
    #[error(transparent)]
    Reject(#[from] RejectWriterError),
}

/// One line item of a row: its line in the line file, and its fields labelled as the XML
/// API names them (`Product Id` — a lookup still to resolve or an Id —, `Quantity`,
/// `Unit Price`, `Discount`, `Tax`, `Product Description`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineItem {
    /// The line (CSV) or sheet row (XLSX) of the line file.
    pub line: u64,
    /// `(label, value)` in mapping order.
    pub fields: Vec<(String, MappedValue)>,
}

/// A row's lines: every one valid, or the problems of the bad ones (`line N: reason`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lines {
    /// The row's items in line-file order (empty when it has none).
    Items(Vec<LineItem>),
    /// `Product Details: line N: field: reason`, one per problem.
    Bad(Vec<String>),
}

/// A step's line file, indexed on disk by parent key.
pub struct LineIndex {
    conn: Connection,
    step: String,
    parent: String,
    headers: Vec<String>,
    rejects: PathBuf,
    /// Lines read.
    pub lines: u64,
}

impl std::fmt::Debug for LineIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineIndex").field("step", &self.step).field("lines", &self.lines).finish()
    }
}

/// Stored form of a mapped value: (tag, text, lookup key).
fn store(v: &MappedValue) -> (&'static str, String, String) {
    match v {
        MappedValue::Lookup { step, key } => ("l", step.clone(), key.clone()),
        MappedValue::Owner { user } => ("t", user.clone(), String::new()),
        MappedValue::Value(Value::Decimal(d)) => ("d", d.to_string(), String::new()),
        MappedValue::Value(Value::Id(id)) => ("i", id.to_string(), String::new()),
        MappedValue::Value(v) => (
            "t",
            v.to_text(Direction::Input).map(|c| c.into_owned()).unwrap_or_default(),
            String::new(),
        ),
    }
}

fn load(tag: &str, text: String, key: String) -> MappedValue {
    match tag {
        "l" => MappedValue::Lookup { step: text, key },
        "d" => MappedValue::Value(
            Value::parse(&FieldType::Double, &text, Direction::Input).unwrap_or(Value::Text(text)),
        ),
        "i" => {
            MappedValue::Value(text.parse().map_or(Value::Text(text), |n| Value::Id(RecordId(n))))
        }
        _ => MappedValue::Value(Value::Text(text)),
    }
}

/// A valid line's values as sent (`List Price` is sent as `Unit Price`; a `Product Id` column
/// must hold a record Id; numbers must not be negative), or its problems.
fn checked(
    fields: Vec<(Arc<str>, MappedValue)>,
) -> Result<Vec<(String, MappedValue)>, Vec<String>> {
    let mut out = Vec::with_capacity(fields.len());
    let mut problems = Vec::new();
    for (label, v) in fields {
        let label = if &*label == li::LIST_PRICE { li::UNIT_PRICE } else { &*label };
        let v = match v {
            MappedValue::Value(Value::Text(t)) if label == li::PRODUCT_ID => {
                match t.trim().parse::<u64>() {
                    Ok(n) => MappedValue::Value(Value::Id(RecordId(n))),
                    Err(_) => {
                        problems.push(format!("{label}: {t:?} is not a record Id (look the product up with lookup = \"<products step>\", or map a column of Ids)"));
                        continue;
                    }
                }
            }
            MappedValue::Value(Value::Decimal(d)) if d.is_sign_negative() && !d.is_zero() => {
                problems.push(format!("{label}: {d} is negative; it must be 0 or more"));
                continue;
            }
            v => v,
        };
        out.push((label.to_owned(), v));
    }
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}

impl LineIndex {
    /// Reads, maps and indexes `step`'s line file.
    pub fn build(step: &ImportStep, src: LineSource) -> Result<Self, LineError> {
        let LineSource { reader, mapper, headers, parent } = src;
        let l = step.line_items.as_ref();
        let mut conn = Connection::open("")?;
        conn.execute_batch(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-4096;
             CREATE TABLE lines(seq INTEGER PRIMARY KEY, parent TEXT NOT NULL, row INTEGER NOT NULL,
               line INTEGER NOT NULL, source TEXT NOT NULL, fields TEXT, errors TEXT,
               claimed INTEGER NOT NULL DEFAULT 0);
             CREATE INDEX lines_parent ON lines(parent, seq);",
        )?;
        let tx = conn.transaction()?;
        let mut lines = 0u64;
        {
            let mut insert = tx.prepare(
                "INSERT INTO lines(parent, row, line, source, fields, errors) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            let mut put = |parent: &str,
                           pos: zcrm_readers::RowPos,
                           cells: &zcrm_readers::Cells,
                           fields: Option<String>,
                           errors: Option<String>|
             -> Result<(), LineError> {
                let source: Vec<&str> = (0..cells.len()).map(|i| cells.get(i)).collect();
                let source = serde_json::to_string(&source).unwrap_or_default();
                insert.execute(params![
                    parent,
                    pos.row as i64,
                    pos.line as i64,
                    source,
                    fields,
                    errors
                ])?;
                Ok(())
            };
            zcrm_mapping::map_blocks(
                reader.blocks(),
                &mapper,
                true,
                |chunk| -> Result<(), LineError> {
                    lines += chunk.rows_read as u64;
                    for r in chunk.rejected {
                        let key = if parent < r.source.len() { r.source.get(parent) } else { "" };
                        let problems: Vec<String> =
                            r.problems.iter().map(ToString::to_string).collect();
                        put(key, r.pos, &r.source, None, Some(problems.join(" | ")))?;
                    }
                    for r in chunk.rows {
                        let key = r.key.clone().unwrap_or_default();
                        match checked(r.fields) {
                            Ok(fields) => {
                                let stored: Vec<(String, &str, String, String)> = fields
                                    .iter()
                                    .map(|(l, v)| {
                                        let (tag, a, b) = store(v);
                                        (l.clone(), tag, a, b)
                                    })
                                    .collect();
                                let json = serde_json::to_string(&stored).unwrap_or_default();
                                put(&key, r.pos, &r.source, Some(json), None)?;
                            }
                            Err(problems) => {
                                put(&key, r.pos, &r.source, None, Some(problems.join(" | ")))?
                            }
                        }
                    }
                    Ok(())
                },
            )?;
        }
        tx.commit()?;
        Ok(Self {
            conn,
            step: step.name.clone(),
            parent: l.map(|l| l.parent.clone()).unwrap_or_default(),
            headers,
            rejects: l.map(|l| l.rejects.clone()).unwrap_or_default(),
            lines,
        })
    }

    /// The lines of the row with key `key`, in line-file order; they count as claimed (a row
    /// rejected for other reasons claims its lines with [`LineIndex::claim`]).
    pub fn lines_of(&self, key: &str) -> Result<Lines, LineError> {
        let mut st = self.conn.prepare_cached(
            "SELECT line, fields, errors FROM lines WHERE parent = ?1 ORDER BY seq",
        )?;
        let rows = st
            .query_map([key], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        self.claim(key)?;
        let mut items = Vec::with_capacity(rows.len());
        let mut bad = Vec::new();
        for (line, fields, errors) in rows {
            if let Some(e) = errors {
                bad.extend(e.split(" | ").map(|p| format!("Product Details: line {line}: {p}")));
                continue;
            }
            let stored: Vec<(String, String, String, String)> =
                fields.as_deref().and_then(|f| serde_json::from_str(f).ok()).unwrap_or_default();
            let fields = stored.into_iter().map(|(l, tag, a, b)| (l, load(&tag, a, b))).collect();
            items.push(LineItem { line: line as u64, fields });
        }
        Ok(if bad.is_empty() { Lines::Items(items) } else { Lines::Bad(bad) })
    }

    /// Marks the lines of key `key` as belonging to a row (which is rejected or already sent).
    pub fn claim(&self, key: &str) -> Result<(), LineError> {
        self.conn
            .prepare_cached("UPDATE lines SET claimed = 1 WHERE parent = ?1 AND claimed = 0")?
            .execute([key])?;
        Ok(())
    }

    /// Writes every line no row claimed to the line reject file (created even when empty, so
    /// an old one never lingers); how many there were.
    pub fn finish(self) -> Result<u64, LineError> {
        let mut w = RejectWriter::create(&self.rejects, &self.headers)?;
        let mut st = self.conn.prepare(
            "SELECT parent, row, line, source, errors FROM lines WHERE claimed = 0 ORDER BY seq",
        )?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let parent: String = r.get(0)?;
            let source: String = r.get(3)?;
            let cells: Vec<String> = serde_json::from_str(&source).unwrap_or_default();
            let mut errors = if parent.is_empty() {
                format!("{}: the line names no row of step {:?}", self.parent, self.step)
            } else {
                format!("{}: no row of step {:?} has the key {parent:?}", self.parent, self.step)
            };
            if let Some(e) = r.get::<_, Option<String>>(4)? {
                errors = format!("{errors} | {e}");
            }
            w.write_parts(
                cells.iter().map(String::as_str),
                r.get::<_, i64>(1)? as u64,
                r.get::<_, i64>(2)? as u64,
                &errors,
            )?;
        }
        Ok(w.finish()?)
    }

    /// Whether the index holds a line of key `key` (tests).
    pub fn has(&self, key: &str) -> Result<bool, LineError> {
        Ok(self
            .conn
            .query_row("SELECT 1 FROM lines WHERE parent = ?1 LIMIT 1", [key], |_| Ok(()))
            .optional()?
            .is_some())
    }
}
