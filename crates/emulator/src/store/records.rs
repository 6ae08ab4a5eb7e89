//! Records: stored as their canonical output text (`label\x1fvalue` pairs joined by `\x1e`,
//! characters XML 1.0 cannot carry, so no value can contain them) plus typed columns for
//! listing, sorting and filtering.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::items::{LineItem, decode_items, encode_items};

/// Separates fields.
const FIELD_SEP: char = '\u{1e}';
/// Separates a label from its value.
const KV_SEP: char = '\u{1f}';

/// Record state: listed.
pub const LIVE: i64 = 0;
/// Record state: deleted (listed by getDeletedRecordIds).
pub const DELETED: i64 = 1;
/// Record state: converted lead (gone from Leads, not in the recycle bin).
pub const CONVERTED: i64 = 2;

/// A stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rec {
    /// Record id.
    pub id: u64,
    /// Module API name.
    pub module: String,
    /// Owner user id.
    pub owner: u64,
    /// Created, epoch seconds.
    pub created_at: i64,
    /// Modified, epoch seconds.
    pub modified_at: i64,
    /// Label → canonical text, in the module's field order.
    pub fields: Vec<(String, String)>,
    /// Line items (`Product Details`), for the inventory modules.
    pub line_items: Vec<LineItem>,
}

impl Rec {
    /// The value of `label`.
    pub fn get(&self, label: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == label).map(|(_, v)| v.as_str())
    }
}

/// Encodes field pairs.
pub fn encode(fields: &[(String, String)]) -> String {
    let mut out = String::with_capacity(fields.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(FIELD_SEP);
        }
        out.push_str(k);
        out.push(KV_SEP);
        out.push_str(v);
    }
    out
}

/// Decodes field pairs.
pub fn decode(data: &str) -> Vec<(String, String)> {
    data.split(FIELD_SEP)
        .filter(|s| !s.is_empty())
        .map(|kv| match kv.split_once(KV_SEP) {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (kv.to_owned(), String::new()),
        })
        .collect()
}

/// The value of `label` inside encoded data.
pub fn field_of<'a>(data: &'a str, label: &str) -> Option<&'a str> {
    data.split(FIELD_SEP)
        .find_map(|kv| kv.split_once(KV_SEP).filter(|(k, _)| *k == label).map(|(_, v)| v))
}

fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn u(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

const COLUMNS: &str = "id, module, owner, created_at, modified_at, data, items";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Rec> {
    let data: String = r.get(5)?;
    Ok(Rec {
        id: u(r.get(0)?),
        module: r.get(1)?,
        owner: u(r.get(2)?),
        created_at: r.get(3)?,
        modified_at: r.get(4)?,
        fields: decode(&data),
        line_items: decode_items(r.get::<_, Option<String>>(6)?.as_deref()),
    })
}

/// A live record of `module` (any module when `None`).
pub fn get_live(conn: &Connection, module: Option<&str>, id: u64) -> rusqlite::Result<Option<Rec>> {
    let rec = conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM records WHERE id = ?1 AND state = 0"),
            [i(id)],
            from_row,
        )
        .optional()?;
    Ok(rec.filter(|r| module.is_none_or(|m| r.module == m)))
}

/// Inserts a new record.
pub fn insert(conn: &Connection, rec: &Rec, dupkey: Option<&str>) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO records(id, module, state, owner, created_at, modified_at, dupkey, data, items) VALUES(?1, ?2, 0, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![i(rec.id), rec.module, i(rec.owner), rec.created_at, rec.modified_at, dupkey, encode(&rec.fields), encode_items(&rec.line_items)],
    )?;
    Ok(())
}

/// Rewrites an existing record.
pub fn update(conn: &Connection, rec: &Rec, dupkey: Option<&str>) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE records SET owner = ?2, modified_at = ?3, dupkey = ?4, data = ?5, items = ?6 WHERE id = ?1",
    )?
    .execute(params![
        i(rec.id),
        i(rec.owner),
        rec.modified_at,
        dupkey,
        encode(&rec.fields),
        encode_items(&rec.line_items)
    ])?;
    Ok(())
}

/// The index behind [`find_dup`]. It is created by the first duplicate check, not with the
/// store: its keys (e-mail addresses, names) arrive in random order, so keeping it costs every
/// insert a page of its own in the commit (about a quarter of a 100-row insert's time), and a
/// store that never checks duplicates should not pay that.
const DUP_INDEX: &str = "CREATE INDEX IF NOT EXISTS records_dup ON records(module, state, dupkey)";

