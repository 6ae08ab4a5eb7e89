//! Query parameters of the API methods (docs/protocol.md §2 and §4), typed both ways:
//! clients turn them into `name=value` pairs, the emulator reads them back with the same rules.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use jiff::civil::DateTime;

use crate::error::ParamError;
use crate::limits::MAX_READ_ROWS;
use crate::value::{RecordId, format_datetime, parse_datetime};

/// Where request parameters are read from (query string and form body merged).
pub trait ParamSource {
    /// The value of `name`, if present.
    fn param(&self, name: &str) -> Option<&str>;
}

impl ParamSource for HashMap<String, String> {
    fn param(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

impl ParamSource for BTreeMap<String, String> {
    fn param(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

impl ParamSource for [(&'static str, String)] {
    fn param(&self, name: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }
}

/// Parameter pairs in the order they are sent.
pub type Pairs = Vec<(&'static str, String)>;

fn opt_u32(
    src: &(impl ParamSource + ?Sized),
    name: &'static str,
) -> Result<Option<u32>, ParamError> {
    src.param(name)
        .map(|v| {
            v.trim()
                .parse::<u32>()
                .map_err(|_| ParamError::invalid(name, v, "expected a positive integer"))
        })
        .transpose()
}

fn opt_bool(src: &(impl ParamSource + ?Sized), name: &'static str) -> Result<bool, ParamError> {
    match src.param(name).map(str::trim) {
        None | Some("") => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(ParamError::invalid(name, v, "expected true or false")),
    }
}

/// Reads a required parameter.
pub fn required<'a>(
    src: &'a (impl ParamSource + ?Sized),
    name: &'static str,
) -> Result<&'a str, ParamError> {
    src.param(name).filter(|v| !v.trim().is_empty()).ok_or(ParamError::Missing(name))
}

/// Reads a required record id parameter (`id`, `leadId`).
pub fn required_id(
    src: &(impl ParamSource + ?Sized),
    name: &'static str,
) -> Result<RecordId, ParamError> {
    let v = required(src, name)?;
    v.parse().map_err(|_| {
        ParamError::invalid(
            name,
            v,
            format!(
                "Please verify if the name and value is appropriate for the \"{name}\" parameter."
            ),
        )
    })
}

/// `newFormat`: whether responses list fields whose value is null.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NewFormat {
    /// `1` (default): null fields are omitted.
    #[default]
    OmitNulls,
    /// `2`: null fields appear with the literal text `null`.
    WithNulls,
}

impl NewFormat {
    /// Reads `newFormat` as the server does: absent or `1` omits nulls, `2` writes them, anything
    /// else is refused.
    pub fn read(src: &(impl ParamSource + ?Sized)) -> Result<Self, ParamError> {
        match src.param("newFormat").map(str::trim) {
            None | Some("") | Some("1") => Ok(Self::OmitNulls),
            Some("2") => Ok(Self::WithNulls),
            Some(v) => Err(ParamError::invalid("newFormat", v, "expected 1 or 2")),
        }
    }

    /// The parameter value (`1` or `2`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OmitNulls => "1",
            Self::WithNulls => "2",
        }
    }
}

/// `version`: 1 (legacy, with "Campaign Source"), 2 (current), 4 (multi-row writes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub enum ApiVersion {
    /// `1`: the default; Leads and Contacts still carry "Campaign Source".
    #[default]
    V1,
    /// `2`: the post-2011 behaviour.
    V2,
    /// `4`: multi-record insert/update with per-row results.
    V4,
}

impl ApiVersion {
    /// Reads `version` as the server does: absent or `1`, `2`, `4`; anything else (`3` too) is
    /// refused.
    pub fn read(src: &(impl ParamSource + ?Sized)) -> Result<Self, ParamError> {
        match src.param("version").map(str::trim) {
            None | Some("") | Some("1") => Ok(Self::V1),
            Some("2") => Ok(Self::V2),
            Some("4") => Ok(Self::V4),
            Some(v) => Err(ParamError::invalid("version", v, "expected 1, 2 or 4")),
        }
    }

