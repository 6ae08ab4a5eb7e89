//! The cells of one row in one string buffer (two allocations a row, not one per cell).

/// A row's cells: one text buffer plus the end offset of every cell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cells {
    buf: String,
    ends: Vec<u32>,
}

impl Cells {
    /// Empty cells with room for `n` cells.
    pub fn with_capacity(n: usize, bytes: usize) -> Self {
        Self { buf: String::with_capacity(bytes), ends: Vec::with_capacity(n) }
    }

    /// Appends a cell.
    pub fn push(&mut self, cell: &str) {
        self.buf.push_str(cell);
        self.ends.push(u32::try_from(self.buf.len()).unwrap_or(u32::MAX));
    }

    /// Appends a cell from a character iterator.
    pub fn push_chars(&mut self, cell: impl Iterator<Item = char>) {
        self.buf.extend(cell);
        self.ends.push(u32::try_from(self.buf.len()).unwrap_or(u32::MAX));
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there is no cell.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Cell `i`, or `""` past the end (a short row reads as empty cells).
    pub fn get(&self, i: usize) -> &str {
        let Some(&end) = self.ends.get(i) else { return "" };
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.buf.get(start..end as usize).unwrap_or("")
    }

    /// Every cell in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Drops cells from `n` on.
    pub fn truncate(&mut self, n: usize) {
        if n < self.ends.len() {
            let keep = if n == 0 { 0 } else { self.ends[n - 1] as usize };
            self.buf.truncate(keep);
            self.ends.truncate(n);
        }
    }

    /// The cells as owned strings.
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_owned).collect()
    }
}

impl<S: AsRef<str>> FromIterator<S> for Cells {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut c = Cells::default();
        for s in iter {
            c.push(s.as_ref());
        }
        c
    }
}