/// Creates the duplicate-check index unless it exists (inside the caller's transaction, so a
/// rolled-back call leaves no index behind).
fn ensure_dup_index(conn: &Connection) -> rusqlite::Result<()> {
    let exists: bool = conn
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'records_dup')",
        )?
        .query_row([], |r| r.get(0))?;
    if !exists {
        conn.execute_batch(DUP_INDEX)?;
    }
    Ok(())
}

/// The oldest live record of `module` whose duplicate-check key is `key`.
pub fn find_dup(conn: &Connection, module: &str, key: &str) -> rusqlite::Result<Option<Rec>> {
    ensure_dup_index(conn)?;
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM records WHERE module = ?1 AND state = 0 AND dupkey = ?2 ORDER BY id LIMIT 1"
    ))?
    .query_row(params![module, key], from_row)
    .optional()
}

/// Marks a live record deleted or converted; returns whether it was live.
pub fn set_state(
    conn: &Connection,
    module: &str,
    id: u64,
    state: i64,
    now: i64,
) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "UPDATE records SET state = ?3, deleted_at = ?4 WHERE id = ?1 AND module = ?2 AND state = 0",
        params![i(id), module, state, now],
    )?;
    Ok(n > 0)
}

/// How to order a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Order {
    /// By id.
    Id,
    /// By Created Time.
    Created,
    /// By Modified Time.
    Modified,
    /// By a field's text.
    Text(String),
    /// By a field's number.
    Number(String),
}

/// A listing query.
#[derive(Debug, Clone)]
pub struct Query<'a> {
    /// Module API name.
    pub module: &'a str,
    /// Only records owned by this user.
    pub owner: Option<u64>,
    /// Only records modified at or after this epoch second.
    pub since: Option<i64>,
    /// Order.
    pub order: Order,
    /// Descending.
    pub desc: bool,
    /// Rows to skip.
    pub offset: u32,
    /// Rows to return (`None`: all).
    pub limit: Option<u32>,
}

/// Lists live records.
pub fn list(conn: &Connection, q: &Query<'_>) -> rusqlite::Result<Vec<Rec>> {
    let dir = if q.desc { "DESC" } else { "ASC" };
    let (order, label) = match &q.order {
        Order::Id => (format!("id {dir}"), None),
        Order::Created => (format!("created_at {dir}, id {dir}"), None),
        Order::Modified => (format!("modified_at {dir}, id {dir}"), None),
        Order::Text(l) => (format!("zf(data, ?4) {dir}, id {dir}"), Some(l.as_str())),
        Order::Number(l) => (format!("zfn(data, ?4) {dir}, id {dir}"), Some(l.as_str())),
    };
    let owner_clause = if q.owner.is_some() { "AND owner = ?2" } else { "AND ?2 IS NULL" };
    let since_clause = if q.since.is_some() { "AND modified_at >= ?3" } else { "AND ?3 IS NULL" };
    let limit = q.limit.map_or(-1, i64::from);
    let sql = format!(
        "SELECT {COLUMNS} FROM records WHERE module = ?1 AND state = 0 {owner_clause} {since_clause} \
         AND (?4 IS NULL OR ?4 IS NOT NULL) ORDER BY {order} LIMIT ?5 OFFSET ?6"
    );
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map(
        params![q.module, q.owner.map(i), q.since, label, limit, i64::from(q.offset)],
        from_row,
    )?;
    rows.collect()
}

/// Ids of deleted records of `module`, deleted at or after `since`, oldest deletion first.
pub fn deleted_ids(
    conn: &Connection,
    module: &str,
    since: Option<i64>,
    offset: u32,
    limit: u32,
) -> rusqlite::Result<Vec<u64>> {
    let mut st = conn.prepare_cached(
        "SELECT id FROM records WHERE module = ?1 AND state = 1 AND (?2 IS NULL OR deleted_at >= ?2) \
         ORDER BY deleted_at, id LIMIT ?3 OFFSET ?4",
    )?;
    let rows = st.query_map(params![module, since, i64::from(limit), i64::from(offset)], |r| {
        r.get::<_, i64>(0)
    })?;
    rows.map(|r| r.map(u)).collect()
}

/// Live records per module.
pub fn counts(conn: &Connection) -> rusqlite::Result<Vec<(String, u64)>> {
    let mut st = conn.prepare(
        "SELECT module, COUNT(*) FROM records WHERE state = 0 GROUP BY module ORDER BY module",
    )?;
    let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, u(r.get(1)?))))?;
    rows.collect()
}

