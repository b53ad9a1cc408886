//! Cutting a read into chunks of the expected length, with the original's overlap rule
//! (../shared/docs/virnucpro-reference.md §2).
//!
//! For a record of length `n` and chunk size `cs`: `k = ceil(n/cs)` chunks; the
//! `repeat = k*cs - n` surplus bases are spread as overlaps, `upper = lower + 1` for the
//! first `need` chunks and `lower` after, so chunk `j` starts at `j*cs - move_j`. The last
//! chunk is clipped at `n` and may be shorter than `cs`; a read shorter than `cs` gives one
//! short chunk. The quirks are kept because the released classifiers were trained on them.
use std::ops::Range;

/// The chunks of a read of length `len`, as ranges into the read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkPlan {
    read_len: usize,
    chunk_len: usize,
    count: usize,
    lower: usize,
    need: usize,
}

impl ChunkPlan {
    /// The plan for a read of `len` bases cut into chunks of `chunk_len` (> 0).
    /// A read of length 0 has no chunks (the original divides by zero on it).
    pub fn new(len: usize, chunk_len: usize) -> Self {
        assert!(chunk_len > 0, "chunk length must be positive");
        let count = len.div_ceil(chunk_len);
        if count == 0 {
            return Self {
                read_len: len,
                chunk_len,
                count,
                lower: 0,
                need: 0,
            };
        }
        let repeat = count * chunk_len - len;
        let lower = repeat / count;
        // The original's `need` may exceed `count - 1`; its zip then cuts the step list,
        // which is the same as every step being `upper`.
        let need = repeat - lower * (count - 1);
        Self {
            read_len: len,
            chunk_len,
            count,
            lower,
            need,
        }
    }

    /// Number of chunks.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Range of chunk `j` (0-based, `j < len()`) in the read.
    pub fn chunk(&self, j: usize) -> Range<usize> {
        debug_assert!(j < self.count);
        let upper_steps = j.min(self.need);
        let moved = upper_steps * (self.lower + 1) + (j - upper_steps) * self.lower;
        let start = j * self.chunk_len - moved;
        start..(start + self.chunk_len).min(self.read_len)
    }

    /// All chunk ranges in order.
    pub fn ranges(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        (0..self.count).map(|j| self.chunk(j))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The original Python loop, transcribed literally (steps list, zip, running move).
    fn python_chunks(n: usize, cs: usize) -> Vec<Range<usize>> {
        if n == 0 {
            return vec![];
        }
        let k = n.div_ceil(cs);
        let repeat = k * cs - n;
        let lower = (repeat as f64 / k as f64) as usize;
        let upper = lower + 1;
        let need = repeat as i64 - (lower * (k - 1)) as i64;
        let mut steps: Vec<usize> = Vec::new();
        steps.extend(std::iter::repeat_n(upper, need.max(0) as usize));
        let lowers = k as i64 - 1 - need;
        steps.extend(std::iter::repeat_n(lower, lowers.max(0) as usize));
        steps.push(0);
        let mut out = Vec::new();
        let mut move_step = 0usize;
        for (a, b) in (0..n).step_by(cs).zip(steps) {
            let start = if a > 1 { a - move_step } else { a };
            out.push(start..(start + cs).min(n));
            move_step += b;
        }
        out
    }

    #[test]
    fn documented_example_1200_by_500() {
        let plan = ChunkPlan::new(1200, 500);
        assert_eq!(plan.ranges().collect::<Vec<_>>(), vec![0..500, 399..899, 798..1200]);
    }

    #[test]
    fn short_and_exact_reads() {
        assert_eq!(ChunkPlan::new(120, 500).ranges().collect::<Vec<_>>(), vec![0..120]);
        assert_eq!(ChunkPlan::new(500, 500).ranges().collect::<Vec<_>>(), vec![0..500]);
        assert_eq!(ChunkPlan::new(1000, 500).ranges().collect::<Vec<_>>(), vec![0..500, 500..1000]);
        assert!(ChunkPlan::new(0, 500).is_empty());
    }

    proptest! {
        #[test]
        fn equals_the_original_loop(n in 1usize..20_000, cs in prop::sample::select(vec![1usize, 2, 3, 7, 300, 500])) {
            let plan = ChunkPlan::new(n, cs);
            prop_assert_eq!(plan.ranges().collect::<Vec<_>>(), python_chunks(n, cs));
        }

        #[test]
        fn chunks_cover_the_read_and_follow_the_overlap_rule(n in 1usize..50_000, cs in prop::sample::select(vec![300usize, 500])) {
            let plan = ChunkPlan::new(n, cs);
            let ranges: Vec<_> = plan.ranges().collect();
            prop_assert_eq!(ranges.len(), n.div_ceil(cs));
            prop_assert_eq!(ranges[0].start, 0);
            prop_assert_eq!(ranges.last().unwrap().end, n);
            for pair in ranges.windows(2) {
                // contiguous or overlapping, never a gap, always moving forward
                prop_assert!(pair[1].start <= pair[0].end);
                prop_assert!(pair[1].start > pair[0].start);
                let overlap = pair[0].end - pair[1].start;
                let lower = (ranges.len() * cs - n) / ranges.len();
                prop_assert!(overlap == lower || overlap == lower + 1, "overlap {} lower {}", overlap, lower);
            }
            for r in &ranges[..ranges.len() - 1] {
                prop_assert_eq!(r.len(), cs);
            }
        }
    }
}
