//! The `xmlData` parameter of insertRecords, updateRecords, updateRelatedRecords and convertLead:
//! `<Module><row no="1"><FL val="Label">value</FL>...</row>...</Module>`.
//!
//! Encoding is atomic per row: a row with a value XML cannot carry is refused with a typed error
//! and leaves the payload as it was. Decoding (for the emulator) uses the hardened reader.

use std::borrow::Cow;

use crate::error::{DecodeError, EncodeError};
use crate::value::{Direction, Value};
use crate::xml::reader::{Ev, XmlReader, attr};
use crate::xml::writer::XmlWriter;

/// The FL label of line items on Quotes, SalesOrders, PurchaseOrders and Invoices.
pub const PRODUCT_DETAILS: &str = "Product Details";

/// Builds one `xmlData` document row by row, numbering rows from 1.
pub struct XmlDataBuilder {
    module: String,
    w: XmlWriter,
    rows: u32,
    limit: u32,
}

impl XmlDataBuilder {
    /// A payload for `module` that accepts at most `limit` rows.
    pub fn new(module: &str, limit: u32) -> Self {
        let mut w = XmlWriter::with_capacity(16 * 1024);
        w.out.push('<');
        w.out.push_str(module);
        w.out.push('>');
        Self { module: module.to_owned(), w, rows: 0, limit }
    }

    /// Rows written so far.
    pub fn rows(&self) -> u32 {
        self.rows
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.w.out.len()
    }

    /// Whether no row was written yet.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    fn atomic(
        &mut self,
        f: impl FnOnce(&mut XmlWriter, u32) -> Result<(), EncodeError>,
    ) -> Result<u32, EncodeError> {
        if self.rows >= self.limit {
            return Err(EncodeError::TooManyRows {
                rows: self.rows as usize + 1,
                limit: self.limit as usize,
            });
        }
        let mark = self.w.out.len();
        let no = self.rows + 1;
        match f(&mut self.w, no) {
            Ok(()) => {
                self.rows = no;
                Ok(no)
            }
            Err(e) => {
                self.w.out.truncate(mark);
                Err(e)
            }
        }
    }

    /// Appends a row of `(label, value)` text pairs; returns its `row no`.
    pub fn push_row<'s>(
        &mut self,
        fields: impl IntoIterator<Item = (&'s str, &'s str)>,
    ) -> Result<u32, EncodeError> {
        self.atomic(|w, no| {
            open_row(w, no);
            for (label, value) in fields {
                write_fl(w, label, value)?;
            }
            w.close("row");
            Ok(())
        })
    }

    /// Appends a row of typed values, in the API's input form (Date as `MM/dd/yyyy`).
    pub fn push_values<'s>(
        &mut self,
        fields: impl IntoIterator<Item = (&'s str, &'s Value)>,
    ) -> Result<u32, EncodeError> {
        self.atomic(|w, no| {
            open_row(w, no);
            for (label, value) in fields {
                let text = value.to_text(Direction::Input)?;
                write_fl(w, label, &text)?;
            }
            w.close("row");
            Ok(())
        })
    }

    /// Appends a row with line items under a `Product Details` FL.
    pub fn push_row_with_products<'s>(
        &mut self,
        fields: impl IntoIterator<Item = (&'s str, &'s str)>,
        products: &[Vec<(&str, &str)>],
    ) -> Result<u32, EncodeError> {
        self.atomic(|w, no| {
            open_row(w, no);
            for (label, value) in fields {
                write_fl(w, label, value)?;
            }
            w.open("FL", &[("val", PRODUCT_DETAILS)])?;
            for (i, product) in products.iter().enumerate() {
                let n = (i + 1).to_string();
                w.open("product", &[("no", &n)])?;
                for (label, value) in product {
                    write_fl(w, label, value)?;
                }
                w.close("product");
            }
            w.close("FL");
            w.close("row");
            Ok(())
        })
    }

    /// Appends a row of `<option val="name">value</option>` (convertLead's first row).
    pub fn push_options<'s>(
        &mut self,
        options: impl IntoIterator<Item = (&'s str, &'s str)>,
    ) -> Result<u32, EncodeError> {
        self.atomic(|w, no| {
            open_row(w, no);
            for (name, value) in options {
                w.leaf("option", &[("val", name)], value)?;
            }
            w.close("row");
            Ok(())
        })
    }

    /// Closes the document; a payload needs at least one row.
    pub fn finish(mut self) -> Result<String, EncodeError> {
        if self.rows == 0 {
            return Err(EncodeError::NoRows);
        }
        self.w.close(&self.module);
        Ok(self.w.finish())
    }
}

fn open_row(w: &mut XmlWriter, no: u32) {
    w.out.push_str("<row no=\"");
    w.out.push_str(itoa(no).as_ref());
    w.out.push_str("\">");
}

fn itoa(n: u32) -> Cow<'static, str> {
    const SMALL: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    if n < 10 { Cow::Borrowed(SMALL[n as usize]) } else { Cow::Owned(n.to_string()) }
}

