//! Mapping chunks in parallel with rayon while the reader thread keeps reading; results are
//! handed to the consumer in source order.

use std::collections::VecDeque;
use std::sync::Arc;

use zcrm_ordered::JobFailed;
use zcrm_readers::{Block, Chunk, RawBlock, ReadError, SourceInfo};

use crate::row::Outcome;
use crate::{MappedChunk, Mapper};

impl Mapper {
    /// Maps one chunk; with `build` false valid rows are only counted.
    pub fn map_chunk(&self, chunk: Chunk, build: bool) -> MappedChunk {
        let rows_read = chunk.rows.len();
        let mut out = MappedChunk {
            seq: chunk.seq,
            source: chunk.source,
            rows_read,
            rows: Vec::with_capacity(if build { rows_read } else { 0 }),
            valid: 0,
            rejected: Vec::new(),
            warnings: Vec::new(),
        };
        for row in chunk.rows {
            out.add(self.map_row(row, build));
        }
        out
    }

    /// Maps one decoded block; with `build` false valid rows are only counted, and only the
    /// rejected rows' cells are copied out of the block.
    pub fn map_block(&self, block: &Block, build: bool) -> MappedChunk {
        let rows_read = block.len();
        let mut out = MappedChunk {
            seq: block.seq,
            source: block.source.clone(),
            rows_read,
            rows: Vec::with_capacity(if build { rows_read } else { 0 }),
            valid: 0,
            rejected: Vec::new(),
            warnings: Vec::new(),
        };
        for row in block.rows() {
            out.add(self.map_ref(row, build));
        }
        out
    }
}

impl MappedChunk {
    fn add(&mut self, o: Outcome) {
        match o {
            Outcome::Valid(row, warns) => {
                self.valid += 1;
                self.rows.extend(row);
                self.warnings.extend(warns);
            }
            Outcome::Rejected(r) => self.rejected.push(r),
        }
    }
}

/// Maps every chunk of `chunks` with `mapper`, each chunk one rayon task while the source
/// keeps producing, and calls `sink` with the results in source order. Stops at the first
/// error of the source (after handing on what came before it) or of the sink.
pub fn map_chunks<E>(
    chunks: impl Iterator<Item = Result<Chunk, ReadError>>,
    mapper: &Mapper,
    build: bool,
    sink: impl FnMut(MappedChunk) -> Result<(), E>,
) -> Result<(), E>
where
    E: From<ReadError>,
{
    map_in_order(chunks, |c| mapper.map_chunk(c, build), sink)
}

/// Maps the raw blocks of a reader (see `zcrm_readers::RowReader::blocks`): each block is
/// decoded and mapped as one rayon task while the reader thread keeps reading, and `sink` is
/// called with the results in source order on the calling thread. Stops at the first error of
/// the source (after handing on what came before it) or of the sink.
pub fn map_blocks<E>(
    blocks: impl Iterator<Item = Result<RawBlock, ReadError>>,
    mapper: &Mapper,
    build: bool,
    sink: impl FnMut(MappedChunk) -> Result<(), E>,
) -> Result<(), E>
where
    E: From<ReadError>,
{
    map_in_order(blocks, |b| mapper.map_block(&b.decode(), build), sink)
}

/// A unit of mapping work: where its rows come from, for the error if its worker fails.
trait Place {
    /// The source and the first row.
    fn place(&self) -> (Arc<SourceInfo>, Option<u64>);
}

impl Place for Chunk {
    fn place(&self) -> (Arc<SourceInfo>, Option<u64>) {
        (self.source.clone(), self.rows.first().map(|r| r.pos.row))
    }
}

impl Place for RawBlock {
    fn place(&self) -> (Arc<SourceInfo>, Option<u64>) {
        (self.source().clone(), self.first_pos().map(|p| p.row))
    }
}

/// Runs `map` on every item as a rayon task, a few items in flight per rayon thread
/// ([`zcrm_ordered::pool_window`]), and calls `sink` with the results in the items' order on
/// the calling thread. When the source fails, the items before the failure are still handed
/// on, then the error is returned. A task that panics is a [`ReadError::Worker`] naming its
/// first row, returned after the items before it were handed on.
fn map_in_order<T, E>(
    items: impl Iterator<Item = Result<T, ReadError>>,
    map: impl Fn(T) -> MappedChunk + Sync,
    mut sink: impl FnMut(MappedChunk) -> Result<(), E>,
) -> Result<(), E>
where
    T: Send + Place,
    E: From<ReadError>,
{
    let map = &map;
    zcrm_ordered::scope(zcrm_ordered::pool_window(), |jobs| {
        // Where each outstanding job's rows come from, oldest first (as the jobs).
        let mut places = VecDeque::new();
        let mut hand_on =
            |done: Result<MappedChunk, JobFailed>,
             places: &mut VecDeque<(Arc<SourceInfo>, Option<u64>)>| {
                let place = places.pop_front();
                match done {
                    Ok(m) => sink(m),
                    Err(failed) => {
                        let (source, row) = place.unzip();
                        let (path, sheet) =
                            source.map(|s| (s.path.clone(), s.sheet.clone())).unwrap_or_default();
                        Err(ReadError::Worker {
                            path,
                            sheet,
                            row: row.flatten(),
                            cause: failed.into(),
                        }
                        .into())
                    }
                }
            };
        for item in items {
            let item = match item {
                Ok(item) => item,
                Err(e) => {
                    // What was read before the source broke is still handed on.
                    while let Some(done) = jobs.oldest() {
                        hand_on(done, &mut places)?;
                    }
                    return Err(e.into());
                }
            };
            places.push_back(item.place());
            if let Some(done) = jobs.submit(move || map(item)) {
                hand_on(done, &mut places)?;
            }
        }
        while let Some(done) = jobs.oldest() {
            hand_on(done, &mut places)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use zcrm_readers::{Row, RowPos};

    use super::*;

    fn chunk(seq: u64, source: &Arc<SourceInfo>) -> Result<Chunk, ReadError> {
        let row = Row {
            pos: RowPos { row: seq * 10 + 1, line: seq * 10 + 2 },
            cells: ["a"].into_iter().collect(),
            problem: None,
        };
        Ok(Chunk { seq, source: source.clone(), rows: vec![row] })
    }

    fn mapped(c: Chunk) -> MappedChunk {
        MappedChunk {
            seq: c.seq,
            source: c.source,
            rows_read: c.rows.len(),
            rows: Vec::new(),
            valid: 0,
            rejected: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// A chunk whose mapping panics stops the run with an error naming the file and the
    /// chunk's first row: the chunks before it are handed on, none after it, and the caller
    /// neither hangs nor panics.
    #[test]
    fn a_panicking_chunk_is_an_error_after_the_chunks_before_it() {
        let source = Arc::new(SourceInfo { path: "in.csv".into(), sheet: None });
        let items = (0..40).map(|i| chunk(i, &source));
        let mut seen = Vec::new();
        let r = map_in_order(
            items,
            |c: Chunk| {
                if c.seq == 7 {
                    panic!("boom in chunk 7");
                }
                mapped(c)
            },
            |m| -> Result<(), ReadError> {
                seen.push(m.seq);
                Ok(())
            },
        );
        let err = r.expect_err("the panic is an error");
        let text = err.to_string();
        assert!(matches!(err, ReadError::Worker { row: Some(71), .. }), "{err:?}");
        assert!(text.contains("in.csv") && text.contains("row 71"), "{text}");
        assert!(text.contains("boom in chunk 7"), "{text}");
        assert_eq!(seen, (0..7).collect::<Vec<_>>());
    }
}
