//! The `page_token` cursor (CD-16): a keyset position (the last record's sort key and id), the
//! records served so far, when it was made and a hash of the parameters it is bound to, all in
//! the token itself (hex, with a check sum), so inserts never shift the pages and a restart
//! keeps tokens valid.

/// Seconds a token lives.
pub const TOKEN_SECS: i64 = 86_400;

/// A decoded cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// Hash of the parameters the token is bound to.
    pub binding: u64,
    /// The last record's sort key.
    pub key: i64,
    /// The last record's id.
    pub id: u64,
    /// Records served before the next page.
    pub served: u32,
    /// When the first token of the listing was made (epoch seconds).
    pub created: i64,
}

/// FNV-1a, stable across runs and builds.
pub fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

const SALT: &[u8] = b"zcrm-emulator page_token";

fn check(body: &str) -> u64 {
    fnv(&[SALT, body.as_bytes()].concat())
}

impl Cursor {
    /// The token text.
    pub fn encode(&self) -> String {
        let body = format!(
            "{:016x}{:016x}{:016x}{:08x}{:016x}",
            self.binding, self.key as u64, self.id, self.served, self.created as u64
        );
        let sum = check(&body);
        format!("{body}{sum:016x}")
    }

    /// Reads a token; `None` when it is not one of ours.
    pub fn decode(text: &str) -> Option<Self> {
        if text.len() != 88 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let (body, sum) = text.split_at(72);
        if u64::from_str_radix(sum, 16).ok()? != check(body) {
            return None;
        }
        let hex = |a: usize, b: usize| u64::from_str_radix(body.get(a..b)?, 16).ok();
        Some(Self {
            binding: hex(0, 16)?,
            key: hex(16, 32)? as i64,
            id: hex(32, 48)?,
            served: u32::try_from(hex(48, 56)?).ok()?,
            created: hex(56, 72)? as i64,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_cursor_reads_back_and_a_changed_token_does_not() {
        let c = Cursor { binding: 7, key: -5, id: 900, served: 2000, created: 1_700_000_000 };
        let t = c.encode();
        assert_eq!(Cursor::decode(&t), Some(c));
        let mut bad = t.clone().into_bytes();
        bad[20] = if bad[20] == b'0' { b'1' } else { b'0' };
        assert_eq!(Cursor::decode(std::str::from_utf8(&bad).unwrap()), None);
        assert_eq!(Cursor::decode("abc"), None);
    }
}
