//! Leads-like rows: 25 columns mapping onto the standard Leads fields.

use std::fmt::Write as _;
use std::path::Path;

use crate::{GenError, GenStats, Rng};

/// The 25 source columns, in file order.
pub const LEADS_COLUMNS: [&str; 25] = [
    "lead_id",
    "salutation",
    "first_name",
    "last_name",
    "company",
    "title",
    "email",
    "secondary_email",
    "phone",
    "mobile",
    "fax",
    "website",
    "lead_source",
    "lead_status",
    "industry",
    "employees",
    "annual_revenue",
    "rating",
    "email_opt_out",
    "skype",
    "street",
    "city",
    "state",
    "zip",
    "description",
];

/// The defects a bad row may carry (one each), by the column they spoil.
pub const BAD_KINDS: [&str; 9] = [
    "email",
    "company",
    "employees",
    "annual_revenue",
    "lead_source",
    "last_name",
    "email_opt_out",
    "phone",
    "website",
];

const FIRST: &[&str] = &[
    "Ann", "Bob", "Chloé", "Dmitri", "Eve", "Farid", "Grace", "Hiro", "Ines", "José", "Kai", "Lena",
];
const LAST: &[&str] = &[
    "Smith", "Okafor", "Müller", "Nguyen", "Garcia", "Rossi", "Kowalski", "Tanaka", "Dubois",
    "O'Brien",
];
const WORDS: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Hooli",
];
const SUFFIX: &[&str] = &["Inc.", "LLC", "GmbH", "S.A.", "Ltd", "& Sons"];
const TITLES: &[&str] = &["CEO", "CTO", "Buyer", "VP Sales", "Office Manager", "Engineer"];
const SOURCES: &[&str] = &[
    "Advertisement",
    "Cold Call",
    "Employee Referral",
    "Partner",
    "Trade Show",
    "Web Form",
    "Chat",
];
const STATUSES: &[&str] =
    &["Attempted to Contact", "Contacted", "Not Contacted", "Pre Qualified", "Junk Lead"];
const INDUSTRIES: &[&str] = &[
    "ASP",
    "ERP",
    "Large Enterprise",
    "Service Provider",
    "Small/Medium Enterprise",
    "Optical Networking",
];
const RATINGS: &[&str] = &["Acquired", "Active", "Market Failed", "Shut Down"];
const SALUTATIONS: &[&str] = &["Mr.", "Mrs.", "Ms.", "Dr.", "Prof."];
const CITIES: &[(&str, &str)] = &[
    ("Springfield", "IL"),
    ("Portland", "OR"),
    ("Austin", "TX"),
    ("Boston", "MA"),
    ("San José", "CA"),
];
const STREETS: &[&str] = &["Main St", "Oak Avenue", "2nd Street", "Elm Road", "Harbor Blvd"];
const LOREM: &[&str] = &[
    "met at the trade show",
    "asked for a demo",
    "interested in the enterprise plan",
    "call back next quarter",
    "prefers e-mail",
    "budget approved",
    "evaluating competitors",
];

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeadsSpec {
    /// Data rows.
    pub rows: u64,
    /// The seed.
    pub seed: u64,
    /// The fraction of rows with one deliberate defect, in [0, 1].
    pub bad_fraction: f64,
}

/// Generates rows one by one into a reusable buffer.
#[derive(Debug, Clone)]
pub struct LeadGen {
    rng: Rng,
    spec: LeadsSpec,
    row: u64,
    /// The current row's cells.
    pub cells: Vec<String>,
    /// Which defect the current row has, if any (an index into [`BAD_KINDS`]).
    pub defect: Option<usize>,
}

impl LeadGen {
    /// A generator for `spec`.
    pub fn new(spec: LeadsSpec) -> Self {
        Self {
            rng: Rng::new(spec.seed),
            spec,
            row: 0,
            cells: vec![String::new(); 25],
            defect: None,
        }
    }

