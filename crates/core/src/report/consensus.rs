//! The per-chunk verdict of `prediction_results_highestscore.csv`.
//!
//! Memory stays flat however many chunks there are: at most a fixed number of chunk groups
//! are held, and when that many are, they are written in key order to a run on disk (a
//! spill file in the reports' folder); the verdicts merge the runs and the groups still in
//! memory, in key order, combining a chunk's maxima across runs.
use std::cmp::Reverse;
use std::collections::{btree_map, BTreeMap, BinaryHeap};
use std::path::{Path, PathBuf};

use super::error::ReportError;
use super::spill::{SpillError, SpillReader, SpillWriter};
use super::PredictionRow;

/// Chunk groups held in memory before they are spilled to a run. A group of a 20-character
/// chunk ID takes some 80 bytes (the key, its allocation, the B-tree's share; measured),
/// so this is about 21 MB, and a run on disk 8 MB.
pub const GROUP_LIMIT: usize = 1 << 18;

/// Runs kept before all of them are merged into one, so that the files open at once (and
/// their read buffers, 64 KiB each) stay bounded.
const MAX_RUNS: usize = 64;

/// `Sequence_ID` minus its last two characters (the strand and frame suffix, `F1`..`R3`), as
/// Python's `id[:-2]`: characters, not bytes; an ID shorter than two characters gives `""`.
pub fn modified_id(id: &str) -> &str {
    match id.char_indices().rev().nth(1) {
        Some((at, _)) => &id[..at],
        None => "",
    }
}

/// Running maxima of `score1` and `score2` per `Modified_ID`, fed one row at a time.
///
/// Iteration is in `Modified_ID` order: pandas' `groupby` sorts its string keys in Python
/// order (code points), which is the byte order of their UTF-8.
#[derive(Debug)]
pub struct Consensus {
    groups: BTreeMap<String, (f32, f32)>,
    group_limit: usize,
    /// Where runs are spilled.
    dir: PathBuf,
    /// Spilled runs, oldest first: each sorted by key, each key once.
    runs: Vec<SpillReader>,
    runs_written: u64,
}

impl Consensus {
    /// Spilling to folder `spill_dir` (the reports' folder) beyond [`GROUP_LIMIT`] groups.
    pub fn new(spill_dir: &Path) -> Self {
        Self::with_group_limit(spill_dir, GROUP_LIMIT)
    }

    /// Holding at most `group_limit` groups (at least one) in memory.
    pub fn with_group_limit(spill_dir: &Path, group_limit: usize) -> Self {
        Self {
            groups: BTreeMap::new(),
            group_limit: group_limit.max(1),
            dir: spill_dir.to_path_buf(),
            runs: Vec::new(),
            runs_written: 0,
        }
    }

    /// Add one scored frame to its chunk's maxima. NaN scores are skipped, as pandas' `max`
    /// skips them. Fails only when a run cannot be spilled.
    pub fn add(&mut self, row: &PredictionRow) -> Result<(), ReportError> {
        let key = modified_id(&row.id);
        let (p_others, p_virus) = (row.p_others, row.p_virus);
        if let Some((max1, max2)) = self.groups.get_mut(key) {
            *max1 = nan_max(*max1, p_others);
            *max2 = nan_max(*max2, p_virus);
            return Ok(());
        }
        if self.groups.len() >= self.group_limit {
            self.spill().map_err(|e| e.at(&self.dir))?;
        }
        self.groups.insert(key.to_owned(), (p_others, p_virus));
        Ok(())
    }

    /// Runs spilled so far (merged runs included).
    pub fn runs_written(&self) -> u64 {
        self.runs_written
    }

