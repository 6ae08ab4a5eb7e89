//! The custom views every org has, in one place for both faces: `All <Module>` and
//! `My <Module>` on every module, and `All Open Leads` on Leads (the leads whose Lead Status
//! is not Junk Lead, Lost Lead or Not Qualified). The XML face finds them by name
//! (getCVRecords `cvName`), the v8 face lists them (`settings/custom_views`) and finds them by
//! id (`cvid`). Ids are stable: derived from the module's v8 name and the view's system name.

use crate::rest::paging::fnv;
use crate::schema::ModuleDef;
use crate::store::records::Rec;

/// Lead Status values `All Open Leads` leaves out.
pub const CLOSED_LEAD_STATUSES: [&str; 3] = ["Junk Lead", "Lost Lead", "Not Qualified"];

/// What a view keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Every live record (`All <Module>`, the module's default view).
    All,
    /// The records the caller owns (`My <Module>`).
    Mine,
    /// Leads whose Lead Status is not closed (`All Open Leads`).
    OpenLeads,
}

/// One custom view of a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// What it keeps.
    pub kind: Kind,
    /// Its name (`All Leads`).
    pub name: String,
    /// Its system name (`ALLVIEWS`).
    pub system_name: &'static str,
    /// Its id (19 digits).
    pub id: u64,
}

/// A field of a record and the values that leave the record out of a view.
pub type Excluded = (&'static str, &'static [&'static str]);

impl View {
    fn new(def: &ModuleDef, kind: Kind) -> Self {
        let (name, system_name) = match kind {
            Kind::All => (format!("All {}", def.plural), "ALLVIEWS"),
            Kind::Mine => (format!("My {}", def.plural), "MYVIEWS"),
            Kind::OpenLeads => ("All Open Leads".to_owned(), "OPENLEADS"),
        };
        let id = 5_725_767_000_000_000_000
            + fnv(format!("{}|{system_name}", def.api_name).as_bytes()) % 1_000_000_000_000;
        Self { kind, name, system_name, id }
    }

    /// Whether it is the module's default view.
    pub fn is_default(&self) -> bool {
        self.kind == Kind::All
    }

    /// The owner whose records it keeps (`user`: the caller), if it keeps one owner's.
    pub fn owner(&self, user: u64) -> Option<u64> {
        (self.kind == Kind::Mine).then_some(user)
    }

    /// The field whose values leave a record out, if any.
    pub fn excluded(&self) -> Option<Excluded> {
        (self.kind == Kind::OpenLeads).then_some(("Lead Status", &CLOSED_LEAD_STATUSES[..]))
    }

    /// Whether it keeps `rec` (`user`: the caller).
    pub fn keeps(&self, rec: &Rec, user: u64) -> bool {
        self.owner(user).is_none_or(|o| rec.owner == o)
            && self
                .excluded()
                .is_none_or(|(label, values)| !rec.get(label).is_some_and(|v| values.contains(&v)))
    }
}

/// The views of `def`, the default first.
pub fn of(def: &ModuleDef) -> Vec<View> {
    let mut v = vec![View::new(def, Kind::All), View::new(def, Kind::Mine)];
    if def.api_name == "Leads" {
        v.push(View::new(def, Kind::OpenLeads));
    }
    v
}

/// The view getCVRecords' `cvName` names: `All <Module>` and `My <Module>` with the module's
/// XML name or plural label in any case, `All Open Leads` exactly.
pub fn by_xml_name(def: &ModuleDef, name: &str) -> Option<View> {
    let api = def.module.api_name();
    let module_is =
        |rest: &str| rest.eq_ignore_ascii_case(&api) || rest.eq_ignore_ascii_case(&def.plural);
    of(def).into_iter().find(|v| match v.kind {
        Kind::All => name.strip_prefix("All ").is_some_and(module_is),
        Kind::Mine => name.strip_prefix("My ").is_some_and(module_is),
        Kind::OpenLeads => name == v.name,
    })
}

/// The view whose id is `id` (the v8 `cvid`).
pub fn by_id(def: &ModuleDef, id: &str) -> Option<View> {
    let id: u64 = id.trim().parse().ok()?;
    of(def).into_iter().find(|v| v.id == id)
}
