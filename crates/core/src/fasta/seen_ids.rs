//! The read IDs seen so far, for the duplicate-ID check: the one part of reading whose
//! memory grows with the number of reads.
//!
//! By default each ID is kept as a 56-bit fingerprint of its 128-bit xxh3 hash, 5 bytes in
//! an open-addressing table ([`Fingerprints`], 6.3–9.4 bytes a read). A fingerprint that
//! was seen before means a duplicate ID or, rarely, two IDs with the same fingerprint
//! (about N² / 2⁵⁷ such pairs among N reads: 0.003 at 20 million reads, 0.07 at 100
//! million), so a hit is only a "maybe": the caller then reads the inputs again up to that
//! record and keeps every ID from there on as its whole 128-bit hash ([`ExactIds`], 20–39
//! bytes a read), which decides exactly. That costs one more pass over the reads so far,
//! once per run, and only in a run that has a duplicate or such a rare pair.
use std::collections::HashSet;

use xxhash_rust::xxh3::xxh3_128;

/// What inserting an ID found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
    /// Not seen before (now it is).
    New,
    /// Seen before, certainly.
    Earlier,
    /// Its fingerprint was seen before: the same ID or another with the same fingerprint.
    Maybe,
}

/// The IDs seen so far, by fingerprint or exactly.
pub(crate) enum SeenIds {
    Fingerprints(Fingerprints),
    Exact(ExactIds),
}

impl SeenIds {
    /// Inserts `id`; says whether it was seen before.
    pub(crate) fn insert(&mut self, id: &str) -> Seen {
        let hash = xxh3_128(id.as_bytes());
        match self {
            SeenIds::Fingerprints(prints) => prints.insert(hash as u64),
            SeenIds::Exact(exact) => exact.insert(hash),
        }
    }
}

/// The 128-bit hashes of the IDs, in 256 sets by the hash's top byte. One set would
/// double in one step, holding the old table and one twice its size at once (57 bytes a
/// read at the peak); 256 sets grow one at a time, so the peak is that of a set of tables
/// between half and seven eighths full: 17 bytes a slot, 20–39 bytes a read.
pub(crate) struct ExactIds {
    sets: Vec<HashSet<u128>>,
}

impl Default for ExactIds {
    fn default() -> Self {
        Self {
            sets: vec![HashSet::new(); 256],
        }
    }
}

impl ExactIds {
    fn insert(&mut self, hash: u128) -> Seen {
        let set = (hash >> 120) as usize;
        if self.sets[set].insert(hash) {
            Seen::New
        } else {
            Seen::Earlier
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.sets.iter().map(HashSet::len).sum()
    }
}

/// Bits of the hash that pick a table.
const TABLE_BITS: u32 = 16;
/// Bytes a fingerprint's remainder takes in its table.
const SLOT_BYTES: usize = 5;
/// The remainder's width in the tables used for reads (tests use fewer bits, to make
/// different IDs share fingerprints).
pub(crate) const REMAINDER_BITS: u32 = 40;

/// Fingerprints of 16 + `remainder_bits` bits of the hash: the top 16 bits pick one of
/// 65,536 tables, which keeps the next `remainder_bits` (0 stands for an empty slot, so a
/// remainder of 0 is kept as 1). The tables are linear-probing arrays of 5-byte slots,
/// grown by half when four fifths full; many small tables grow one at a time, so growing
/// never holds two copies of the whole set.
pub(crate) struct Fingerprints {
    tables: Vec<Table>,
    remainder_bits: u32,
}

impl Fingerprints {
    /// Fingerprints with remainders of `remainder_bits` (1..=40) bits.
    pub(crate) fn new(remainder_bits: u32) -> Self {
        Self {
            tables: (0..1usize << TABLE_BITS)
                .map(|_| Table::default())
                .collect(),
            remainder_bits: remainder_bits.clamp(1, 8 * SLOT_BYTES as u32),
        }
    }

    fn insert(&mut self, hash: u64) -> Seen {
        let (table, remainder) = fingerprint(hash, self.remainder_bits);
        if self.tables[table].insert(remainder, self.remainder_bits) {
            Seen::New
        } else {
            Seen::Maybe
        }
    }

    /// Bytes the tables' slots take.
    #[cfg(test)]
    pub(crate) fn slot_bytes(&self) -> usize {
        self.tables.iter().map(|t| t.slots.len()).sum()
    }
}

/// The table and remainder of a 64-bit hash (the low half of an ID's xxh3-128).
pub(crate) fn fingerprint(hash: u64, remainder_bits: u32) -> (usize, u64) {
    let table = (hash >> (64 - TABLE_BITS)) as usize;
    let mask = (1u64 << remainder_bits) - 1;
    let remainder = ((hash >> (64 - TABLE_BITS - remainder_bits)) & mask).max(1);
    (table, remainder)
}

/// One table: `slots.len() / SLOT_BYTES` slots of little-endian remainders, 0 = empty.
#[derive(Default)]
struct Table {
    slots: Box<[u8]>,
    len: u32,
}

impl Table {
    fn capacity(&self) -> usize {
        self.slots.len() / SLOT_BYTES
    }

    /// Whether `remainder` is new here (and now kept).
    fn insert(&mut self, remainder: u64, bits: u32) -> bool {
        if (self.len as usize + 1) * 5 > self.capacity() * 4 {
            self.grow(bits);
        }
        let capacity = self.capacity();
        let mut slot = home(remainder, capacity, bits);
        loop {
            match self.get(slot) {
                0 => {
                    self.set(slot, remainder);
                    self.len += 1;
                    return true;
                }
                kept if kept == remainder => return false,
                _ => slot = if slot + 1 == capacity { 0 } else { slot + 1 },
            }
        }
    }

