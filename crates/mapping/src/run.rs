//! Mapping chunks in parallel with rayon while the reader thread keeps reading; results are
//! handed to the consumer in source order.

use rayon::prelude::*;
use zcrm_readers::{Chunk, ReadError};

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
            match self.map_row(row, build) {
                Outcome::Valid(row, warns) => {
                    out.valid += 1;
                    out.rows.extend(row);
                    out.warnings.extend(warns);
                }
                Outcome::Rejected(r) => out.rejected.push(r),
            }
        }
        out
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