    /// The parameter value (`1`, `2` or `4`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "1",
            Self::V2 => "2",
            Self::V4 => "4",
        }
    }
}

/// `selectColumns`: `All`, or `Module(Field 1,Field 2)` by field label.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SelectColumns {
    /// Every field.
    #[default]
    All,
    /// Only these labels (the record id column always comes back too).
    Fields {
        /// The module name written before the parenthesis.
        module: String,
        /// Field labels.
        fields: Vec<String>,
    },
}

impl SelectColumns {
    /// Selects `fields` of `module`.
    pub fn fields(
        module: impl Into<String>,
        fields: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self::Fields { module: module.into(), fields: fields.into_iter().map(Into::into).collect() }
    }

    /// The parameter text; a label holding `,`, `(` or `)` cannot be expressed.
    pub fn to_param(&self) -> Result<String, ParamError> {
        match self {
            Self::All => Ok("All".to_owned()),
            Self::Fields { module, fields } => {
                if fields.is_empty() {
                    return Err(ParamError::invalid(
                        "selectColumns",
                        "",
                        "select at least one field",
                    ));
                }
                if let Some(bad) =
                    fields.iter().find(|f| f.contains([',', '(', ')']) || f.trim().is_empty())
                {
                    return Err(ParamError::invalid(
                        "selectColumns",
                        bad.as_str(),
                        "a label with ',', '(' or ')' cannot be selected",
                    ));
                }
                Ok(format!("{module}({})", fields.join(",")))
            }
        }
    }

    /// Parses the parameter; the module name before `(` is compared case-insensitively.
    pub fn parse(text: &str, module: &str) -> Result<Self, ParamError> {
        let t = text.trim();
        if t.is_empty() || t.eq_ignore_ascii_case("all") {
            return Ok(Self::All);
        }
        let bad = |why: &str| ParamError::invalid("selectColumns", text, why);
        let (name, rest) =
            t.split_once('(').ok_or_else(|| bad("expected All or Module(Field,...)"))?;
        let inner = rest.strip_suffix(')').ok_or_else(|| bad("missing closing parenthesis"))?;
        if !name.trim().eq_ignore_ascii_case(module) {
            return Err(bad("the module name does not match the URL's module"));
        }
        let fields: Vec<String> =
            inner.split(',').map(str::trim).filter(|f| !f.is_empty()).map(str::to_owned).collect();
        if fields.is_empty() {
            return Err(bad("no field labels"));
        }
        Ok(Self::Fields { module: name.trim().to_owned(), fields })
    }

    /// Whether `label` is selected.
    pub fn includes(&self, label: &str) -> bool {
        match self {
            Self::All => true,
            Self::Fields { fields, .. } => fields.iter().any(|f| f == label),
        }
    }
}

/// `fromIndex`..`toIndex`: a 1-based, inclusive window of at most 200 records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// `fromIndex` (1-based).
    pub from: u32,
    /// `toIndex` (inclusive).
    pub to: u32,
}

impl Default for Window {
    /// The API's default window: records 1 to 20.
    fn default() -> Self {
        Self { from: 1, to: 20 }
    }
}

impl Window {
    /// A checked window.
    pub fn new(from: u32, to: u32) -> Result<Self, ParamError> {
        let w = Self { from, to };
        w.check()?;
        Ok(w)
    }

    /// The `page`-th (0-based) full window of [`MAX_READ_ROWS`] records.
    pub fn page(page: u32) -> Self {
        let from = page.saturating_mul(MAX_READ_ROWS).saturating_add(1);
        Self { from, to: from.saturating_add(MAX_READ_ROWS - 1) }
    }

    /// Records the window covers.
    pub fn len(self) -> u32 {
        self.to.saturating_sub(self.from) + 1
    }

    /// Never true for a checked window; here for API completeness.
    pub fn is_empty(self) -> bool {
        self.to < self.from
    }