    fn grow(&mut self, bits: u32) {
        let capacity = (self.capacity() * 3 / 2).max(8);
        let old = std::mem::replace(&mut self.slots, vec![0; capacity * SLOT_BYTES].into());
        for kept in old.chunks_exact(SLOT_BYTES).map(read_slot) {
            if kept != 0 {
                let mut slot = home(kept, capacity, bits);
                while self.get(slot) != 0 {
                    slot = if slot + 1 == capacity { 0 } else { slot + 1 };
                }
                self.set(slot, kept);
            }
        }
    }

    fn get(&self, slot: usize) -> u64 {
        read_slot(&self.slots[slot * SLOT_BYTES..(slot + 1) * SLOT_BYTES])
    }

    fn set(&mut self, slot: usize, remainder: u64) {
        self.slots[slot * SLOT_BYTES..(slot + 1) * SLOT_BYTES]
            .copy_from_slice(&remainder.to_le_bytes()[..SLOT_BYTES]);
    }
}

fn read_slot(bytes: &[u8]) -> u64 {
    let mut value = [0u8; 8];
    value[..SLOT_BYTES].copy_from_slice(bytes);
    u64::from_le_bytes(value)
}

/// The slot a remainder starts its probe at: its position scaled to the capacity (the
/// remainder is uniformly spread, so its top bits are as good as a second hash).
fn home(remainder: u64, capacity: usize, bits: u32) -> usize {
    ((remainder as u128 * capacity as u128) >> bits) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|k| format!("read_{k}/1")).collect()
    }

    #[test]
    fn fingerprints_find_every_repeat_and_take_under_ten_bytes_a_read() {
        let mut seen = SeenIds::Fingerprints(Fingerprints::new(REMAINDER_BITS));
        let ids = ids(1_000_000);
        assert!(ids.iter().all(|id| seen.insert(id) == Seen::New), "all new");
        assert!(
            ids.iter().all(|id| seen.insert(id) == Seen::Maybe),
            "all seen"
        );
        assert_eq!(seen.insert("read_0/2"), Seen::New);
        let SeenIds::Fingerprints(prints) = &seen else {
            unreachable!()
        };
        let used = prints.tables.iter().filter(|t| t.len > 0).count();
        assert!(used > 65_000, "the IDs spread over the tables: {used} used");
        let kept: u64 = prints.tables.iter().map(|t| u64::from(t.len)).sum();
        assert_eq!(kept, 1_000_001);
        let per_read = prints.slot_bytes() as f64 / 1_000_001.0;
        assert!((5.0..10.0).contains(&per_read), "{per_read} bytes a read");
    }

    #[test]
    fn exact_ids_find_every_repeat_across_their_sets() {
        let mut seen = SeenIds::Exact(ExactIds::default());
        let ids = ids(20_000);
        assert!(ids.iter().all(|id| seen.insert(id) == Seen::New), "all new");
        assert!(ids.iter().all(|id| seen.insert(id) == Seen::Earlier));
        let SeenIds::Exact(exact) = &seen else {
            unreachable!()
        };
        let used = exact.sets.iter().filter(|s| !s.is_empty()).count();
        assert_eq!(used, 256, "the IDs spread over every set");
        assert_eq!(exact.len(), 20_000);
    }

    #[test]
    fn narrow_fingerprints_collide_and_say_maybe_for_ids_never_seen() {
        // 2 remainder bits: 18-bit fingerprints, so 5,000 IDs share many.
        let mut seen = SeenIds::Fingerprints(Fingerprints::new(2));
        let maybes = ids(5_000)
            .iter()
            .filter(|id| seen.insert(id) == Seen::Maybe)
            .count();
        assert!(maybes > 10, "{maybes} shared fingerprints");
        assert!(maybes < 5_000);
    }

    #[test]
    fn a_remainder_of_zero_is_kept_as_one() {
        let mut prints = Fingerprints::new(REMAINDER_BITS);
        let table = 7u64 << (64 - TABLE_BITS);
        let remainder = |r: u64| table | (r << (64 - TABLE_BITS - REMAINDER_BITS));
        assert_eq!(prints.insert(remainder(0)), Seen::New);
        assert_eq!(
            prints.insert(remainder(1)),
            Seen::Maybe,
            "0 and 1 are one print"
        );
        assert_eq!(prints.insert(remainder(2)), Seen::New);
        // The bits below the fingerprint do not count.
        assert_eq!(prints.insert(remainder(2) | 0xff), Seen::Maybe);
    }

    #[test]
    fn probes_wrap_around_the_end_of_a_table() {
        let mut table = Table::default();
        // Remainders near the top all start their probe at the last slot and wrap.
        let top = (1u64 << 40) - 1;
        let remainders: Vec<u64> = (0..7).map(|k| top - k).collect();
        for &r in &remainders {
            assert!(table.insert(r, 40), "{r}");
        }
        assert!(remainders.iter().all(|&r| !table.insert(r, 40)), "again");
        assert_eq!(table.len, 7);
        let capacity = table.capacity();
        assert!(
            table.get(0) != 0,
            "the probe wrapped to slot 0 of {capacity}"
        );
    }
}
