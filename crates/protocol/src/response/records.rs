//! Record pages (getRecords, getMyRecords, getRecordById, the searches, getCVRecords,
//! getRelatedRecords): `<response uri><result><Module><row no><FL val>..</FL></row></Module></result></response>`.
//!
//! Decoding streams over the bytes without building a tree: values borrow from the body when
//! they need no unescaping, and each distinct label is stored once per page.

use std::borrow::Cow;

use quick_xml::XmlVersion;
use quick_xml::events::BytesStart;

use crate::error::{ApiCode, ApiError, DecodeError, EncodeError, ResponseError};
use crate::value::RecordId;
use crate::xml::reader::{Ev, XmlReader};
use crate::xml::writer::XmlWriter;

/// A field value in a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell<'a> {
    /// `null` (newFormat=2) — absent fields are simply not in the row.
    Null,
    /// The value's text (empty elements give an empty string).
    Text(Cow<'a, str>),
    /// Line items (`<product no>` children of `Product Details`), each as label/value pairs.
    LineItems(Vec<Vec<(String, Option<String>)>>),
}

impl Cell<'_> {
    /// The text, unless null or line items.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Cell::Text(t) => Some(t),
            _ => None,
        }
    }

    /// Detaches the cell from the response body.
    pub fn into_owned(self) -> Cell<'static> {
        match self {
            Cell::Null => Cell::Null,
            Cell::Text(t) => Cell::Text(Cow::Owned(t.into_owned())),
            Cell::LineItems(items) => Cell::LineItems(items),
        }
    }
}

/// One `<row>`: its `no` and its cells, each tagged with an index into the page's labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row<'a> {
    /// `row no` (1-based within the response, not the absolute index).
    pub no: u32,
    /// `(label index, value)` in document order.
    pub cells: Vec<(u16, Cell<'a>)>,
}

/// A decoded page of records.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordsPage<'a> {
    /// The module element's name (empty for nodata).
    pub module: String,
    /// Every distinct FL label of the page, in order of first appearance.
    pub labels: Vec<Box<str>>,
    /// The rows, in document order.
    pub rows: Vec<Row<'a>>,
    /// Whether the server answered `<nodata>` (4422): an empty page, not an error.
    pub nodata: bool,
}

/// A row together with its page, for lookups by label.
#[derive(Debug, Clone, Copy)]
pub struct RowRef<'p, 'a> {
    page: &'p RecordsPage<'a>,
    row: &'p Row<'a>,
}

impl<'p, 'a> RowRef<'p, 'a> {
    /// `row no`.
    pub fn no(&self) -> u32 {
        self.row.no
    }

    /// The cell of `label`, if the row has it.
    pub fn get(&self, label: &str) -> Option<&'p Cell<'a>> {
        let idx = self.page.labels.iter().position(|l| &**l == label)?;
        self.row.cells.iter().find(|(i, _)| usize::from(*i) == idx).map(|(_, c)| c)
    }

    /// The text of `label`, if present and not null.
    pub fn text(&self, label: &str) -> Option<&'p str> {
        self.get(label).and_then(Cell::as_text)
    }

    /// `(label, cell)` pairs in document order.
    pub fn fields(&self) -> impl Iterator<Item = (&'p str, &'p Cell<'a>)> + use<'p, 'a> {
        let page = self.page;
        self.row.cells.iter().map(move |(i, c)| (&*page.labels[usize::from(*i)], c))
    }

    /// The record id in the module's id column (e.g. `LEADID`).
    pub fn id(&self, id_field: &str) -> Option<RecordId> {
        self.text(id_field).and_then(|t| t.parse().ok())
    }
}

impl<'a> RecordsPage<'a> {
    /// The rows with label lookups.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = RowRef<'_, 'a>> {
        self.rows.iter().map(move |row| RowRef { page: self, row })
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the page holds no records.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Detaches the page from the response body.
    pub fn into_owned(self) -> RecordsPage<'static> {
        RecordsPage {
            module: self.module,
            labels: self.labels,
            rows: self
                .rows
                .into_iter()
                .map(|r| Row {
                    no: r.no,
                    cells: r.cells.into_iter().map(|(i, c)| (i, c.into_owned())).collect(),
                })
                .collect(),
            nodata: self.nodata,
        }
    }

    /// Decodes a record-page response; `<nodata>` gives an empty page, `<error>` an API error.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, ResponseError> {
        Decoder { r: XmlReader::new(bytes), labels: Vec::new(), hint: 0 }.page()
    }
}

