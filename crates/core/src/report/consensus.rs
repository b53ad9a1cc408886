//! The per-chunk verdict of `prediction_results_highestscore.csv`.
use std::collections::BTreeMap;

use super::PredictionRow;

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
#[derive(Debug, Clone, Default)]
pub struct Consensus {
    groups: BTreeMap<String, (f32, f32)>,
}

impl Consensus {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add one scored frame to its chunk's maxima. NaN scores are skipped, as pandas' `max`
    /// skips them.
    pub fn add(&mut self, row: &PredictionRow) {
        let key = modified_id(&row.id);
        let (p_others, p_virus) = (row.p_others, row.p_virus);
        match self.groups.get_mut(key) {
            Some((max1, max2)) => {
                *max1 = nan_max(*max1, p_others);
                *max2 = nan_max(*max2, p_virus);
            }
            None => {
                self.groups.insert(key.to_owned(), (p_others, p_virus));
            }
        }
    }

    pub fn len(&self) -> usize {
        self.groups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// `(Modified_ID, Is_Virus)` in `Modified_ID` order, with
    /// `Is_Virus = max(score2) >= max(score1)` over the group: the two maxima may come from
    /// different frames, and a tie is virus.
    ///
    /// The original compares the float64 values it reads back from `prediction_results.txt`;
    /// those are the shortest round-trip decimals of the float32 scores, which keep the
    /// float32 order and equality, so comparing the float32s gives the same verdicts.
    pub fn verdicts(&self) -> impl Iterator<Item = (&str, bool)> + '_ {
        self.groups
            .iter()
            .map(|(id, &(max1, max2))| (id.as_str(), max2 >= max1))
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
        let mut c = Consensus::new();
        for r in rows {
            c.add(r);
        }
        c.verdicts().map(|(id, v)| (id.to_owned(), v)).collect()
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
