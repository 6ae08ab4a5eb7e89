//! The XML dialect's windows (`fromIndex`..`toIndex`) as v8 pages: `page`/`per_page` up to
//! record 2,000, `page_token` beyond. Tokens are remembered per query (module, fields, sort,
//! `If-Modified-Since`) and record index, from each page's `info.next_page_token`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use zcrm_protocol::params::Window;
use zcrm_protocol::rest_limits::MAX_PAGE_RECORDS;

/// How one window is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageRef {
    /// `page` (1-based) of `per_page` records.
    Page {
        /// `page`.
        page: u32,
        /// `per_page`.
        per_page: u32,
    },
    /// `page_token` (with `per_page`).
    Token {
        /// The token.
        token: String,
        /// `per_page`.
        per_page: u32,
    },
}

/// Why a window cannot be asked for as a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowError {
    /// `fromIndex - 1` is not a multiple of the window's size.
    Unaligned,
}

/// The discrete page of `w`, or `None` when it lies past record 2,000 (tokens only).
pub fn discrete(w: Window) -> Result<Option<PageRef>, WindowError> {
    let per_page = w.len().max(1);
    if !(w.from - 1).is_multiple_of(per_page) {
        return Err(WindowError::Unaligned);
    }
    if w.to > MAX_PAGE_RECORDS {
        return Ok(None);
    }
    Ok(Some(PageRef::Page { page: (w.from - 1) / per_page + 1, per_page }))
}

/// The last discrete page before record 2,000 for pages of `per_page`, the start of the
/// token chain (its answer carries the token of the records after it): `(page, first record
/// after it)`.
pub fn chain_start(per_page: u32) -> (u32, u32) {
    let page = (MAX_PAGE_RECORDS / per_page).max(1);
    (page, page * per_page + 1)
}

/// Page tokens by query and by the first record they lead to.
#[derive(Debug, Default)]
pub struct Tokens {
    map: Mutex<HashMap<String, BTreeMap<u32, String>>>,
}

impl Tokens {
    /// Remembers that `token` leads to record `from` of `query`.
    pub fn remember(&self, query: &str, from: u32, token: String) {
        let mut m = self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let chain = m.entry(query.to_owned()).or_default();
        chain.insert(from, token);
        // A long export keeps a bounded chain: the latest tokens are the ones asked for.
        while chain.len() > 64 {
            chain.pop_first();
        }
    }

    /// The token leading to record `from` of `query`, or the nearest one before it (the
    /// record it leads to and the token) to walk on from.
    pub fn nearest(&self, query: &str, from: u32) -> Option<(u32, String)> {
        let m = self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        m.get(query)?.range(..=from).next_back().map(|(k, v)| (*k, v.clone()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn windows_become_pages_up_to_record_2000_then_tokens() {
        assert_eq!(
            discrete(Window::page(0)).unwrap(),
            Some(PageRef::Page { page: 1, per_page: 200 })
        );
        assert_eq!(
            discrete(Window::page(9)).unwrap(),
            Some(PageRef::Page { page: 10, per_page: 200 })
        );
        assert_eq!(discrete(Window::page(10)).unwrap(), None);
        assert_eq!(
            discrete(Window::default()).unwrap(),
            Some(PageRef::Page { page: 1, per_page: 20 })
        );
        assert_eq!(discrete(Window::new(5, 10).unwrap()), Err(WindowError::Unaligned));
        assert_eq!(chain_start(200), (10, 2001));
        assert_eq!(chain_start(300), (6, 1801));
        let t = Tokens::default();
        t.remember("q", 2001, "a".into());
        t.remember("q", 2201, "b".into());
        assert_eq!(t.nearest("q", 2201), Some((2201, "b".into())));
        assert_eq!(t.nearest("q", 2601), Some((2201, "b".into())));
        assert_eq!(t.nearest("q", 1801), None);
        assert_eq!(t.nearest("other", 2201), None);
    }
}
