//! `prepare`: reads → chunks → six-frame (nucleotide, protein) pairs → shards, exactly as
//! the original tool (../shared/docs/virnucpro-reference.md §1–4), streaming and in order.
//!
//! Shape (after Nextclade): one reader thread parses and checks records and cuts them into
//! batches of chunks; `threads` workers translate and render batches; the calling thread
//! writes them in input order. At most a fixed number of batches is in flight, so memory
//! does not grow with the input. Everything is written into a staging folder inside the
//! output folder and moved into place only when complete; `prepare.json` is written last,
//! so its presence means the outputs are whole.

mod layout;
mod record;
mod render;
mod run;
mod writer;

pub use layout::{chunked_file_name, shard_file_name, MANIFEST_FILE, NUCLEOTIDE_DIR, PROTEIN_DIR};
pub use record::{PreparedRecord, PreparedRecordError, ShardInfo};
pub use run::{
    prepare, prepare_streaming, PrepareError, PrepareOptions, PrepareProgress, PrepareSummary,
    StagedShard,
};

use crate::frames::Frame;

/// Kept frames per frame type, in [`Frame::ALL`] order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameCounts(pub [u64; 6]);

impl FrameCounts {
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    pub fn get(&self, frame: Frame) -> u64 {
        self.0[frame.index()]
    }

    fn add(&mut self, other: &FrameCounts) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }
}

impl serde::Serialize for FrameCounts {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(6))?;
        for frame in Frame::ALL {
            map.serialize_entry(frame.suffix(), &self.get(frame))?;
        }
        map.end()
    }
}
