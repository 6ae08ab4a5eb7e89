//! Per-row work: the text of each field (column, template or constant, then trim, value
//! replacement, case, default) coerced to the field's type and validated as the server would.

use std::borrow::Cow;
use std::sync::Arc;
use zcrm_protocol::formula_guard::unguard;
use zcrm_protocol::value::parse_bool_input;

use jiff::civil::{Date, DateTime};
use zcrm_protocol::value::{parse_date, parse_datetime, parse_decimal};
use zcrm_protocol::{Direction, RecordId, Value};
use zcrm_readers::{Cells, Row, RowPos, RowRef, excel_serial_to_date};

use crate::{Case, MappedRow, MappedValue, Mapper, PicklistMode, Problem, RejectedRow};
use rustc_hash::{FxHashMap as FastMap, FxHashSet as FastSet};

/// Where a field's raw text comes from, compiled.
#[derive(Debug)]
pub(crate) enum Input {
    Column(usize),
    Template(Vec<TemplatePiece>),
    Const(String),
}

/// A compiled template piece.
#[derive(Debug)]
pub(crate) enum TemplatePiece {
    Text(String),
    Column(usize),
}

/// Picklist options: exact, and by lower case for the case-insensitive fallback.
#[derive(Debug)]
pub(crate) struct Picklist {
    exact: FastSet<String>,
    /// The options when there are few: a scan comparing lengths first beats hashing.
    few: Option<Vec<String>>,
    lower: FastMap<String, String>,
}

impl Picklist {
    pub(crate) fn new(options: &[String]) -> Self {
        Self {
            exact: options.iter().cloned().collect(),
            few: (options.len() <= 24).then(|| options.to_vec()),
            lower: options.iter().map(|o| (o.to_lowercase(), o.clone())).collect(),
        }
    }

    /// Whether `v` is one of the options, exactly.
    fn contains(&self, v: &str) -> bool {
        match &self.few {
            Some(few) => few.iter().any(|o| o.len() == v.len() && o == v),
            None => self.exact.contains(v),
        }
    }
}

/// What a field's value must be.
#[derive(Debug)]
pub(crate) enum Target {
    Text,
    Email,
    Phone,
    Url,
    Integer { min: i64, max: i64 },
    Decimal,
    Date(Option<String>),
    DateTime(Option<String>),
    Boolean,
    Pick(Picklist),
    Multi(Picklist),
    Id,
}

/// One compiled field mapping.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) label: Arc<str>,
    pub(crate) column: Option<Arc<str>>,
    pub(crate) input: Input,
    pub(crate) trim: bool,
    pub(crate) case: Option<Case>,
    pub(crate) values: FastMap<String, String>,
    pub(crate) default: Option<String>,
    pub(crate) target: Target,
    pub(crate) required: bool,
    pub(crate) max_length: Option<u32>,
    pub(crate) lookup: Option<String>,
    /// The column, when the text is that cell as it is (no trim, values, case or default).
    pub(crate) plain: Option<usize>,
}

impl Plan {
    /// Sets [`Plan::plain`] from the rest (call once compiled).
    pub(crate) fn with_plain(mut self) -> Self {
        self.plain = match self.input {
            Input::Column(i)
                if !self.trim
                    && self.values.is_empty()
                    && self.case.is_none()
                    && self.default.is_none() =>
            {
                Some(i)
            }
            _ => None,
        };
        self
    }
}

/// A row's cells, however they are held. A cell zcrm's formula guard wrote (`'` before text
/// a spreadsheet would evaluate) reads as the text it guarded, so zcrm's own CSV exports
/// import back unchanged.
pub(crate) trait CellSource {
    /// Cell `i`, or `""` past the end.
    fn cell(&self, i: usize) -> &str;
}

impl CellSource for Cells {
    fn cell(&self, i: usize) -> &str {
        unguard(self.get(i))
    }
}

impl CellSource for RowRef<'_> {
    fn cell(&self, i: usize) -> &str {
        unguard(self.get(i))
    }
}