fn write_fl(w: &mut XmlWriter, label: &str, value: &str) -> Result<(), EncodeError> {
    w.out.push_str("<FL val=\"");
    crate::xml::escape::escape_into(
        &mut w.out,
        label,
        crate::xml::escape::Context::Attribute,
        label,
    )?;
    w.out.push_str("\">");
    w.text(value, label)?;
    w.out.push_str("</FL>");
    Ok(())
}

/// A decoded `xmlData` document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlData {
    /// The root element: the module name.
    pub module: String,
    /// Rows in document order.
    pub rows: Vec<XmlDataRow>,
}

/// One `<row>` of a decoded `xmlData`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct XmlDataRow {
    /// `row no` (1-based; rows without the attribute are numbered by position).
    pub no: u32,
    /// `(label, value)` pairs in document order.
    pub fields: Vec<(String, String)>,
    /// `<option val=..>` pairs (convertLead).
    pub options: Vec<(String, String)>,
    /// Line items under `Product Details`, each a list of `(label, value)`.
    pub products: Vec<Vec<(String, String)>>,
}

impl XmlDataRow {
    /// The value of `label`, if the row has it.
    pub fn get(&self, label: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == label).map(|(_, v)| v.as_str())
    }
}

fn shape(msg: &str) -> DecodeError {
    DecodeError::Shape(msg.to_owned())
}

fn parse_no(s: Option<String>, fallback: u32) -> Result<u32, DecodeError> {
    match s {
        None => Ok(fallback),
        Some(v) => v.trim().parse().map_err(|_| DecodeError::BadValue { what: "row no", value: v }),
    }
}

/// Reads FL children up to the end of the enclosing element.
fn read_fls(
    r: &mut XmlReader<'_>,
    row: &mut XmlDataRow,
    allow_nested: bool,
) -> Result<(), DecodeError> {
    loop {
        match r.next()? {
            Ev::Start(s) => match s.name().as_ref() {
                "FL" => {
                    let label = attr(&s, "val")?.ok_or_else(|| shape("<FL> without val"))?;
                    read_fl_content(r, row, label, allow_nested)?;
                }
                "option" if allow_nested => {
                    let name = attr(&s, "val")?.ok_or_else(|| shape("<option> without val"))?;
                    let value = r.read_text()?.into_owned();
                    row.options.push((name, value));
                }
                other => return Err(DecodeError::Shape(format!("unexpected <{other}> in a row"))),
            },
            Ev::Text(t) if t.trim().is_empty() => {}
            Ev::Text(_) => return Err(shape("text directly inside <row>")),
            Ev::End => return Ok(()),
            Ev::Eof => return Err(DecodeError::Truncated { depth: 0 }),
        }
    }
}

fn read_fl_content(
    r: &mut XmlReader<'_>,
    row: &mut XmlDataRow,
    label: String,
    allow_nested: bool,
) -> Result<(), DecodeError> {
    let mut text = String::new();
    loop {
        match r.next()? {
            Ev::Text(t) => text.push_str(&t),
            Ev::End => break,
            Ev::Start(s) if allow_nested && s.name().as_ref() == "product" => {
                let mut item = XmlDataRow::default();
                read_fls(r, &mut item, false)?;
                row.products.push(item.fields);
            }
            Ev::Start(s) => {
                return Err(DecodeError::Shape(format!(
                    "unexpected <{}> inside <FL>",
                    s.name().as_ref()
                )));
            }
            Ev::Eof => return Err(DecodeError::Truncated { depth: 0 }),
        }
    }
    if row.products.is_empty() || label != PRODUCT_DETAILS {
        row.fields.push((label, text));
    }
    Ok(())
}

/// Decodes an `xmlData` document (the emulator's side of a write call).
pub fn decode_xml_data(xml: &str) -> Result<XmlData, DecodeError> {
    let mut r = XmlReader::new(xml.as_bytes());
    let module = match r.next()? {
        Ev::Start(s) => s.name().as_ref().to_owned(),
        _ => return Err(shape("xmlData has no root element")),
    };
    let mut rows = Vec::new();
    loop {
        match r.next()? {
            Ev::Start(s) if s.name().as_ref() == "row" => {
                let no = parse_no(attr(&s, "no")?, rows.len() as u32 + 1)?;
                let mut row = XmlDataRow { no, ..XmlDataRow::default() };
                read_fls(&mut r, &mut row, true)?;
                rows.push(row);
            }
            Ev::Start(s) => {
                return Err(DecodeError::Shape(format!(
                    "unexpected <{}> in xmlData",
                    s.name().as_ref()
                )));
            }
            Ev::Text(t) if t.trim().is_empty() => {}
            Ev::Text(_) => return Err(shape("text directly inside the xmlData root")),
            Ev::End => break,
            Ev::Eof => return Err(DecodeError::Truncated { depth: 0 }),
        }
    }
    match r.next()? {
        Ev::Eof => Ok(XmlData { module, rows }),
        _ => Err(shape("content after the xmlData root element")),
    }
}