    fn check(self) -> Result<(), ParamError> {
        if self.from == 0 {
            return Err(ParamError::invalid("fromIndex", "0", "fromIndex starts at 1"));
        }
        if self.to < self.from {
            return Err(ParamError::invalid(
                "toIndex",
                self.to.to_string(),
                "toIndex is below fromIndex",
            ));
        }
        if self.len() > MAX_READ_ROWS {
            return Err(ParamError::invalid(
                "toIndex",
                self.to.to_string(),
                format!("a window holds at most {MAX_READ_ROWS} records"),
            ));
        }
        Ok(())
    }

    /// Reads and checks `fromIndex`/`toIndex` (defaults 1 and 20).
    pub fn read(src: &(impl ParamSource + ?Sized)) -> Result<Self, ParamError> {
        let from = opt_u32(src, "fromIndex")?.unwrap_or(1);
        let to = opt_u32(src, "toIndex")?.unwrap_or(from.saturating_add(19));
        Self::new(from, to)
    }

    fn push(self, out: &mut Pairs) {
        out.push(("fromIndex", self.from.to_string()));
        out.push(("toIndex", self.to.to_string()));
    }
}

/// `sortOrderString`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// `asc` (default).
    #[default]
    Asc,
    /// `desc`.
    Desc,
}

/// `sortColumnString` + `sortOrderString`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    /// The field label to sort on.
    pub column: String,
    /// The direction.
    pub order: SortOrder,
}

impl Sort {
    /// Ascending on `column`.
    pub fn asc(column: impl Into<String>) -> Self {
        Self { column: column.into(), order: SortOrder::Asc }
    }

    fn read(src: &(impl ParamSource + ?Sized)) -> Result<Option<Self>, ParamError> {
        let Some(column) = src.param("sortColumnString").filter(|c| !c.trim().is_empty()) else {
            return Ok(None);
        };
        let order = match src.param("sortOrderString").map(str::trim) {
            None | Some("") => SortOrder::Asc,
            Some(o) if o.eq_ignore_ascii_case("asc") => SortOrder::Asc,
            Some(o) if o.eq_ignore_ascii_case("desc") => SortOrder::Desc,
            Some(o) => {
                return Err(ParamError::invalid("sortOrderString", o, "expected asc or desc"));
            }
        };
        Ok(Some(Self { column: column.trim().to_owned(), order }))
    }
}

fn read_last_modified(src: &(impl ParamSource + ?Sized)) -> Result<Option<DateTime>, ParamError> {
    src.param("lastModifiedTime")
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            parse_datetime(v).map_err(|_| {
                ParamError::invalid("lastModifiedTime", v, "expected yyyy-MM-dd HH:mm:ss")
            })
        })
        .transpose()
}

/// Parameters of the paged reads: getRecords, getMyRecords, getCVRecords, searches, related.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadParams {
    /// `selectColumns`.
    pub select: SelectColumns,
    /// `fromIndex`/`toIndex`.
    pub window: Window,
    /// `sortColumnString`/`sortOrderString`.
    pub sort: Option<Sort>,
    /// `lastModifiedTime`: records created or modified at or after this time (org time zone).
    pub last_modified: Option<DateTime>,
    /// `newFormat`.
    pub new_format: NewFormat,
    /// `version`.
    pub version: ApiVersion,
}

impl ReadParams {
    /// The parameter pairs, in a stable order.
    pub fn to_pairs(&self) -> Result<Pairs, ParamError> {
        let mut out = Pairs::new();
        out.push(("selectColumns", self.select.to_param()?));
        self.window.check()?;
        self.window.push(&mut out);
        if let Some(sort) = &self.sort {
            out.push(("sortColumnString", sort.column.clone()));
            let order = match sort.order {
                SortOrder::Asc => "asc",
                SortOrder::Desc => "desc",
            };
            out.push(("sortOrderString", order.to_owned()));
        }
        if let Some(t) = self.last_modified {
            out.push(("lastModifiedTime", format_datetime(t)));
        }
        out.push(("newFormat", self.new_format.as_str().to_owned()));
        out.push(("version", self.version.as_str().to_owned()));
        Ok(out)
    }