/// A field's value before it is owned: text borrowed from the row where possible.
enum Coerced<'a> {
    Empty,
    Text(Cow<'a, str>),
    Value(Value),
    Lookup(Cow<'a, str>),
}

type Fail = (&'static str, String);

/// The problem of a required field left empty.
#[cold]
fn required_empty() -> Fail {
    ("required field is empty", "required, but the value is empty".to_owned())
}

fn apply_case(s: &str, case: Case) -> String {
    match case {
        Case::Upper => s.to_uppercase(),
        Case::Lower => s.to_lowercase(),
        Case::Title => {
            let mut out = String::with_capacity(s.len());
            let mut start = true;
            for c in s.chars() {
                if c.is_alphanumeric() {
                    if start {
                        out.extend(c.to_uppercase());
                    } else {
                        out.extend(c.to_lowercase());
                    }
                    start = false;
                } else {
                    out.push(c);
                    start = true;
                }
            }
            out
        }
    }
}

/// ASCII bytes allowed in an e-mail address's local part besides letters and digits.
const LOCAL_PUNCT: &[u8] = b"!#$%&'*+/=?^_`{|}~.-";

/// ASCII bytes allowed in an e-mail address's local part.
const LOCAL_BYTES: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        let mut punct = false;
        let mut k = 0;
        while k < LOCAL_PUNCT.len() {
            punct |= LOCAL_PUNCT[k] == c;
            k += 1;
        }
        t[b] = c.is_ascii_alphanumeric() || punct;
        b += 1;
    }
    t
};

/// `local@domain.tld`, no spaces, at most 254 characters.
pub(crate) fn is_email(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() > 254 {
        return false;
    }
    let Some(at) = b.iter().rposition(|&c| c == b'@') else { return false };
    let (local, domain) = (b.get(..at).unwrap_or_default(), b.get(at + 1..).unwrap_or_default());
    if local.is_empty()
        || local.len() > 64
        || local.first() == Some(&b'.')
        || local.last() == Some(&b'.')
    {
        return false;
    }
    // One pass for ASCII: allowed bytes and no `..`.
    let mut prev = 0u8;
    let mut ascii = true;
    for &c in local {
        if c >= 0x80 {
            ascii = false;
            break;
        }
        if !LOCAL_BYTES[usize::from(c)] || (c == b'.' && prev == b'.') {
            return false;
        }
        prev = c;
    }
    let chars_ok = ascii
        || (!local.windows(2).any(|w| w == b"..")
            && s.get(..at).unwrap_or_default().chars().all(|c| {
                c.is_alphanumeric() || (c.is_ascii() && LOCAL_PUNCT.contains(&(c as u8)))
            }));
    chars_ok && is_host(s.get(at + 1..).unwrap_or_default()) && !domain.is_empty()
}

fn is_host(d: &str) -> bool {
    if d.is_ascii() {
        return is_ascii_host(d.as_bytes());
    }
    let mut labels = 0;
    let mut last = "";
    for l in d.split('.') {
        let ok = !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-');
        if !ok {
            return false;
        }
        labels += 1;
        last = l;
    }
    labels >= 2 && last.chars().all(char::is_alphabetic)
}

/// Classes of bytes in an ASCII host name: 0 not allowed, then letter, digit, `-`, `.`.
const HOST_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = if c.is_ascii_alphabetic() {
            1
        } else if c.is_ascii_digit() {
            2
        } else if c == b'-' {
            3
        } else if c == b'.' {
            4
        } else {
            0
        };
        b += 1;
    }
    t
};

/// [`is_host`] for ASCII text, in one pass: labels of letters, digits and inner `-` of 1 to
/// 63 bytes, at least two, the last one letters only.
fn is_ascii_host(d: &[u8]) -> bool {
    let (mut labels, mut len, mut alpha, mut prev) = (0u32, 0usize, true, 4u8);
    for &c in d {
        let k = HOST_CLASS[usize::from(c)];
        match k {
            0 => return false,
            4 => {
                // A label ends: not empty, not ending with `-`.
                if prev == 4 || prev == 3 {
                    return false;
                }
                labels += 1;
                len = 0;
                alpha = true;
            }
            _ => {
                if prev == 4 && k == 3 {
                    return false;
                }
                len += 1;
                alpha &= k == 1;
            }
        }
        if len > 63 {
            return false;
        }
        prev = k;
    }
    labels >= 1 && prev != 4 && prev != 3 && alpha
}