/// A quick look at a record-page response, for callers that decode the records later (on
/// another thread): an `<error>` envelope gives its API error and a body cut short a decode
/// error, exactly as [`RecordsPage::decode`] reports them, but the records are not decoded.
/// Returns an upper bound of the page's rows (the `<row ` tags; a value that holds that text
/// literally in a CDATA section can only make it larger), 0 for `<nodata>`.
pub fn precheck_records(bytes: &[u8]) -> Result<usize, ResponseError> {
    let first = |tag: &[u8]| memchr::memmem::find(bytes, tag).unwrap_or(usize::MAX);
    let result = first(b"<result");
    let complete = bytes.trim_ascii_end().ends_with(b"</response>");
    if !complete || result == usize::MAX || first(b"<error") < result || first(b"<nodata") < result
    {
        // Small or broken bodies: the full decoder names the API error or the defect.
        return RecordsPage::decode(bytes).map(|p| p.len());
    }
    Ok(memchr::memmem::find_iter(&bytes[result..], b"<row ").count())
}

fn shape(msg: &str) -> ResponseError {
    ResponseError::Decode(DecodeError::Shape(msg.to_owned()))
}

/// Calls `f` with the raw or unescaped value of attribute `name`, without allocating for plain values.
fn with_attr<R>(
    s: &BytesStart<'_>,
    name: &str,
    f: impl FnOnce(&str) -> R,
) -> Result<Option<R>, DecodeError> {
    // Fast path for the shape every FL and row has: exactly one attribute, double-quoted, with
    // nothing to unescape or normalise (`<FL val="Last Name">`).
    let raw = s.attributes_raw();
    if let Some(rest) = raw.trim_start().strip_prefix(name)
        && let Some(body) = rest.strip_prefix("=\"")
        && let Some(end) = body.find('"')
        && body[end + 1..].trim().is_empty()
    {
        let v = &body[..end];
        if !v.bytes().any(|b| matches!(b, b'&' | b'<' | b'\t' | b'\n' | b'\r')) {
            return Ok(Some(f(v)));
        }
    }
    // Duplicate-attribute checks allocate per element; API elements carry one or two attributes.
    for a in s.attributes().with_checks(false) {
        let a = a.map_err(|e| DecodeError::Xml { offset: 0, reason: e.to_string() })?;
        if a.key.as_ref() == name {
            if a.value.bytes().any(|b| matches!(b, b'&' | b'\t' | b'\n' | b'\r')) {
                let v = a
                    .normalized_value(XmlVersion::Implicit1_0)
                    .map_err(|e| DecodeError::Xml { offset: 0, reason: e.to_string() })?;
                return Ok(Some(f(&v)));
            }
            return Ok(Some(f(&a.value)));
        }
    }
    Ok(None)
}

struct Decoder<'a> {
    r: XmlReader<'a>,
    labels: Vec<Box<str>>,
    hint: usize,
}