    /// Reads the parameters as the server does, for the URL's `module`.
    pub fn read(src: &(impl ParamSource + ?Sized), module: &str) -> Result<Self, ParamError> {
        Ok(Self {
            select: src
                .param("selectColumns")
                .map(|s| SelectColumns::parse(s, module))
                .transpose()?
                .unwrap_or_default(),
            window: Window::read(src)?,
            sort: Sort::read(src)?,
            last_modified: read_last_modified(src)?,
            new_format: NewFormat::read(src)?,
            version: ApiVersion::read(src)?,
        })
    }
}

/// `duplicateCheck`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateCheck {
    /// `1`: a row matching an existing record on the module's duplicate-check field is not created.
    Skip,
    /// `2`: the existing record is updated instead.
    Update,
}

/// Parameters of insertRecords and updateRecords (xmlData aside).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriteParams {
    /// `wfTrigger=true`: fire workflow rules.
    pub wf_trigger: bool,
    /// `duplicateCheck`.
    pub duplicate_check: Option<DuplicateCheck>,
    /// `isApproval=true`: create in approval mode.
    pub is_approval: bool,
    /// `newFormat`.
    pub new_format: NewFormat,
    /// `version`: 4 for multi-row writes with per-row results.
    pub version: ApiVersion,
}

impl WriteParams {
    /// Multi-row (`version=4`) writes with defaults otherwise.
    pub fn multi_row() -> Self {
        Self { version: ApiVersion::V4, ..Self::default() }
    }

    /// The parameter pairs (xmlData not included).
    pub fn to_pairs(&self) -> Pairs {
        let mut out = Pairs::new();
        if self.wf_trigger {
            out.push(("wfTrigger", "true".to_owned()));
        }
        match self.duplicate_check {
            Some(DuplicateCheck::Skip) => out.push(("duplicateCheck", "1".to_owned())),
            Some(DuplicateCheck::Update) => out.push(("duplicateCheck", "2".to_owned())),
            None => {}
        }
        if self.is_approval {
            out.push(("isApproval", "true".to_owned()));
        }
        out.push(("newFormat", self.new_format.as_str().to_owned()));
        out.push(("version", self.version.as_str().to_owned()));
        out
    }

    /// Reads the parameters as the server does.
    pub fn read(src: &(impl ParamSource + ?Sized)) -> Result<Self, ParamError> {
        let duplicate_check = match src.param("duplicateCheck").map(str::trim) {
            None | Some("") => None,
            Some("1") => Some(DuplicateCheck::Skip),
            Some("2") => Some(DuplicateCheck::Update),
            Some(v) => return Err(ParamError::invalid("duplicateCheck", v, "expected 1 or 2")),
        };
        Ok(Self {
            wf_trigger: opt_bool(src, "wfTrigger")?,
            duplicate_check,
            is_approval: opt_bool(src, "isApproval")?,
            new_format: NewFormat::read(src)?,
            version: ApiVersion::read(src)?,
        })
    }
}

/// getRecordById: one `id`, or an `idlist` of at most 100 ids joined with `;`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdSelection {
    /// `id=`.
    One(RecordId),
    /// `idlist=`.
    List(Vec<RecordId>),
}

impl IdSelection {
    /// The parameter pair.
    pub fn to_pair(&self) -> Result<(&'static str, String), ParamError> {
        match self {
            Self::One(id) => Ok(("id", id.to_string())),
            Self::List(ids) => {
                let limit = crate::limits::DEFAULT_WRITE_ROWS as usize;
                if ids.is_empty() || ids.len() > limit {
                    return Err(ParamError::invalid(
                        "idlist",
                        ids.len().to_string(),
                        format!("1 to {limit} ids"),
                    ));
                }
                Ok(("idlist", ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(";")))
            }
        }
    }