/// Relates `child_id` of `child_module` to a parent; returns whether the relation is new.
pub fn relate(
    conn: &Connection,
    parent_module: &str,
    parent_id: u64,
    child_module: &str,
    child_id: u64,
    data: &str,
) -> rusqlite::Result<bool> {
    let existed: bool = conn.query_row(
        "SELECT COUNT(*) FROM relations WHERE parent_id = ?1 AND child_module = ?2 AND child_id = ?3",
        params![i(parent_id), child_module, i(child_id)],
        |r| r.get::<_, i64>(0),
    )? > 0;
    conn.execute(
        "INSERT INTO relations(parent_module, parent_id, child_module, child_id, data) VALUES(?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT(parent_id, child_module, child_id) DO UPDATE SET data = excluded.data",
        params![parent_module, i(parent_id), child_module, i(child_id), data],
    )?;
    Ok(!existed)
}

/// Ids of `child_module` records related to a parent through updateRelatedRecords.
pub fn related_ids(
    conn: &Connection,
    parent_id: u64,
    child_module: &str,
) -> rusqlite::Result<Vec<u64>> {
    let mut st = conn.prepare_cached(
        "SELECT child_id FROM relations WHERE parent_id = ?1 AND child_module = ?2",
    )?;
    let rows = st.query_map(params![i(parent_id), child_module], |r| r.get::<_, i64>(0))?;
    rows.map(|r| r.map(u)).collect()
}

/// Removes the relation between a parent and a child, made through either face in either
/// direction (parent → child or child → parent); returns whether there was one.
pub fn unrelate(
    conn: &Connection,
    module: &str,
    id: u64,
    other_module: &str,
    other_id: u64,
) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "DELETE FROM relations WHERE (parent_id = ?1 AND child_module = ?4 AND child_id = ?3) \
         OR (parent_id = ?3 AND parent_module = ?4 AND child_module = ?2 AND child_id = ?1)",
        params![i(id), module, i(other_id), other_module],
    )?;
    Ok(n > 0)
}

/// Ids of `other_module` records related to record `id` of `module` in either direction: as
/// its children (`parent_id = id`) or as its parents (`child_id = id`).
pub fn related_either_way(
    conn: &Connection,
    module: &str,
    id: u64,
    other_module: &str,
) -> rusqlite::Result<Vec<u64>> {
    let mut st = conn.prepare_cached(
        "SELECT child_id FROM relations WHERE parent_id = ?1 AND child_module = ?3 \
         UNION SELECT parent_id FROM relations WHERE child_id = ?1 AND child_module = ?2 \
         AND parent_module = ?3",
    )?;
    let rows = st.query_map(params![i(id), module, other_module], |r| r.get::<_, i64>(0))?;
    rows.map(|r| r.map(u)).collect()
}

/// A record of `module` in `state` ([`LIVE`], [`DELETED`], [`CONVERTED`]).
pub fn get_in_state(
    conn: &Connection,
    module: &str,
    id: u64,
    state: i64,
) -> rusqlite::Result<Option<Rec>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM records WHERE id = ?1 AND module = ?2 AND state = ?3"),
        params![i(id), module, state],
        from_row,
    )
    .optional()
}

/// What a v8 listing sorts on (always with `id` as the tie-break, in the same direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// The id.
    Id,
    /// Created time.
    Created,
    /// Modified time.
    Modified,
}

impl SortKey {
    fn column(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Created => "created_at",
            Self::Modified => "modified_at",
        }
    }

    /// A record's value of the key.
    pub fn of(self, rec: &Rec) -> i64 {
        match self {
            Self::Id => i(rec.id),
            Self::Created => rec.created_at,
            Self::Modified => rec.modified_at,
        }
    }
}