    /// `(Modified_ID, Is_Virus)` in `Modified_ID` order, with
    /// `Is_Virus = max(score2) >= max(score1)` over the group: the two maxima may come from
    /// different frames, and a tie is virus.
    ///
    /// The original compares the float64 values it reads back from `prediction_results.txt`;
    /// those are the shortest round-trip decimals of the float32 scores, which keep the
    /// float32 order and equality, so comparing the float32s gives the same verdicts.
    pub fn into_verdicts(self) -> Result<Verdicts, ReportError> {
        let dir = self.dir.clone();
        let merge = self.into_merge().map_err(|e| e.at(&dir))?;
        Ok(Verdicts { merge, dir })
    }

    /// Every group in key order, the runs' and those in memory.
    fn into_merge(self) -> Result<GroupMerge, SpillError> {
        let mut sources: Vec<Source> = self.runs.into_iter().map(Source::Run).collect();
        // Last: the newest frames, so that maxima combine in the order frames came.
        sources.push(Source::Memory(self.groups.into_iter()));
        GroupMerge::new(sources)
    }

    /// Write the groups in memory to a new run, and merge the runs into one when there are
    /// [`MAX_RUNS`].
    fn spill(&mut self) -> Result<(), SpillError> {
        let groups = std::mem::take(&mut self.groups);
        tracing::debug!(groups = groups.len(), dir = %self.dir.display(), "spilling chunk groups");
        let mut run = SpillWriter::create(&self.dir)?;
        for (key, (max1, max2)) in groups {
            write_group(&mut run, &key, max1, max2)?;
        }
        self.runs.push(run.into_reader()?);
        self.runs_written += 1;
        if self.runs.len() >= MAX_RUNS {
            let runs = std::mem::take(&mut self.runs);
            let mut merge = GroupMerge::new(runs.into_iter().map(Source::Run).collect())?;
            let mut merged = SpillWriter::create(&self.dir)?;
            while let Some((key, max1, max2)) = merge.next_group()? {
                write_group(&mut merged, &key, max1, max2)?;
            }
            self.runs.push(merged.into_reader()?);
            self.runs_written += 1;
        }
        Ok(())
    }
}

/// A run's record: the key, then both maxima.
fn write_group(run: &mut SpillWriter, key: &str, max1: f32, max2: f32) -> Result<(), SpillError> {
    run.key(key)?;
    run.f32(max1)?;
    run.f32(max2)
}

/// A chunk's key and maxima.
type Group = (String, f32, f32);

/// Groups in key order from one source.
#[derive(Debug)]
enum Source {
    Run(SpillReader),
    Memory(btree_map::IntoIter<String, (f32, f32)>),
}

impl Source {
    fn next_group(&mut self) -> Result<Option<Group>, SpillError> {
        match self {
            Source::Memory(groups) => Ok(groups.next().map(|(k, (a, b))| (k, a, b))),
            Source::Run(run) => {
                if run.at_end()? {
                    return Ok(None);
                }
                Ok(Some((run.key()?, run.f32()?, run.f32()?)))
            }
        }
    }
}

/// A k-way merge of sources in key order. A key found in several sources is combined in
/// source order (oldest first) with the same rule as [`Consensus::add`]; that gives the
/// very maxima (to the bit) one pass over the frames would, since combining running maxima
/// of consecutive stretches of frames is the running maximum of them all.
#[derive(Debug)]
struct GroupMerge {
    sources: Vec<Source>,
    /// Each source's next maxima, under its key in `heap`.
    heads: Vec<(f32, f32)>,
    /// The next key of each source that has one, smallest (then oldest source) first.
    heap: BinaryHeap<Reverse<(String, usize)>>,
}

impl GroupMerge {
    fn new(sources: Vec<Source>) -> Result<Self, SpillError> {
        let mut merge = Self {
            heads: vec![(0.0, 0.0); sources.len()],
            heap: BinaryHeap::with_capacity(sources.len()),
            sources,
        };
        for source in 0..merge.sources.len() {
            merge.pull(source)?;
        }
        Ok(merge)
    }