    /// Reads `id` or `idlist` with the server's rules; `limit` is the server's id cap.
    pub fn read(src: &(impl ParamSource + ?Sized), limit: usize) -> Result<Self, ParamError> {
        if let Some(list) = src.param("idlist").filter(|v| !v.trim().is_empty()) {
            let ids = list
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().map_err(|_| ParamError::invalid("idlist", s, "not a record id")))
                .collect::<Result<Vec<RecordId>, _>>()?;
            if ids.is_empty() || ids.len() > limit {
                return Err(ParamError::invalid("idlist", list, format!("1 to {limit} ids")));
            }
            return Ok(Self::List(ids));
        }
        required_id(src, "id").map(Self::One)
    }
}

/// getFields `type`: all fields, the summary view's, or the mandatory ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldsFilter {
    /// No `type`: every field.
    #[default]
    All,
    /// `type=1`: fields of the summary view.
    Summary,
    /// `type=2`: mandatory fields only.
    Mandatory,
}

impl FieldsFilter {
    /// The parameter pairs.
    pub fn to_pairs(self) -> Pairs {
        match self {
            Self::All => vec![],
            Self::Summary => vec![("type", "1".to_owned())],
            Self::Mandatory => vec![("type", "2".to_owned())],
        }
    }

    /// Reads `type`.
    pub fn read(src: &(impl ParamSource + ?Sized)) -> Result<Self, ParamError> {
        match src.param("type").map(str::trim) {
            None | Some("") => Ok(Self::All),
            Some("1") => Ok(Self::Summary),
            Some("2") => Ok(Self::Mandatory),
            Some(v) => Err(ParamError::invalid("type", v, "expected 1 or 2")),
        }
    }
}

/// getUsers `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserType {
    /// `AllUsers`.
    AllUsers,
    /// `ActiveUsers`.
    ActiveUsers,
    /// `DeactiveUsers`.
    DeactiveUsers,
    /// `AdminUsers`.
    AdminUsers,
    /// `ActiveConfirmedAdmins`.
    ActiveConfirmedAdmins,
}

impl UserType {
    /// Every type.
    pub const ALL: [UserType; 5] = [
        Self::AllUsers,
        Self::ActiveUsers,
        Self::DeactiveUsers,
        Self::AdminUsers,
        Self::ActiveConfirmedAdmins,
    ];

    /// The parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AllUsers => "AllUsers",
            Self::ActiveUsers => "ActiveUsers",
            Self::DeactiveUsers => "DeactiveUsers",
            Self::AdminUsers => "AdminUsers",
            Self::ActiveConfirmedAdmins => "ActiveConfirmedAdmins",
        }
    }

    /// Reads the required `type`.
    pub fn read(src: &(impl ParamSource + ?Sized)) -> Result<Self, ParamError> {
        let v = required(src, "type")?;
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == v.trim())
            .ok_or_else(|| ParamError::invalid("type", v, "expected AllUsers, ActiveUsers, DeactiveUsers, AdminUsers or ActiveConfirmedAdmins"))
    }
}

/// searchRecords `criteria`: `(Field:value)` atoms combined with AND/OR; at most 5 atoms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Criteria {
    /// `(Field:value)`: equals, or "starts with" when the value ends in `*`.
    Atom {
        /// Field label.
        field: String,
        /// The value.
        value: String,
    },
    /// All of the parts.
    And(Vec<Criteria>),
    /// Any of the parts.
    Or(Vec<Criteria>),
}

/// The most atoms a criteria may hold.
pub const MAX_CRITERIA_ATOMS: usize = 5;

impl Criteria {
    /// `(field:value)`.
    pub fn eq(field: impl Into<String>, value: impl Into<String>) -> Self {
        Self::Atom { field: field.into(), value: value.into() }
    }