/// `[http(s)://]host.tld[:port][/path...]`, no white space.
pub(crate) fn is_url(s: &str) -> bool {
    let white = if s.is_ascii() {
        s.bytes().any(|b| b.is_ascii_whitespace() || b == 0x0B)
    } else {
        s.chars().any(char::is_whitespace)
    };
    if white {
        return false;
    }
    let rest = ["https://", "http://", "ftp://"]
        .iter()
        .find_map(|p| s.get(..p.len()).filter(|h| h.eq_ignore_ascii_case(p)).map(|_| &s[p.len()..]))
        .unwrap_or(s);
    let end = rest.bytes().position(|b| matches!(b, b'/' | b'?' | b'#')).unwrap_or(rest.len());
    let host_port = rest.get(..end).unwrap_or_default();
    let host = match host_port.rsplit_once(':') {
        Some((h, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => h,
        Some(_) => return false,
        None => host_port,
    };
    is_host(host)
}

/// A phone number's separators.
fn phone_sep(b: u8) -> bool {
    matches!(b, b' ' | b'+' | b'-' | b'(' | b')' | b'.' | b'/')
}

/// Digits with `+ - ( ) . /` and spaces, 3 to 20 digits, optionally `x123` / `ext 123`.
pub(crate) fn is_phone(s: &str) -> bool {
    // Fast path: only digits and separators (no extension).
    let mut digits = 0usize;
    let mut plain = true;
    for b in s.bytes() {
        if b.is_ascii_digit() {
            digits += 1;
        } else if !phone_sep(b) {
            plain = false;
            break;
        }
    }
    if plain {
        return (3..=20).contains(&digits);
    }
    let lower = s.to_ascii_lowercase();
    let mut main = lower.as_str();
    for marker in ["ext.", "ext", "x"] {
        if let Some(i) = lower.rfind(marker) {
            let tail = lower[i + marker.len()..].trim();
            if tail.is_empty() || !tail.bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
            main = &lower[..i];
            break;
        }
    }
    let digits = main.bytes().filter(u8::is_ascii_digit).count();
    (3..=20).contains(&digits) && main.bytes().all(|b| b.is_ascii_digit() || phone_sep(b))
}

fn looks_numeric(s: &str) -> Option<f64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
        .then(|| s.parse::<f64>().ok())
        .flatten()
}

/// The date of an XLSX date cell: `yyyy-mm-dd`, or a date-time at midnight (a date-time
/// format on a date) — another time of day is not a date.
fn xlsx_date(s: &str) -> Option<Date> {
    parse_date(s, Direction::Output).ok().or_else(|| {
        let dt = parse_datetime(s).ok()?;
        (dt.time() == jiff::civil::Time::midnight()).then(|| dt.date())
    })
}

fn date_of(s: &str, fmt: Option<&str>, serials: bool) -> Result<Date, String> {
    if let Some(f) = fmt {
        // An XLSX date cell is read as ISO text whatever `date_format` (for text) says.
        return Date::strptime(f, s)
            .ok()
            .or_else(|| serials.then(|| xlsx_date(s)).flatten())
            .ok_or_else(|| format!("{s:?} is not a date in the format {f}"));
    }
    if let Ok(d) = parse_date(s, Direction::Output) {
        return Ok(d);
    }
    if serials && let Some(d) = xlsx_date(s) {
        return Ok(d);
    }
    if serials && let Some((y, m, d, _)) = looks_numeric(s).and_then(excel_serial_to_date) {
        return Date::new(y as i16, m as i8, d as i8).map_err(|e| e.to_string());
    }
    Err(format!("{s:?} is not a date as yyyy-mm-dd (set date_format for other forms)"))
}

/// The text the XLSX reader gives a date cell: `yyyy-mm-dd hh:mm:ss` when its format shows a
/// time, `yyyy-mm-dd` (taken as midnight) when it shows a date alone.
fn xlsx_datetime(s: &str) -> Option<DateTime> {
    parse_datetime(s).ok().or_else(|| {
        parse_date(s, Direction::Output).ok().map(|d| d.to_datetime(jiff::civil::Time::midnight()))
    })
}

fn datetime_of(s: &str, fmt: Option<&str>, serials: bool) -> Result<DateTime, String> {
    if let Some(f) = fmt {
        return DateTime::strptime(f, s)
            .ok()
            .or_else(|| serials.then(|| xlsx_datetime(s)).flatten())
            .ok_or_else(|| format!("{s:?} is not a date-time in the format {f}"));
    }
    let t = s.replacen('T', " ", 1);
    if let Ok(dt) = parse_datetime(&t) {
        return Ok(dt);
    }
    if t.len() == 16
        && let Ok(dt) = parse_datetime(&format!("{t}:00"))
    {
        return Ok(dt);
    }
    if serials && let Some(dt) = xlsx_datetime(s) {
        return Ok(dt);
    }
    if serials && let Some((y, m, d, secs)) = looks_numeric(s).and_then(excel_serial_to_date) {
        let date = Date::new(y as i16, m as i8, d as i8).map_err(|e| e.to_string())?;
        let time = jiff::civil::Time::new(
            (secs / 3600) as i8,
            (secs / 60 % 60) as i8,
            (secs % 60) as i8,
            0,
        )
        .map_err(|e| e.to_string())?;
        return Ok(date.to_datetime(time));
    }
    Err(format!(
        "{s:?} is not a date-time as yyyy-mm-dd hh:mm:ss (set date_format for other forms)"
    ))
}

impl Plan {
    /// The field's text after every transform.
    fn text<'a, R: CellSource>(&'a self, row: &'a R) -> Cow<'a, str> {
        if let Some(i) = self.plain {
            return Cow::Borrowed(row.cell(i));
        }
        let raw: Cow<'a, str> = match &self.input {
            Input::Column(i) => Cow::Borrowed(row.cell(*i)),
            Input::Const(v) => Cow::Borrowed(v.as_str()),
            Input::Template(pieces) => {
                let len = pieces
                    .iter()
                    .map(|p| match p {
                        TemplatePiece::Text(t) => t.len(),
                        TemplatePiece::Column(i) => row.cell(*i).len(),
                    })
                    .sum();
                let mut s = String::with_capacity(len);
                for p in pieces {
                    match p {
                        TemplatePiece::Text(t) => s.push_str(t),
                        TemplatePiece::Column(i) => s.push_str(row.cell(*i)),
                    }
                }
                Cow::Owned(s)
            }
        };
        let trimmed = if self.trim {
            match raw {
                Cow::Borrowed(b) => Cow::Borrowed(b.trim()),
                Cow::Owned(o) => Cow::Owned(o.trim().to_owned()),
            }
        } else {
            raw
        };
        let replaced = match self.values.is_empty() {
            true => trimmed,
            false => match self.values.get(trimmed.as_ref()) {
                Some(v) => Cow::Borrowed(v.as_str()),
                None => trimmed,
            },
        };
        let cased = match self.case {
            Some(c) => Cow::Owned(apply_case(&replaced, c)),
            None => replaced,
        };
        match &self.default {
            Some(d) if cased.is_empty() => Cow::Borrowed(d.as_str()),
            _ => cased,
        }
    }

    fn pick<'a>(
        &self,
        list: &Picklist,
        v: Cow<'a, str>,
        mode: PicklistMode,
        warn: &mut Vec<Fail>,
    ) -> Result<Cow<'a, str>, Fail> {
        if list.exact.is_empty() || list.contains(v.as_ref()) {
            return Ok(v);
        }
        if let Some(canon) = list.lower.get(&v.to_lowercase()) {
            warn.push(("picklist value in another case", format!("{v:?} taken as {canon:?}")));
            return Ok(Cow::Owned(canon.clone()));
        }
        match mode {
            PicklistMode::Allow => Ok(v),
            PicklistMode::Warn => {
                warn.push((
                    "value not in the picklist",
                    format!("{v:?} is not in the picklist (kept)"),
                ));
                Ok(v)
            }
            PicklistMode::Strict => {
                let mut opts: Vec<&str> = list.exact.iter().map(String::as_str).collect();
                opts.sort_unstable();
                let hint = crate::did_you_mean(&v, opts.iter().copied())
                    .map_or_else(String::new, |s| format!("; did you mean {s:?}?"));
                Err((
                    "value not in the picklist",
                    format!(
                        "{v:?} is not in the picklist{hint} (choices: {}; or set picklist = \"warn\")",
                        opts.join(", ")
                    ),
                ))
            }
        }
    }

    /// [`Plan::coerce`] for the commonest plan, a column as it is into a Text field: small
    /// enough to stay out of the general path's frame.
    #[inline]
    fn coerce_plain_text<'a, R: CellSource>(
        &self,
        row: &'a R,
        i: usize,
    ) -> Result<Coerced<'a>, Fail> {
        let v = row.cell(i);
        if v.is_empty() {
            if self.required {
                return Err(required_empty());
            }
            return Ok(Coerced::Empty);
        }
        if let Some(max) = self.max_length
            && v.len() > max as usize
        {
            let n = v.chars().count();
            if n > max as usize {
                return Err(("too long", format!("{n} characters, at most {max} allowed")));
            }
        }
        Ok(Coerced::Text(Cow::Borrowed(v)))
    }

    /// The field's value from `row`: transformed, coerced and checked.
    #[inline]
    fn value<'a, R: CellSource>(
        &'a self,
        row: &'a R,
        m: &Mapper,
        warn: &mut Vec<Fail>,
    ) -> Result<Coerced<'a>, Fail> {
        match (self.plain, &self.target, &self.lookup) {
            (Some(i), Target::Text, None) => self.coerce_plain_text(row, i),
            _ => self.coerce(row, m, warn),
        }
    }

    fn coerce<'a, R: CellSource>(
        &'a self,
        row: &'a R,
        m: &Mapper,
        warn: &mut Vec<Fail>,
    ) -> Result<Coerced<'a>, Fail> {
        let text = self.text(row);
        if text.is_empty() {
            if self.required {
                return Err(required_empty());
            }
            return Ok(Coerced::Empty);
        }
        if let Some(max) = self.max_length
            && matches!(
                self.target,
                Target::Text
                    | Target::Email
                    | Target::Phone
                    | Target::Url
                    | Target::Pick(_)
                    | Target::Decimal
                    | Target::Integer { .. }
            )
        {
            // A text no longer in bytes than the limit is within it in characters.
            let n = if text.len() <= max as usize { 0 } else { text.chars().count() };
            if n > max as usize {
                return Err(("too long", format!("{n} characters, at most {max} allowed")));
            }
        }
        if self.lookup.is_some() {
            return Ok(Coerced::Lookup(text));
        }
        let v = text.as_ref();
        Ok(match &self.target {
            Target::Text => Coerced::Text(text),
            Target::Email => {
                if !is_email(v) {
                    return Err((
                        "not an e-mail address",
                        format!("{v:?} is not an e-mail address"),
                    ));
                }
                Coerced::Text(text)
            }
            Target::Phone => {
                if !is_phone(v) {
                    return Err(("not a phone number", format!("{v:?} is not a phone number")));
                }
                Coerced::Text(text)
            }
            Target::Url => {
                if !is_url(v) {
                    return Err(("not a URL", format!("{v:?} is not a web address")));
                }
                Coerced::Text(text)
            }
            Target::Integer { min, max } => {
                let t = v.trim();
                let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(("not an integer", format!("{v:?} is not a whole number")));
                }
                match t.parse::<i64>() {
                    Ok(n) if (*min..=*max).contains(&n) => Coerced::Value(Value::Integer(n)),
                    _ => {
                        return Err((
                            "integer out of range",
                            format!("{v} is outside the field's range {min}..{max}"),
                        ));
                    }
                }
            }
            Target::Decimal => match parse_decimal(v) {
                Ok(d) => Coerced::Value(Value::Decimal(d)),
                Err(_) => {
                    return Err((
                        "not a number",
                        format!("{v:?} is not a number such as 1234.50 (no thousands separators)"),
                    ));
                }
            },
            Target::Date(fmt) => match date_of(v.trim(), fmt.as_deref(), m.excel_serials) {
                Ok(d) => Coerced::Value(Value::Date(d)),
                Err(e) => return Err(("not a date", e)),
            },
            Target::DateTime(fmt) => match datetime_of(v.trim(), fmt.as_deref(), m.excel_serials) {
                Ok(d) => Coerced::Value(Value::DateTime(d)),
                Err(e) => return Err(("not a date-time", e)),
            },
            Target::Boolean => match parse_bool_input(v.trim()) {
                Some(b) => Coerced::Value(Value::Boolean(b)),
                None => {
                    return Err((
                        "not a boolean",
                        format!("{v:?} is not true/false (or yes/no, 1/0)"),
                    ));
                }
            },
            Target::Pick(list) => Coerced::Text(self.pick(list, text, m.picklist, warn)?),
            Target::Multi(list) => {
                let mut items = Vec::new();
                for item in v.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                    items
                        .push(self.pick(list, Cow::Borrowed(item), m.picklist, warn)?.into_owned());
                }
                if items.is_empty() {
                    Coerced::Empty
                } else {
                    Coerced::Value(Value::MultiPicklist(items))
                }
            }
            Target::Id => match v.trim().parse::<RecordId>() {
                Ok(id) => Coerced::Value(Value::Id(id)),
                Err(_) => {
                    return Err((
                        "not a record id",
                        format!("{v:?} is not a record id (digits only)"),
                    ));
                }
            },
        })
    }

    fn problem(&self, (rule, reason): Fail) -> Problem {
        Problem { field: self.label.clone(), column: self.column.clone(), rule, reason }
    }
}

