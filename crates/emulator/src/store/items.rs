//! Line items (`Product Details` of Quotes, SalesOrders, PurchaseOrders, Invoices) in the
//! `records.items` column: items joined by U+001D, each item's fields encoded like a record's
//! (see [`super::records::encode`]). Like the record separators, U+001D cannot occur in XML 1.0
//! text, so no value can contain it.

use rusqlite::Connection;

use super::records::{decode, encode};

/// One line item: label → canonical text, in output order.
pub type LineItem = Vec<(String, String)>;

/// Separates items.
const ITEM_SEP: char = '\u{1d}';

/// The column value of `items` (`None` when there are none).
pub fn encode_items(items: &[LineItem]) -> Option<String> {
    if items.is_empty() {
        return None;
    }
    let parts: Vec<String> = items.iter().map(|i| encode(i)).collect();
    Some(parts.join(&ITEM_SEP.to_string()))
}

/// Items from the column value.
pub fn decode_items(data: Option<&str>) -> Vec<LineItem> {
    match data {
        None | Some("") => Vec::new(),
        Some(d) => d.split(ITEM_SEP).map(decode).collect(),
    }
}

/// Adds the `items` column to a store created before line items were kept.
pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let mut st = conn.prepare("SELECT name FROM pragma_table_info('records')")?;
    let names = st.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
    if !names.iter().any(|n| n == "items") {
        conn.execute_batch("ALTER TABLE records ADD COLUMN items TEXT")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_round_trip() {
        let items = vec![
            vec![
                ("Product Id".to_owned(), "1".to_owned()),
                ("Quantity".to_owned(), "2.0".to_owned()),
            ],
            vec![("Product Id".to_owned(), "3".to_owned())],
        ];
        let data = encode_items(&items);
        assert_eq!(decode_items(data.as_deref()), items);
        assert_eq!(encode_items(&[]), None);
        assert!(decode_items(None).is_empty());
    }

    #[test]
    fn migrate_adds_the_column_once() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE records(id INTEGER PRIMARY KEY, data TEXT NOT NULL)")
            .unwrap();
        migrate(&conn).unwrap();
        migrate(&conn).unwrap();
        conn.execute("INSERT INTO records(id, data, items) VALUES(1, '', 'x')", []).unwrap();
    }
}