    /// Number of atoms.
    pub fn atoms(&self) -> usize {
        match self {
            Self::Atom { .. } => 1,
            Self::And(p) | Self::Or(p) => p.iter().map(Self::atoms).sum(),
        }
    }

    /// Parses the parameter text.
    pub fn parse(text: &str) -> Result<Self, ParamError> {
        let bytes = text.trim();
        let mut pos = 0;
        let c = parse_group(bytes, &mut pos)?;
        if pos != bytes.len() {
            return Err(ParamError::invalid(
                "criteria",
                text,
                "unexpected text after the criteria",
            ));
        }
        if c.atoms() > MAX_CRITERIA_ATOMS {
            return Err(ParamError::invalid(
                "criteria",
                text,
                format!("at most {MAX_CRITERIA_ATOMS} criteria"),
            ));
        }
        Ok(c)
    }

    /// Whether a record (label → value) matches: equals, or "starts with" for `value*`, both
    /// case-insensitive.
    pub fn matches(&self, get: &dyn Fn(&str) -> Option<String>) -> bool {
        match self {
            Self::Atom { field, value } => {
                let Some(actual) = get(field) else { return false };
                let actual = actual.to_lowercase();
                match value.strip_suffix('*') {
                    Some(prefix) => actual.starts_with(&prefix.to_lowercase()),
                    None => actual == value.to_lowercase(),
                }
            }
            Self::And(p) => p.iter().all(|c| c.matches(get)),
            Self::Or(p) => p.iter().any(|c| c.matches(get)),
        }
    }
}

fn parse_group(s: &str, pos: &mut usize) -> Result<Criteria, ParamError> {
    let bad = |why: &str| ParamError::invalid("criteria", s, why);
    if !s[*pos..].starts_with('(') {
        return Err(bad("expected '('"));
    }
    *pos += 1;
    if s[*pos..].starts_with('(') {
        let first = parse_group(s, pos)?;
        let mut parts = vec![first];
        let mut op: Option<bool> = None; // true = AND
        loop {
            let rest = &s[*pos..];
            if rest.starts_with(')') {
                *pos += 1;
                break;
            }
            let is_and = if rest.starts_with("AND") {
                *pos += 3;
                true
            } else if rest.starts_with("OR") {
                *pos += 2;
                false
            } else {
                return Err(bad("expected AND, OR or ')'"));
            };
            if op.is_some_and(|o| o != is_and) {
                return Err(bad("mixing AND and OR needs parentheses"));
            }
            op = Some(is_and);
            parts.push(parse_group(s, pos)?);
        }
        return Ok(match (op, parts.len()) {
            (_, 1) => parts.remove(0),
            (Some(true), _) => Criteria::And(parts),
            _ => Criteria::Or(parts),
        });
    }
    let end = s[*pos..].find(')').ok_or_else(|| bad("missing ')'"))? + *pos;
    let atom = &s[*pos..end];
    let (field, value) = atom.split_once(':').ok_or_else(|| bad("an atom is (Field:value)"))?;
    if field.trim().is_empty() {
        return Err(bad("contains empty field name"));
    }
    *pos = end + 1;
    Ok(Criteria::Atom { field: field.trim().to_owned(), value: value.trim().to_owned() })
}