/// The result of mapping one row.
pub(crate) enum Outcome {
    Valid(Option<MappedRow>, Vec<Problem>),
    Rejected(RejectedRow),
}

/// What checking a row's cells found.
struct Checked {
    problems: Vec<Problem>,
    warns: Vec<Problem>,
    fields: Vec<(Arc<str>, MappedValue)>,
    key: Option<String>,
}

impl Mapper {
    /// Maps one row: every field coerced and checked; `build` false only counts (no values kept).
    pub(crate) fn map_row(&self, row: Row, build: bool) -> Outcome {
        let c = self.check(&row.cells, row.problem.as_deref(), build);
        self.outcome(c, row.pos, build, || row.cells)
    }

    /// [`Mapper::map_row`] for a row borrowed from a block: cells are copied only for the
    /// rows kept (rejected ones, and valid ones when `build`).
    pub(crate) fn map_ref(&self, row: RowRef<'_>, build: bool) -> Outcome {
        let c = self.check(&row, row.problem, build);
        self.outcome(c, row.pos, build, || row.to_cells())
    }

    fn outcome(
        &self,
        c: Checked,
        pos: RowPos,
        build: bool,
        cells: impl FnOnce() -> Cells,
    ) -> Outcome {
        let Checked { problems, warns, fields, key } = c;
        if !problems.is_empty() {
            return Outcome::Rejected(RejectedRow { pos, source: cells(), problems });
        }
        if !build {
            return Outcome::Valid(None, warns);
        }
        Outcome::Valid(Some(MappedRow { pos, key, source: cells(), fields }), warns)
    }

