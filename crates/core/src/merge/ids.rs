//! Matching the IDs of the two sides of a pair.
use std::collections::{HashMap, HashSet};

use super::report::{IdExamples, IdReport};

#[derive(Default)]
struct Collector {
    seen: HashSet<String>,
    report: IdExamples,
}

impl Collector {
    fn add(&mut self, id: &str, max_examples: usize) {
        if self.seen.insert(id.to_string()) {
            self.report.count += 1;
            if self.report.examples.len() < max_examples {
                self.report.examples.push(id.to_string());
            }
        }
    }
}

/// The row of each protein ID, if both sides hold the same IDs once each (in any order);
/// otherwise every disagreement, counted, with up to `max_examples` IDs per category.
pub fn match_ids<'a>(
    nucleotide: &[String],
    protein: &'a [String],
    max_examples: usize,
) -> Result<HashMap<&'a str, usize>, Box<IdReport>> {
    let mut index = HashMap::with_capacity(protein.len());
    let mut dup_p = Collector::default();
    for (row, id) in protein.iter().enumerate() {
        if index.insert(id.as_str(), row).is_some() {
            dup_p.add(id, max_examples);
        }
    }
    let mut nuc_set = HashSet::with_capacity(nucleotide.len());
    let (mut dup_n, mut only_n) = (Collector::default(), Collector::default());
    for id in nucleotide {
        if !nuc_set.insert(id.as_str()) {
            dup_n.add(id, max_examples);
        }
        if !index.contains_key(id.as_str()) {
            only_n.add(id, max_examples);
        }
    }
    let mut only_p = Collector::default();
    for id in protein {
        if !nuc_set.contains(id.as_str()) {
            only_p.add(id, max_examples);
        }
    }
    let report = IdReport {
        only_nucleotide: only_n.report,
        only_protein: only_p.report,
        duplicated_nucleotide: dup_n.report,
        duplicated_protein: dup_p.report,
    };
    if report == IdReport::default() {
        Ok(index)
    } else {
        Err(Box::new(report))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn reordered_ids_match() {
        let n = ids(&["a", "b", "c"]);
        let p = ids(&["c", "a", "b"]);
        let index = match_ids(&n, &p, 5).unwrap();
        assert_eq!(index["a"], 1);
        assert_eq!(index["c"], 0);
    }

    #[test]
    fn every_disagreement_is_counted_with_capped_examples() {
        let n = ids(&["a", "b", "b", "x1", "x2", "x3"]);
        let p = ids(&["a", "a", "a", "b", "y"]);
        let report = match_ids(&n, &p, 2).unwrap_err();
        assert_eq!(report.only_nucleotide.count, 3);
        assert_eq!(report.only_nucleotide.examples, ["x1", "x2"]);
        assert_eq!(report.only_protein.count, 1);
        assert_eq!(report.only_protein.examples, ["y"]);
        assert_eq!(report.duplicated_nucleotide.count, 1);
        assert_eq!(report.duplicated_nucleotide.examples, ["b"]);
        assert_eq!(report.duplicated_protein.count, 1);
        assert_eq!(report.duplicated_protein.examples, ["a"]);
    }
}
