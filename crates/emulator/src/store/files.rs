//! Attachments (uploadFile) and record photos (uploadPhoto).

use rusqlite::{Connection, OptionalExtension, params};

fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A stored attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Attachment id.
    pub id: u64,
    /// File name.
    pub name: String,
    /// Bytes (empty for link attachments).
    pub content: Vec<u8>,
    /// The link of a link attachment.
    pub url: Option<String>,
    /// The record it is attached to.
    pub record: u64,
}

/// An attachment as a listing shows it (no bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Attachment id.
    pub id: u64,
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// The link of a link attachment.
    pub url: Option<String>,
    /// Uploaded, epoch seconds.
    pub created_at: i64,
}

/// Stores an attachment.
#[allow(clippy::too_many_arguments)]
pub fn add(
    conn: &Connection,
    id: u64,
    module: &str,
    record: u64,
    name: &str,
    url: Option<&str>,
    content: &[u8],
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO files(id, module, record_id, name, url, content, size, created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![i(id), module, i(record), name, url, content, content.len() as i64, now],
    )?;
    Ok(())
}

/// A live attachment of `module`.
pub fn get(conn: &Connection, module: &str, id: u64) -> rusqlite::Result<Option<Attachment>> {
    conn.query_row(
        "SELECT id, name, content, url, record_id FROM files WHERE id = ?1 AND module = ?2 AND deleted = 0",
        params![i(id), module],
        |r| {
            Ok(Attachment {
                id: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                name: r.get(1)?,
                content: r.get::<_, Option<Vec<u8>>>(2)?.unwrap_or_default(),
                url: r.get(3)?,
                record: u64::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
            })
        },
    )
    .optional()
}

/// The live attachments of a record, oldest first, `offset` and `limit` applied.
pub fn list(
    conn: &Connection,
    module: &str,
    record: u64,
    offset: u32,
    limit: u32,
) -> rusqlite::Result<Vec<Listed>> {
    let mut st = conn.prepare_cached(
        "SELECT id, name, size, url, created_at FROM files \
         WHERE module = ?1 AND record_id = ?2 AND deleted = 0 ORDER BY id LIMIT ?3 OFFSET ?4",
    )?;
    let rows =
        st.query_map(params![module, i(record), i64::from(limit), i64::from(offset)], |r| {
            Ok(Listed {
                id: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                name: r.get(1)?,
                size: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                url: r.get(3)?,
                created_at: r.get(4)?,
            })
        })?;
    rows.collect()
}

/// Deletes an attachment; returns whether it existed.
pub fn delete(conn: &Connection, module: &str, id: u64) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "UPDATE files SET deleted = 1 WHERE id = ?1 AND module = ?2 AND deleted = 0",
        params![i(id), module],
    )? > 0)
}

/// Sets a record's photo.
pub fn set_photo(
    conn: &Connection,
    module: &str,
    record: u64,
    name: &str,
    content: &[u8],
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO photos(record_id, module, name, content) VALUES(?1, ?2, ?3, ?4) \
         ON CONFLICT(record_id) DO UPDATE SET name = excluded.name, content = excluded.content",
        params![i(record), module, name, content],
    )?;
    Ok(())
}

/// A record's photo: name and bytes.
pub fn photo(
    conn: &Connection,
    module: &str,
    record: u64,
) -> rusqlite::Result<Option<(String, Vec<u8>)>> {
    conn.query_row(
        "SELECT name, content FROM photos WHERE record_id = ?1 AND module = ?2",
        params![i(record), module],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Deletes a record's photo; returns whether there was one.
pub fn delete_photo(conn: &Connection, module: &str, record: u64) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "DELETE FROM photos WHERE record_id = ?1 AND module = ?2",
        params![i(record), module],
    )? > 0)
}