    /// Fills `cells` with the next row; false after the last row.
    pub fn next_row(&mut self) -> bool {
        if self.row >= self.spec.rows {
            return false;
        }
        self.row += 1;
        let n = self.row;
        let r = &mut self.rng;
        let c = &mut self.cells;
        for s in c.iter_mut() {
            s.clear();
        }
        let first = r.pick(FIRST);
        let last = r.pick(LAST);
        let company = format!("{} {} {}", r.pick(WORDS), r.pick(WORDS), r.pick(SUFFIX));
        let domain = format!("{}{}.example.com", r.pick(WORDS).to_lowercase(), n % 97);
        let (city, state) = CITIES[r.below(CITIES.len() as u64) as usize];
        let _ = write!(c[0], "L{n:09}");
        c[1].push_str(r.pick(SALUTATIONS));
        c[2].push_str(first);
        c[3].push_str(last);
        c[4].push_str(&company);
        c[5].push_str(r.pick(TITLES));
        let _ = write!(
            c[6],
            "{}.{}{}@{domain}",
            first.to_lowercase(),
            last.to_lowercase().replace('\'', ""),
            n
        );
        let _ = write!(c[7], "info{n}@{domain}");
        let _ = write!(c[8], "+1 (415) 555-{:04}", r.below(10_000));
        let _ = write!(c[9], "1415{:07}", r.below(10_000_000));
        let _ = write!(c[10], "415-555-{:04}", r.below(10_000));
        let _ = write!(c[11], "https://www.{domain}/");
        c[12].push_str(r.pick(SOURCES));
        c[13].push_str(r.pick(STATUSES));
        c[14].push_str(r.pick(INDUSTRIES));
        let _ = write!(c[15], "{}", 1 + r.below(5000));
        let _ = write!(c[16], "{}.{:02}", r.below(10_000_000), r.below(100));
        c[17].push_str(r.pick(RATINGS));
        c[18].push_str(if r.below(2) == 0 { "true" } else { "false" });
        let _ = write!(
            c[19],
            "{}.{}{}",
            first.to_lowercase(),
            last.to_lowercase().replace('\'', ""),
            n % 1000
        );
        let _ = write!(c[20], "{} {}", 1 + r.below(9999), r.pick(STREETS));
        c[21].push_str(city);
        c[22].push_str(state);
        let _ = write!(c[23], "{:05}", 1000 + r.below(98_000));
        let _ = write!(c[24], "{}; {}, \"{}\"", r.pick(LOREM), r.pick(LOREM), r.pick(LOREM));
        self.defect = None;
        if self.spec.bad_fraction > 0.0 && r.unit() < self.spec.bad_fraction {
            let k = r.below(BAD_KINDS.len() as u64) as usize;
            self.defect = Some(k);
            match BAD_KINDS[k] {
                "email" => c[6] = format!("{first}(at){domain}"),
                "company" => c[4] = "X".repeat(101),
                "employees" => c[15] = "about 20".to_owned(),
                "annual_revenue" => c[16] = "12,500.00".to_owned(),
                "lead_source" => c[12] = "Carrier Pigeon".to_owned(),
                "last_name" => c[3].clear(),
                "email_opt_out" => c[18] = "maybe".to_owned(),
                "phone" => c[8] = "call reception".to_owned(),
                _ => c[11] = "not a website".to_owned(),
            }
        }
        true
    }
}

/// The `[steps.map]` table mapping these columns onto Leads fields.
pub fn leads_map_toml() -> &'static str {
    r#"[steps.map]
"Salutation" = "salutation"
"First Name" = "first_name"
"Last Name" = "last_name"
"Company" = "company"
"Designation" = "title"
"Email" = "email"
"Secondary Email" = "secondary_email"
"Phone" = "phone"
"Mobile" = "mobile"
"Fax" = "fax"
"Website" = "website"
"Lead Source" = "lead_source"
"Lead Status" = "lead_status"
"Industry" = "industry"
"No of Employees" = "employees"
"Annual Revenue" = "annual_revenue"
"Rating" = "rating"
"Email Opt Out" = "email_opt_out"
"Skype ID" = "skype"
"Street" = "street"
"City" = "city"
"State" = "state"
"Zip Code" = "zip"
"Description" = { template = "{description} (legacy id {lead_id})" }
"#
}

/// Writes `spec.rows` rows (plus a header) as CSV.
pub fn write_leads_csv(path: &Path, spec: LeadsSpec) -> Result<GenStats, GenError> {
    if let Some(d) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(d)?;
    }
    let file = std::fs::File::create(path)?;
    let mut w = csv::Writer::from_writer(std::io::BufWriter::with_capacity(1 << 16, file));
    w.write_record(LEADS_COLUMNS)?;
    let mut g = LeadGen::new(spec);
    let mut stats = GenStats::default();
    while g.next_row() {
        w.write_record(&g.cells)?;
        stats.rows += 1;
        stats.bad_rows += u64::from(g.defect.is_some());
    }
    w.flush()?;
    Ok(stats)
}

/// Writes `spec.rows` rows (plus a header) as XLSX in constant memory; numbers that are
/// identifiers (mobile, zip) and counts are stored as numbers, the opt-out as a boolean.
pub fn write_leads_xlsx(path: &Path, spec: LeadsSpec) -> Result<GenStats, GenError> {
    use rust_xlsxwriter::Workbook;
    if let Some(d) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(d)?;
    }
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet_with_constant_memory()?;
    ws.set_name("Leads")?;
    for (i, h) in LEADS_COLUMNS.iter().enumerate() {
        ws.write_string(0, i as u16, *h)?;
    }
    let mut g = LeadGen::new(spec);
    let mut stats = GenStats::default();
    let mut r: u32 = 0;
    while g.next_row() {
        r += 1;
        for (i, v) in g.cells.iter().enumerate() {
            let col = i as u16;
            if v.is_empty() {
                continue;
            }
            let numeric = matches!(i, 9 | 15 | 16 | 23) && v.parse::<f64>().is_ok();
            if numeric {
                ws.write_number(r, col, v.parse::<f64>().unwrap_or_default())?;
            } else if i == 18 && (v == "true" || v == "false") {
                ws.write_boolean(r, col, v == "true")?;
            } else {
                ws.write_string(r, col, v)?;
            }
        }
        stats.rows += 1;
        stats.bad_rows += u64::from(g.defect.is_some());
    }
    wb.save(path)?;
    Ok(stats)
}
