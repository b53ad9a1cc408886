//! Token-budget batches: sequences sorted by length (longest first), packed so that a
//! batch's padded size (`rows × longest`) stays within the budget. Sorting keeps padding
//! small; the indexes let results go back to input order.

/// One batch: indexes into the file's sequences, longest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub indices: Vec<usize>,
    /// Tokens of the longest (first) sequence: every row is padded to this.
    pub width: usize,
}

impl Batch {
    /// Padded size in tokens.
    pub fn padded_tokens(&self) -> usize {
        self.indices.len() * self.width
    }
}

/// Pack sequences of `lengths` tokens into batches of at most `budget` padded tokens. A
/// sequence longer than the budget gets a batch of its own. Ties keep input order, so the
/// plan is deterministic.
pub fn plan_batches(lengths: &[usize], budget: usize) -> Vec<Batch> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by(|&a, &b| lengths[b].cmp(&lengths[a]).then(a.cmp(&b)));
    let mut batches = Vec::new();
    let mut current: Option<Batch> = None;
    for index in order {
        let len = lengths[index];
        if let Some(batch) = current.as_mut() {
            // Sorted longest first: adding a row costs the batch's width.
            if (batch.indices.len() + 1) * batch.width <= budget {
                batch.indices.push(index);
                continue;
            }
            batches.extend(current.take());
        }
        current = Some(Batch {
            indices: vec![index],
            width: len,
        });
    }
    batches.extend(current);
    batches
}

/// Split a batch's rows into `parts` nearly equal consecutive pieces (for a retry after
/// running out of memory); never more pieces than rows.
pub fn split_rows(indices: &[usize], parts: usize) -> Vec<&[usize]> {
    let parts = parts.clamp(1, indices.len().max(1));
    let size = indices.len().div_ceil(parts);
    indices.chunks(size.max(1)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn packs_longest_first_within_budget() {
        let lengths = [3, 10, 5, 10, 1];
        let batches = plan_batches(&lengths, 20);
        assert_eq!(
            batches,
            vec![
                Batch {
                    indices: vec![1, 3],
                    width: 10
                },
                Batch {
                    indices: vec![2, 0, 4],
                    width: 5
                },
            ]
        );
        // A sequence above the budget still runs, alone.
        let batches = plan_batches(&[50, 2, 2], 10);
        assert_eq!(
            batches[0],
            Batch {
                indices: vec![0],
                width: 50
            }
        );
        assert_eq!(batches[1].indices, vec![1, 2]);
        assert!(plan_batches(&[], 10).is_empty());
    }

    #[test]
    fn splits_rows_evenly() {
        let rows = [7, 8, 9, 10, 11];
        assert_eq!(split_rows(&rows, 1), vec![&rows[..]]);
        assert_eq!(split_rows(&rows, 2), vec![&rows[..3], &rows[3..]]);
        assert_eq!(split_rows(&rows, 64).len(), 5);
    }

    proptest! {
        #[test]
        fn every_sequence_once_and_budget_kept(
            lengths in proptest::collection::vec(1usize..600, 0..200),
            budget in 1usize..5000,
        ) {
            let batches = plan_batches(&lengths, budget);
            let mut seen: Vec<usize> = batches.iter().flat_map(|b| b.indices.clone()).collect();
            seen.sort_unstable();
            prop_assert_eq!(seen, (0..lengths.len()).collect::<Vec<_>>());
            for b in &batches {
                prop_assert!(!b.indices.is_empty());
                prop_assert_eq!(b.width, b.indices.iter().map(|&i| lengths[i]).max().unwrap());
                prop_assert!(b.padded_tokens() <= budget || b.indices.len() == 1);
            }
        }
    }
}
