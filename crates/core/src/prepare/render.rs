//! Turning a batch of chunks into the bytes of the three outputs (the workers' job).
use std::ops::Range;
use std::sync::Arc;

use super::FrameCounts;
use crate::chunk::ChunkPlan;
use crate::fasta::Read;
use crate::frames::SixFrames;

/// Line width of the chunked reads file: Biopython's `SeqIO.write` wraps at 60.
const CHUNKED_LINE_WIDTH: usize = 60;

/// Some chunks of one read (a long read is spread over several batches).
pub(super) struct WorkItem {
    pub read: Arc<Read>,
    pub chunks: Range<usize>,
    /// This item holds the read's last chunk (the read is counted once, here).
    pub last_part: bool,
}

pub(super) struct Batch {
    pub seq_no: u64,
    pub items: Vec<WorkItem>,
}

/// The rendered outputs of one batch. Frame `i`'s records are
/// `nucleotide[nuc_ends[i-1]..nuc_ends[i]]` and likewise for proteins.
#[derive(Default)]
pub(super) struct Rendered {
    pub seq_no: u64,
    pub chunked: Vec<u8>,
    pub nucleotide: Vec<u8>,
    pub protein: Vec<u8>,
    pub nuc_ends: Vec<usize>,
    pub prot_ends: Vec<usize>,
    pub frames: FrameCounts,
    pub chunks: u64,
    pub reads: u64,
    pub bases: u64,
}

pub(super) fn render(batch: &Batch, chunk_len: usize, six: &mut SixFrames) -> Rendered {
    let mut out = Rendered {
        seq_no: batch.seq_no,
        ..Rendered::default()
    };
    let mut chunk_id = Vec::with_capacity(64);
    for item in &batch.items {
        let read = &item.read;
        let plan = ChunkPlan::new(read.seq.len(), chunk_len);
        for j in item.chunks.clone() {
            let chunk = &read.seq[plan.chunk(j)];
            chunk_id.clear();
            chunk_id.extend_from_slice(read.id.as_bytes());
            chunk_id.extend_from_slice(b"_chunk_");
            chunk_id.extend_from_slice(itoa::Buffer::new().format(j + 1).as_bytes());
            push_wrapped_record(&mut out.chunked, &chunk_id, chunk);
            six.translate(chunk, |frame, nucleotide, protein| {
                push_frame_record(&mut out.nucleotide, &chunk_id, frame.suffix(), nucleotide);
                push_frame_record(&mut out.protein, &chunk_id, frame.suffix(), protein);
                out.nuc_ends.push(out.nucleotide.len());
                out.prot_ends.push(out.protein.len());
                out.frames.0[frame.index()] += 1;
            });
            out.chunks += 1;
        }
        if item.last_part {
            out.reads += 1;
            out.bases += read.seq.len() as u64;
        }
    }
    out
}

fn push_wrapped_record(out: &mut Vec<u8>, id: &[u8], seq: &[u8]) {
    out.push(b'>');
    out.extend_from_slice(id);
    out.push(b'\n');
    for line in seq.chunks(CHUNKED_LINE_WIDTH) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
}

/// Frame records are written on one line each, as the original does.
fn push_frame_record(out: &mut Vec<u8>, chunk_id: &[u8], suffix: &str, seq: &[u8]) {
    out.push(b'>');
    out.extend_from_slice(chunk_id);
    out.extend_from_slice(suffix.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(seq);
    out.push(b'\n');
}