impl<'a> Decoder<'a> {
    fn expect_start(&mut self) -> Result<Option<BytesStart<'a>>, ResponseError> {
        loop {
            match self.r.next()? {
                Ev::Start(s) => return Ok(Some(s)),
                Ev::Text(t) if t.trim().is_empty() => {}
                Ev::Text(_) => return Err(shape("unexpected text")),
                Ev::End => return Ok(None),
                Ev::Eof => return Err(DecodeError::Truncated { depth: 0 }.into()),
            }
        }
    }

    fn page(mut self) -> Result<RecordsPage<'a>, ResponseError> {
        let root = match self.r.next()? {
            Ev::Start(s) => s,
            _ => return Err(shape("empty document")),
        };
        if root.name().as_ref() != "response" {
            return Err(ResponseError::Decode(DecodeError::Shape(format!(
                "expected <response>, found <{}>",
                root.name().as_ref()
            ))));
        }
        let mut page = RecordsPage::default();
        // The body of <response>: <result>, <nodata>, <error>, or the bare refusal text.
        let first = loop {
            match self.r.next()? {
                Ev::Start(s) => break s,
                Ev::Text(t) if t.trim().is_empty() => {}
                Ev::Text(t) => return Err(ApiError::new(ApiCode::Refused, t.trim()).into()),
                Ev::End => return Err(shape("empty <response>")),
                Ev::Eof => return Err(DecodeError::Truncated { depth: 0 }.into()),
            }
        };
        match first.name().as_ref() {
            "nodata" => {
                self.r.skip_element()?;
                page.nodata = true;
            }
            "error" => return Err(self.error_body()?.into()),
            "result" => {
                while let Some(module) = self.expect_start()? {
                    page.module = module.name().as_ref().to_owned();
                    while let Some(row) = self.expect_start()? {
                        if row.name().as_ref() != "row" {
                            return Err(shape("expected <row>"));
                        }
                        let no = with_attr(&row, "no", |v| v.trim().parse::<u32>())?
                            .transpose()
                            .map_err(|_| DecodeError::BadValue {
                                what: "row no",
                                value: String::from_utf8_lossy(row.attributes_raw().as_bytes())
                                    .into_owned(),
                            })?
                            .unwrap_or(page.rows.len() as u32 + 1);
                        let cells = self.cells()?;
                        page.rows.push(Row { no, cells });
                    }
                }
            }
            other => {
                return Err(ResponseError::Decode(DecodeError::Shape(format!(
                    "unexpected <{other}> in <response>"
                ))));
            }
        }
        // Close </response> and require the end of the document.
        while self.expect_start()?.is_some() {
            self.r.skip_element()?;
        }
        match self.r.next()? {
            Ev::Eof => {}
            _ => return Err(shape("content after </response>")),
        }
        page.labels = self.labels;
        Ok(page)
    }

    fn error_body(&mut self) -> Result<ApiError, ResponseError> {
        let mut code = String::new();
        let mut message = String::new();
        while let Some(s) = self.expect_start()? {
            match s.name().as_ref() {
                "code" => code = self.r.read_text()?.into_owned(),
                "message" => message = self.r.read_text()?.into_owned(),
                _ => self.r.skip_element()?,
            }
        }
        Ok(ApiError::new(ApiCode::parse(&code), message))
    }

    fn label_index(&mut self, label: &str) -> Result<u16, ResponseError> {
        let idx = if self.labels.get(self.hint).is_some_and(|l| &**l == label) {
            self.hint
        } else if let Some(i) = self.labels.iter().position(|l| &**l == label) {
            i
        } else {
            self.labels.push(label.into());
            self.labels.len() - 1
        };
        self.hint = idx + 1;
        u16::try_from(idx).map_err(|_| shape("more than 65535 distinct labels"))
    }

    fn cells(&mut self) -> Result<Vec<(u16, Cell<'a>)>, ResponseError> {
        let mut cells = Vec::with_capacity(self.labels.len().max(8));
        self.hint = 0;
        while let Some(fl) = self.expect_start()? {
            if fl.name().as_ref() != "FL" {
                return Err(shape("expected <FL> in <row>"));
            }
            let idx = match with_attr(&fl, "val", |v| self.label_index(v))? {
                Some(idx) => idx?,
                None => return Err(shape("<FL> without val")),
            };
            cells.push((idx, self.fl_value()?));
        }
        Ok(cells)
    }

    fn fl_value(&mut self) -> Result<Cell<'a>, ResponseError> {
        let mut text: Option<Cow<'a, str>> = None;
        let mut items: Vec<Vec<(String, Option<String>)>> = Vec::new();
        loop {
            match self.r.next()? {
                Ev::Text(t) => match &mut text {
                    None => text = Some(t),
                    Some(acc) => acc.to_mut().push_str(&t),
                },
                Ev::End => break,
                Ev::Start(s) if s.name().as_ref() == "product" => items.push(self.product()?),
                Ev::Start(s) => {
                    return Err(ResponseError::Decode(DecodeError::Shape(format!(
                        "unexpected <{}> inside <FL>",
                        s.name().as_ref()
                    ))));
                }
                Ev::Eof => return Err(DecodeError::Truncated { depth: 0 }.into()),
            }
        }
        if !items.is_empty() {
            return Ok(Cell::LineItems(items));
        }
        Ok(match text {
            Some(t) if t == "null" => Cell::Null,
            Some(t) => Cell::Text(t),
            None => Cell::Text(Cow::Borrowed("")),
        })
    }

    fn product(&mut self) -> Result<Vec<(String, Option<String>)>, ResponseError> {
        let mut fields = Vec::new();
        while let Some(fl) = self.expect_start()? {
            let label =
                with_attr(&fl, "val", str::to_owned)?.ok_or_else(|| shape("<FL> without val"))?;
            let value = self.r.read_text()?;
            let value = (value != "null").then(|| value.into_owned());
            fields.push((label, value));
        }
        Ok(fields)
    }
}