impl fmt::Display for Criteria {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Atom { field, value } => write!(f, "({field}:{value})"),
            Self::And(p) | Self::Or(p) => {
                let op = if matches!(self, Self::And(_)) { "AND" } else { "OR" };
                f.write_str("(")?;
                for (i, c) in p.iter().enumerate() {
                    if i > 0 {
                        f.write_str(op)?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// getSearchRecords operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchOp {
    /// `=`.
    Eq,
    /// `<>`.
    Ne,
    /// `contains` (value `*x*`).
    Contains,
    /// `doesn't contain` (value `*x*`).
    NotContains,
    /// `starts with` (value `x*`).
    StartsWith,
    /// `ends with` (value `*x`).
    EndsWith,
    /// `<`.
    Lt,
    /// `>`.
    Gt,
    /// `<=`.
    Le,
    /// `>=`.
    Ge,
}

impl SearchOp {
    const ALL: [SearchOp; 10] = [
        Self::Eq,
        Self::Ne,
        Self::Contains,
        Self::NotContains,
        Self::StartsWith,
        Self::EndsWith,
        Self::Lt,
        Self::Gt,
        Self::Le,
        Self::Ge,
    ];

    /// The operator text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "<>",
            Self::Contains => "contains",
            Self::NotContains => "doesn't contain",
            Self::StartsWith => "starts with",
            Self::EndsWith => "ends with",
            Self::Lt => "<",
            Self::Gt => ">",
            Self::Le => "<=",
            Self::Ge => ">=",
        }
    }
}

/// getSearchRecords `searchCondition=(Label|op|value)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchCondition {
    /// Field label.
    pub field: String,
    /// Operator.
    pub op: SearchOp,
    /// Value (with `*` wildcards for the contains/starts/ends operators).
    pub value: String,
}

impl SearchCondition {
    /// The parameter text.
    pub fn to_param(&self) -> String {
        format!("({}|{}|{})", self.field, self.op.as_str(), self.value)
    }

    /// Parses the parameter text.
    pub fn parse(text: &str) -> Result<Self, ParamError> {
        let bad = |why: &str| ParamError::invalid("searchCondition", text, why);
        let inner = text
            .trim()
            .strip_prefix('(')
            .and_then(|t| t.strip_suffix(')'))
            .ok_or_else(|| bad("expected (Field|operator|value)"))?;
        let mut parts = inner.splitn(3, '|');
        let (field, op, value) = match (parts.next(), parts.next(), parts.next()) {
            (Some(f), Some(o), Some(v)) if !f.trim().is_empty() => (f.trim(), o.trim(), v.trim()),
            _ => return Err(bad("expected (Field|operator|value)")),
        };
        let op = SearchOp::ALL
            .into_iter()
            .find(|o| o.as_str() == op)
            .ok_or_else(|| bad("unknown operator"))?;
        Ok(Self { field: field.to_owned(), op, value: value.to_owned() })
    }

    /// Whether a record whose field holds `actual` (`None`: empty or absent) meets the
    /// condition. Text compares case-insensitively, with `*` wildcards trimmed for the
    /// contains/starts/ends operators; `numeric` fields compare as numbers for `=`, `<>`, `<`,
    /// `>`, `<=`, `>=` (a value that is not a number never matches an ordering). An absent value
    /// matches only `<>` and `doesn't contain`.
    pub fn matches(&self, actual: Option<&str>, numeric: bool) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        let Some(actual) = actual else {
            return matches!(self.op, SearchOp::Ne | SearchOp::NotContains);
        };
        let a = actual.to_lowercase();
        let v = self.value.to_lowercase();
        let inner = v.trim_matches('*');
        let cmp = || -> Option<std::cmp::Ordering> {
            if numeric {
                let x = actual.trim().parse::<f64>().ok()?;
                x.partial_cmp(&self.value.trim().parse::<f64>().ok()?)
            } else {
                Some(a.as_str().cmp(v.as_str()))
            }
        };
        match self.op {
            SearchOp::Eq if numeric => cmp() == Some(Equal),
            SearchOp::Eq => a == v,
            SearchOp::Ne if numeric => cmp() != Some(Equal),
            SearchOp::Ne => a != v,
            SearchOp::Contains => a.contains(inner),
            SearchOp::NotContains => !a.contains(inner),
            SearchOp::StartsWith => a.starts_with(inner),
            SearchOp::EndsWith => a.ends_with(inner),
            SearchOp::Lt => cmp() == Some(Less),
            SearchOp::Gt => cmp() == Some(Greater),
            SearchOp::Le => matches!(cmp(), Some(Less | Equal)),
            SearchOp::Ge => matches!(cmp(), Some(Greater | Equal)),
        }
    }
}