    fn pull(&mut self, source: usize) -> Result<(), SpillError> {
        if let Some((key, max1, max2)) = self.sources[source].next_group()? {
            self.heads[source] = (max1, max2);
            self.heap.push(Reverse((key, source)));
        }
        Ok(())
    }

    fn next_group(&mut self) -> Result<Option<Group>, SpillError> {
        let Some(Reverse((key, source))) = self.heap.pop() else {
            return Ok(None);
        };
        let (mut max1, mut max2) = self.heads[source];
        // A source's next key is greater than this one, so it cannot join this group.
        self.pull(source)?;
        while let Some(Reverse((next, _))) = self.heap.peek() {
            if *next != key {
                break;
            }
            let Some(Reverse((_, source))) = self.heap.pop() else {
                break;
            };
            let (a, b) = self.heads[source];
            max1 = nan_max(max1, a);
            max2 = nan_max(max2, b);
            self.pull(source)?;
        }
        Ok(Some((key, max1, max2)))
    }
}

/// `(Modified_ID, Is_Virus)` in `Modified_ID` order: [`Consensus::into_verdicts`].
#[derive(Debug)]
pub struct Verdicts {
    merge: GroupMerge,
    dir: PathBuf,
}

impl Iterator for Verdicts {
    type Item = Result<(String, bool), ReportError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.merge.next_group() {
            Ok(group) => group.map(|(id, max1, max2)| Ok((id, max2 >= max1))),
            Err(e) => Some(Err(e.at(&self.dir))),
        }
    }
}