    fn check<R: CellSource>(&self, row: &R, problem: Option<&str>, build: bool) -> Checked {
        let mut problems = Vec::new();
        let mut warns: Vec<Problem> = Vec::new();
        let mut scratch = Vec::new();
        if let Some(p) = problem {
            problems.push(Problem {
                field: Arc::from("row"),
                column: None,
                rule: "unreadable row",
                reason: p.to_owned(),
            });
        }
        let key = self.key.as_ref().map(|(i, _)| row.cell(*i));
        if let (Some(k), Some((_, col))) = (key, &self.key)
            && k.trim().is_empty()
        {
            problems.push(Problem {
                field: Arc::from("key"),
                column: Some(col.clone()),
                rule: "key is empty",
                reason: "the step's key column is empty; every row needs a key".to_owned(),
            });
        }
        let mut fields = Vec::with_capacity(if build { self.plans.len() } else { 0 });
        for plan in &self.plans {
            match plan.value(row, self, &mut scratch) {
                Err(f) => problems.push(plan.problem(f)),
                Ok(c) if build && problems.is_empty() => match c {
                    Coerced::Empty => {}
                    Coerced::Text(t) => {
                        fields.push((
                            plan.label.clone(),
                            MappedValue::Value(Value::Text(t.into_owned())),
                        ));
                    }
                    Coerced::Value(v) => fields.push((plan.label.clone(), MappedValue::Value(v))),
                    Coerced::Lookup(k) => fields.push((
                        plan.label.clone(),
                        MappedValue::Lookup {
                            step: plan.lookup.clone().unwrap_or_default(),
                            key: k.into_owned(),
                        },
                    )),
                },
                Ok(_) => {}
            }
            for w in scratch.drain(..) {
                warns.push(plan.problem(w));
            }
        }
        let key = if build && problems.is_empty() { key.map(str::to_owned) } else { None };
        Checked { problems, warns, fields, key }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in ["a@b.co", "first.last+tag@example.co.uk", "x_y@sub.example.org"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in ["", "a", "a@", "@b.co", "a@b", "a b@c.co", "a@b..co", "a@b.c0", ".a@b.co"] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn urls() {
        for ok in ["example.com", "https://www.example.com/a?b=c", "http://x.io:8080/"] {
            assert!(is_url(ok), "{ok}");
        }
        for bad in ["", "not a url", "http://", "localhost", "https://a.b:port"] {
            assert!(!is_url(bad), "{bad}");
        }
    }

    #[test]
    fn phones() {
        for ok in ["+1 (415) 555-0123", "415.555.0123", "555-0123 x12", "020 7946 0958 ext. 4"] {
            assert!(is_phone(ok), "{ok}");
        }
        for bad in ["", "12", "call me", "555-CALL", "+1 415 555 0123 x"] {
            assert!(!is_phone(bad), "{bad}");
        }
    }

    #[test]
    fn booleans() {
        assert_eq!(parse_bool_input("Yes"), Some(true));
        assert_eq!(parse_bool_input("0"), Some(false));
        assert_eq!(parse_bool_input("maybe"), None);
    }

    /// The checks as they were written before their fast paths, as an oracle.
    mod reference {
        pub(super) fn is_email(s: &str) -> bool {
            let Some((local, domain)) = s.rsplit_once('@') else { return false };
            let ok_local = !local.is_empty()
                && local.len() <= 64
                && !local.starts_with('.')
                && !local.ends_with('.')
                && !local.contains("..")
                && local.chars().all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
            ok_local && s.len() <= 254 && is_host(domain)
        }

        pub(super) fn is_host(d: &str) -> bool {
            let mut labels = 0;
            let mut last = "";
            for l in d.split('.') {
                let ok = !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-');
                if !ok {
                    return false;
                }
                labels += 1;
                last = l;
            }
            labels >= 2 && last.chars().all(char::is_alphabetic)
        }

        pub(super) fn is_url(s: &str) -> bool {
            if s.chars().any(char::is_whitespace) {
                return false;
            }
            let rest = ["https://", "http://", "ftp://"]
                .iter()
                .find_map(|p| {
                    s.get(..p.len()).filter(|h| h.eq_ignore_ascii_case(p)).map(|_| &s[p.len()..])
                })
                .unwrap_or(s);
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let host_port = &rest[..end];
            let host = match host_port.rsplit_once(':') {
                Some((h, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
                    h
                }
                Some(_) => return false,
                None => host_port,
            };
            is_host(host)
        }

        pub(super) fn is_phone(s: &str) -> bool {
            if s.bytes().all(|b| b.is_ascii_digit() || b" +-()./".contains(&b)) {
                return (3..=20).contains(&s.bytes().filter(u8::is_ascii_digit).count());
            }
            let lower = s.to_ascii_lowercase();
            let mut main = lower.as_str();
            for marker in ["ext.", "ext", "x"] {
                if let Some(i) = lower.rfind(marker) {
                    let tail = lower[i + marker.len()..].trim();
                    if tail.is_empty() || !tail.bytes().all(|b| b.is_ascii_digit()) {
                        return false;
                    }
                    main = &lower[..i];
                    break;
                }
            }
            let digits = main.bytes().filter(u8::is_ascii_digit).count();
            (3..=20).contains(&digits)
                && main.chars().all(|c| c.is_ascii_digit() || " +-()./".contains(c))
        }
    }

    proptest::proptest! {
        #[test]
        fn fast_checks_agree_with_the_reference(
            s in "[a-zA-Z0-9.@:/?#_+ \\-éü\u{0B}\u{85}x]{0,40}",
            host in "[a-z0-9.\\-é]{0,24}",
        ) {
            let url = format!("https://{host}/p");
            for t in [s.as_str(), host.as_str(), url.as_str(), &format!("a@{host}")] {
                proptest::prop_assert_eq!(is_email(t), reference::is_email(t), "{:?}", t);
                proptest::prop_assert_eq!(is_host(t), reference::is_host(t), "{:?}", t);
                proptest::prop_assert_eq!(is_url(t), reference::is_url(t), "{:?}", t);
                proptest::prop_assert_eq!(is_phone(t), reference::is_phone(t), "{:?}", t);
            }
        }
    }

    /// XLSX date cells arrive as ISO text (`yyyy-mm-dd`, or with the time when their format
    /// shows one), whatever `date_format` says (it is for text cells): a date-time field given
    /// a date cell takes midnight. CSV text is read as before.
    #[test]
    fn xlsx_date_cells_in_date_and_date_time_fields() {
        let midnight = jiff::civil::datetime(2024, 10, 10, 0, 0, 0, 0);
        let fmt = Some("%Y-%m-%d %H:%M:%S");
        assert_eq!(datetime_of("2024-10-10", fmt, true), Ok(midnight));
        assert_eq!(datetime_of("2024-10-10", None, true), Ok(midnight));
        let dmy = Some("%d/%m/%Y %H:%M");
        assert_eq!(datetime_of("2024-10-10 00:00:00", dmy, true), Ok(midnight));
        assert_eq!(datetime_of("10/10/2024 00:00", dmy, true), Ok(midnight));
        assert_eq!(date_of("2024-10-10", Some("%d/%m/%Y"), true), Ok(midnight.date()));
        // A date-time cell at midnight fills a Date field, as before; another time does not.
        assert_eq!(date_of("2024-10-10 00:00:00", None, true), Ok(midnight.date()));
        assert_eq!(date_of("2024-10-10 00:00:00", Some("%d/%m/%Y"), true), Ok(midnight.date()));
        assert!(date_of("2024-10-10 15:30:05", None, true).is_err());
        assert!(date_of("2024-10-10 00:00:00", None, false).is_err());
        let csv = datetime_of("2024-10-10", fmt, false).unwrap_err();
        assert!(csv.contains("is not a date-time in the format"), "{csv}");
        assert!(datetime_of("2024-10-10", None, false).is_err());
        assert!(datetime_of("2024-10-1", None, true).is_err());
    }

    #[test]
    fn title_case() {
        assert_eq!(apply_case("hello wORLD-wide", Case::Title), "Hello World-Wide");
    }
}
