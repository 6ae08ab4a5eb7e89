//! Parameters of the paged reads: columns, window, sort and `lastModifiedTime`.

use jiff::civil::DateTime;

use super::{ApiVersion, NewFormat, Pairs, ParamSource, source::opt_u32};
use crate::error::ParamError;
use crate::limits::MAX_READ_ROWS;
use crate::value::{format_datetime, parse_datetime};

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