/// pandas' NaN-skipping maximum: NaN only when both are NaN.
pub(super) fn nan_max(a: f32, b: f32) -> f32 {
    if a.is_nan() || b > a {
        b
    } else {
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, p_others: f32, p_virus: f32) -> PredictionRow {
        PredictionRow {
            id: id.to_owned(),
            p_others,
            p_virus,
        }
    }

    fn verdicts(rows: &[PredictionRow]) -> Vec<(String, bool)> {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Consensus::new(dir.path());
        for r in rows {
            c.add(r).unwrap();
        }
        c.into_verdicts().unwrap().map(Result::unwrap).collect()
    }

    /// A fixed-seed splitmix64, for reproducible random rows.
    fn splitmix(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Scores where the order of combination shows in the bits: signed zeros that compare
    /// equal, NaNs of either sign, and a rarer greater value.
    const SCORES: [f32; 7] = [0.0, -0.0, 0.0, -0.0, f32::NAN, -f32::NAN, 0.5];

    #[test]
    fn spilled_maxima_are_those_of_one_pass_to_the_bit() {
        // Keys of one to three characters (155 of them, a few frames each), non-ASCII too.
        let alphabet = ['a', 'é', '🦠', '_', 'Z'];
        let mut state = 7;
        let rows: Vec<PredictionRow> = (0..800)
            .map(|_| {
                let mut pick = |n: usize| splitmix(&mut state) as usize % n;
                let key: String = (0..1 + pick(3)).map(|_| alphabet[pick(5)]).collect();
                let (a, b) = (SCORES[pick(SCORES.len())], SCORES[pick(SCORES.len())]);
                row(&format!("{key}F{}", 1 + pick(3)), a, b)
            })
            .collect();
        // The rule of one pass over the frames: the first value as it is, then `nan_max`.
        let mut expected: BTreeMap<String, (u32, u32)> = BTreeMap::new();
        let mut one_pass: BTreeMap<String, (f32, f32)> = BTreeMap::new();
        for r in &rows {
            let m = one_pass
                .entry(modified_id(&r.id).to_owned())
                .or_insert((r.p_others, r.p_virus));
            *m = (nan_max(m.0, r.p_others), nan_max(m.1, r.p_virus));
        }
        for (k, (a, b)) in one_pass {
            expected.insert(k, (a.to_bits(), b.to_bits()));
        }
        for limit in [1, 2, 3, 5, usize::MAX] {
            let dir = tempfile::tempdir().unwrap();
            let mut c = Consensus::with_group_limit(dir.path(), limit);
            for r in &rows {
                c.add(r).unwrap();
            }
            if limit == 1 {
                // Enough runs to be merged into one several times over.
                assert!(
                    c.runs_written() > 3 * MAX_RUNS as u64,
                    "{}",
                    c.runs_written()
                );
            }
            let mut merge = c.into_merge().unwrap();
            let mut got = BTreeMap::new();
            while let Some((k, a, b)) = merge.next_group().unwrap() {
                assert!(got.insert(k, (a.to_bits(), b.to_bits())).is_none());
            }
            assert_eq!(got, expected, "limit {limit}");
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        }
    }

    #[test]
    fn modified_id_drops_two_characters() {
        assert_eq!(modified_id("read_1_chunk_1F1"), "read_1_chunk_1");
        assert_eq!(modified_id("ab"), "");
        assert_eq!(modified_id("a"), "");
        assert_eq!(modified_id(""), "");
        assert_eq!(modified_id("xyzF1"), "xyz");
        // Characters, not bytes: 'é' is two bytes, '🦠' four.
        assert_eq!(modified_id("caféR2"), "café");
        assert_eq!(modified_id("ab🦠é"), "ab");
        assert_eq!(modified_id("é🦠"), "");
    }

    #[test]
    fn tie_is_virus() {
        assert_eq!(verdicts(&[row("aF1", 0.5, 0.5)]), [("a".into(), true)]);
    }

    #[test]
    fn a_group_of_one() {
        assert_eq!(
            verdicts(&[row("aF1", 0.75, 0.25), row("bR3", 0.25, 0.75)]),
            [("a".into(), false), ("b".into(), true)]
        );
    }

    #[test]
    fn maxima_may_come_from_different_frames() {
        // max(score1) = 0.6 from F1, max(score2) = 0.7 from F2.
        let rows = [
            row("cF1", 0.6, 0.4),
            row("cF2", 0.3, 0.7),
            row("cR1", 0.55, 0.45),
        ];
        assert_eq!(verdicts(&rows), [("c".into(), true)]);
        // One frame says virus, but another frame's score1 beats every score2.
        let rows = [row("dF1", 0.4, 0.6), row("dR2", 0.9, 0.1)];
        assert_eq!(verdicts(&rows), [("d".into(), false)]);
        // Every frame is labelled others (a tie frame included), yet the chunk is virus.
        let rows = [row("gF1", 0.5, 0.5), row("gF3", 0.5, 0.3)];
        let labels: Vec<_> = rows.iter().map(PredictionRow::label).collect();
        assert_eq!(labels, [super::super::Label::Others; 2]);
        assert_eq!(verdicts(&rows), [("g".into(), true)]);
    }

    #[test]
    fn sorted_by_modified_id_in_byte_order() {
        let rows = [
            row("read_2_chunk_1F1", 0.9, 0.1),
            row("read_10_chunk_1F1", 0.1, 0.9),
            row("read_1_chunk_1F1", 0.9, 0.1),
            row("Zeta_F1", 0.1, 0.9),
            row("éF1", 0.1, 0.9),
            row("read_10_chunk_1R3", 0.95, 0.05),
        ];
        let ids: Vec<String> = verdicts(&rows).into_iter().map(|(id, _)| id).collect();
        assert_eq!(
            ids,
            [
                "Zeta_",
                "read_10_chunk_1",
                "read_1_chunk_1",
                "read_2_chunk_1",
                "é"
            ]
        );
    }

    #[test]
    fn nan_scores_are_skipped_like_pandas() {
        let rows = [row("eF1", f32::NAN, 0.3), row("eF2", 0.2, f32::NAN)];
        assert_eq!(verdicts(&rows), [("e".into(), true)]);
        let rows = [row("fF1", f32::NAN, 0.3)];
        assert_eq!(verdicts(&rows), [("f".into(), false)]);
    }
}
