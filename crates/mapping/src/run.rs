//! Mapping chunks in parallel with rayon while the reader thread keeps reading; results are
//! handed to the consumer in source order.

use std::collections::BTreeMap;
use std::sync::mpsc;

use zcrm_readers::{Block, Chunk, RawBlock, ReadError};

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

/// Runs `map` on every item as a rayon task, a few items in flight per rayon thread (no pause
/// between groups), and calls `sink` with the results in the items' order on the calling
/// thread. When the source fails, the items before the failure are still handed on, then
/// the error is returned.
fn map_in_order<T, E>(
    items: impl Iterator<Item = Result<T, ReadError>>,
    map: impl Fn(T) -> MappedChunk + Sync,
    mut sink: impl FnMut(MappedChunk) -> Result<(), E>,
) -> Result<(), E>
where
    T: Send,
    E: From<ReadError>,
{
    let window = rayon::current_num_threads().max(1) * 2 + 1;
    // A task that panics sends its panic, to be raised here rather than leave us waiting.
    type Done = (u64, std::thread::Result<MappedChunk>);
    let (tx, rx) = mpsc::channel::<Done>();
    let map = &map;
    rayon::in_place_scope(|scope| {
        let mut done: BTreeMap<u64, MappedChunk> = BTreeMap::new();
        let (mut sent, mut next) = (0u64, 0u64);
        // Waits for one more result and hands on every result that is next in order.
        let mut settle = |done: &mut BTreeMap<u64, MappedChunk>, next: &mut u64| {
            match rx.recv() {
                Ok((i, Ok(m))) => {
                    done.insert(i, m);
                }
                Ok((_, Err(panic))) => std::panic::resume_unwind(panic),
                Err(_) => {}
            }
            while let Some(m) = done.remove(next) {
                *next += 1;
                sink(m)?;
            }
            Ok::<(), E>(())
        };
        for item in items {
            let item = match item {
                Ok(item) => item,
                Err(e) => {
                    // What was read before the source broke is still handed on.
                    while next < sent {
                        settle(&mut done, &mut next)?;
                    }
                    return Err(e.into());
                }
            };
            while sent - next >= window as u64 {
                settle(&mut done, &mut next)?;
            }
            let tx = tx.clone();
            let i = sent;
            scope.spawn(move |_| {
                let m = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| map(item)));
                let _ = tx.send((i, m));
            });
            sent += 1;
        }
        while next < sent {
            settle(&mut done, &mut next)?;
        }
        Ok(())
    })
}
