//! Mapping chunks in parallel with rayon while the reader thread keeps reading; results are
//! handed to the consumer in source order.

use std::collections::BTreeMap;
use std::sync::mpsc;

use rayon::prelude::*;
use zcrm_readers::{Block, Chunk, RawBlock, ReadError};

use crate::coerce::Outcome;
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

/// Maps every chunk of `chunks` with `mapper`, in parallel groups of a few chunks per rayon
/// thread, and calls `sink` with the results in source order. Stops at the first error of
/// the source or of the sink.
pub fn map_chunks<E>(
    chunks: impl Iterator<Item = Result<Chunk, ReadError>>,
    mapper: &Mapper,
    build: bool,
    mut sink: impl FnMut(MappedChunk) -> Result<(), E>,
) -> Result<(), E>
where
    E: From<ReadError>,
{
    let group = rayon::current_num_threads().max(1) * 2;
    let mut chunks = chunks.peekable();
    while chunks.peek().is_some() {
        let mut batch = Vec::with_capacity(group);
        for c in chunks.by_ref().take(group) {
            batch.push(c?);
        }
        let mapped: Vec<MappedChunk> =
            batch.into_par_iter().map(|c| mapper.map_chunk(c, build)).collect();
        for m in mapped {
            sink(m)?;
        }
    }
    Ok(())
}

/// Maps the raw blocks of a reader (see `zcrm_readers::RowReader::blocks`): each block is
/// decoded and mapped as one rayon task while the reader thread keeps reading, with a few
/// blocks in flight per rayon thread (no pause between groups), and `sink` is called with the
/// results in source order on the calling thread. Stops at the first error of the source or
/// of the sink.
pub fn map_blocks<E>(
    blocks: impl Iterator<Item = Result<RawBlock, ReadError>>,
    mapper: &Mapper,
    build: bool,
    mut sink: impl FnMut(MappedChunk) -> Result<(), E>,
) -> Result<(), E>
where
    E: From<ReadError>,
{
    let window = rayon::current_num_threads().max(1) * 2 + 1;
    // A task that panics sends its panic, to be raised here rather than leave us waiting.
    type Done = (u64, std::thread::Result<MappedChunk>);
    let (tx, rx) = mpsc::channel::<Done>();
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
        for block in blocks {
            let block = block?;
            while sent - next >= window as u64 {
                settle(&mut done, &mut next)?;
            }
            let tx = tx.clone();
            let i = sent;
            scope.spawn(move |_| {
                let m = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    mapper.map_block(&block.decode(), build)
                }));
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