/// The value of a field to encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutValue<'a> {
    /// The literal `null` (newFormat=2; callers omit null fields for newFormat=1).
    Null,
    /// The value's text.
    Text(&'a str),
    /// Line items (`Product Details` of Quotes, SalesOrders, PurchaseOrders, Invoices): one
    /// `<product no="n">` per entry, numbered from 1, holding that entry's fields. Inner fields
    /// keep their own `bare` flag (the service writes numbers and ids bare, text as CDATA);
    /// they cannot hold line items themselves.
    LineItems(&'a [Vec<OutField<'a>>]),
}

impl<'a> From<Option<&'a str>> for OutValue<'a> {
    fn from(value: Option<&'a str>) -> Self {
        value.map_or(Self::Null, Self::Text)
    }
}

/// A field of a record to encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutField<'a> {
    /// The FL label.
    pub label: &'a str,
    /// The value.
    pub value: OutValue<'a>,
    /// Id-ish columns (record id, SMOWNERID, lookup ids) are bare text; all else is CDATA.
    /// Ignored for line items.
    pub bare: bool,
}

impl<'a> OutField<'a> {
    /// A text field; `None` writes the literal `null`.
    pub fn text(label: &'a str, value: Option<&'a str>, bare: bool) -> Self {
        Self { label, value: value.into(), bare }
    }

    /// A line-items field (`Product Details`).
    pub fn line_items(label: &'a str, items: &'a [Vec<OutField<'a>>]) -> Self {
        Self { label, value: OutValue::LineItems(items), bare: false }
    }
}

fn write_field(w: &mut XmlWriter, f: &OutField<'_>, nested: bool) -> Result<(), EncodeError> {
    w.open("FL", &[("val", f.label)])?;
    match (f.value, f.bare) {
        (OutValue::Null, true) => w.out.push_str("null"),
        (OutValue::Null, false) => w.out.push_str("<![CDATA[null]]>"),
        (OutValue::Text(v), true) => w.text(v, f.label)?,
        (OutValue::Text(v), false) => w.cdata(v, f.label)?,
        (OutValue::LineItems(_), _) if nested => {
            return Err(EncodeError::NestedLineItems(f.label.to_owned()));
        }
        (OutValue::LineItems(items), _) => {
            for (i, item) in items.iter().enumerate() {
                let no = (i + 1).to_string();
                w.open("product", &[("no", &no)])?;
                for inner in item {
                    write_field(w, inner, true)?;
                }
                w.close("product");
            }
        }
    }
    w.close("FL");
    Ok(())
}

/// Encodes a page of records; an empty page is the `<nodata>` answer.
pub fn encode_records_page(
    uri: &str,
    module: &str,
    rows: &[Vec<OutField<'_>>],
) -> Result<String, EncodeError> {
    if rows.is_empty() {
        return super::encode_nodata(uri);
    }
    let mut w = XmlWriter::document();
    w.open("response", &[("uri", uri)])?;
    w.open("result", &[])?;
    w.open(module, &[])?;
    for (i, row) in rows.iter().enumerate() {
        let no = (i + 1).to_string();
        w.open("row", &[("no", &no)])?;
        for f in row {
            write_field(&mut w, f, false)?;
        }
        w.close("row");
    }
    w.close(module);
    w.close("result");
    w.close("response");
    Ok(w.finish())
}