/// A v8 listing: a keyset (`after`) or an offset page.
#[derive(Debug, Clone)]
pub struct Listing<'a> {
    /// Module API name (the store's).
    pub module: &'a str,
    /// Record states listed (live, converted).
    pub states: &'a [i64],
    /// Only records modified at or after this epoch second.
    pub since: Option<i64>,
    /// Only these ids.
    pub ids: Option<&'a [u64]>,
    /// Only records owned by this user (a custom view's).
    pub owner: Option<u64>,
    /// Only records whose field (a label) is unset or none of these values (a custom view's).
    pub excluded: Option<(&'a str, &'a [&'a str])>,
    /// Sort key.
    pub sort: SortKey,
    /// Descending.
    pub desc: bool,
    /// Only records after this (key, id) in the listing's order.
    pub after: Option<(i64, u64)>,
    /// Rows to skip.
    pub offset: u32,
    /// Rows to return.
    pub limit: u32,
}

/// Lists records for the v8 face.
pub fn listing(conn: &Connection, q: &Listing<'_>) -> rusqlite::Result<Vec<Rec>> {
    use rusqlite::types::Value as Sql;
    let dir = if q.desc { "DESC" } else { "ASC" };
    let col = q.sort.column();
    let states = q.states.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(",");
    let mut args: Vec<Sql> = vec![q.module.to_owned().into(), q.since.into()];
    let mut sql = format!(
        "SELECT {COLUMNS} FROM records WHERE module = ?1 AND state IN ({states}) \
         AND (?2 IS NULL OR modified_at >= ?2)"
    );
    let bind = |args: &mut Vec<Sql>, v: Sql| {
        args.push(v);
        format!("?{}", args.len())
    };
    if let Some(ids) = q.ids {
        let list = ids.iter().map(|id| i(*id).to_string()).collect::<Vec<_>>().join(",");
        sql.push_str(&format!(" AND id IN ({list})"));
    }
    if let Some(owner) = q.owner {
        let p = bind(&mut args, i(owner).into());
        sql.push_str(&format!(" AND owner = {p}"));
    }
    if let Some((label, values)) = q.excluded {
        let l = bind(&mut args, label.to_owned().into());
        let list: Vec<String> =
            values.iter().map(|v| bind(&mut args, (*v).to_owned().into())).collect();
        sql.push_str(&format!(
            " AND (zf(data, {l}) IS NULL OR zf(data, {l}) NOT IN ({}))",
            list.join(", ")
        ));
    }
    if let Some((k, id)) = q.after {
        let cmp = if q.desc { "<" } else { ">" };
        let id = bind(&mut args, i(id).into());
        if q.sort == SortKey::Id {
            sql.push_str(&format!(" AND id {cmp} {id}"));
        } else {
            let k = bind(&mut args, k.into());
            sql.push_str(&format!(" AND ({col} {cmp} {k} OR ({col} = {k} AND id {cmp} {id}))"));
        }
    }
    let limit = bind(&mut args, i64::from(q.limit).into());
    let offset = bind(&mut args, i64::from(q.offset).into());
    if q.sort == SortKey::Id {
        sql.push_str(&format!(" ORDER BY id {dir} LIMIT {limit} OFFSET {offset}"));
    } else {
        sql.push_str(&format!(" ORDER BY {col} {dir}, id {dir} LIMIT {limit} OFFSET {offset}"));
    }
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map(rusqlite::params_from_iter(args), from_row)?;
    rows.collect()
}

/// Deleted records of `module` deleted in `(after, until]` (and at or after `since`), newest
/// deletion first, with their deletion time.
pub fn deleted_list(
    conn: &Connection,
    module: &str,
    after: i64,
    until: i64,
    since: Option<i64>,
    offset: u32,
    limit: u32,
) -> rusqlite::Result<Vec<(Rec, i64)>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {COLUMNS}, deleted_at FROM records WHERE module = ?1 AND state = 1 \
         AND deleted_at > ?2 AND deleted_at <= ?3 AND (?4 IS NULL OR deleted_at >= ?4) \
         ORDER BY deleted_at DESC, id DESC LIMIT ?5 OFFSET ?6"
    ))?;
    let rows = st.query_map(
        params![module, after, until, since, i64::from(limit), i64::from(offset)],
        |r| Ok((from_row(r)?, r.get::<_, i64>(7)?)),
    )?;
    rows.collect()
}

/// The oldest live record of `module` (other than `except`) whose `label` equals `value`,
/// ignoring case (a scan of the module: unique fields carry no index).
pub fn find_by_value(
    conn: &Connection,
    module: &str,
    label: &str,
    value: &str,
    except: Option<u64>,
) -> rusqlite::Result<Option<Rec>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM records WHERE module = ?1 AND state = 0 \
         AND lower(zf(data, ?2)) = lower(?3) AND (?4 IS NULL OR id <> ?4) ORDER BY id LIMIT 1"
    ))?
    .query_row(params![module, label, value, except.map(i)], from_row)
    .optional()
}

/// Streams the records of `module` in the given states by id (descending when `desc`), one at a
/// time, until `f` answers `false`: searches filter in memory without holding the module.
pub fn scan(
    conn: &Connection,
    module: &str,
    states: &[i64],
    desc: bool,
    f: &mut dyn FnMut(Rec) -> bool,
) -> rusqlite::Result<()> {
    let dir = if desc { "DESC" } else { "ASC" };
    let states = states.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(",");
    let mut st = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM records WHERE module = ?1 AND state IN ({states}) ORDER BY id {dir}"
    ))?;
    let mut rows = st.query([module])?;
    while let Some(row) = rows.next()? {
        if !f(from_row(row)?) {
            break;
        }
    }
    Ok(())
}
