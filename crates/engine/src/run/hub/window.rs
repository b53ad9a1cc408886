//! How many shards may be between their embedding and their scores at once. A run that
//! keeps no features holds each shard's rows in memory from its embedding to its classify
//! (and classify takes shards in order), so without a bound a fast encoder, or a slow
//! classify, would hold the rows of every shard of the input: memory growing with the
//! reads. The window holds back a shard's embedding jobs until the shards before it, up to
//! the window's size, are scored, failed or reused.
use std::collections::VecDeque;
use std::path::PathBuf;

use super::shard::{Shard, Shards, Step};
use super::Hub;

/// Shards in flight beyond two per device: enough that merge and classify never wait for
/// the embedding and the embedding never waits for them.
const SHARDS_BEYOND_DEVICES: usize = 4;

/// A shard's two prepared files: where each is staged, and where prepare moves it.
pub(super) type ShardPaths = [(PathBuf, Option<PathBuf>); 2];

pub(super) struct Window {
    /// Shards whose embedding jobs wait for room, in shard order.
    held: VecDeque<(usize, ShardPaths)>,
    /// Every shard before this one is done with its rows.
    settled_upto: usize,
    size: usize,
}

impl Window {
    pub fn new(devices: usize) -> Self {
        Self {
            held: VecDeque::new(),
            settled_upto: 0,
            size: 2 * devices.max(1) + SHARDS_BEYOND_DEVICES,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Hold shard `index`'s jobs until [`Window::ready`] lets them out.
    pub fn hold(&mut self, index: usize, paths: ShardPaths) {
        self.held.push_back((index, paths));
    }

    /// The held shards there is room for now, in order: those fewer than `size` shards
    /// after the first shard that still holds (or will hold) rows.
    pub fn ready(&mut self, shards: &Shards) -> Vec<(usize, ShardPaths)> {
        while self.settled_upto < shards.len() && settled(&shards[self.settled_upto]) {
            self.settled_upto += 1;
        }
        let limit = self.settled_upto + self.size;
        let room = self.held.iter().take_while(|(i, _)| *i < limit).count();
        self.held.drain(..room).collect()
    }
}

/// Whether a shard holds no rows and never will again: scored, failed, or its earlier
/// scores are replayed.
fn settled(shard: &Shard) -> bool {
    shard.scores_reused || shard.failed() || shard.classify != Step::Waiting
}

impl Hub<'_, '_, '_> {
    /// Queue shard `index`'s embedding jobs; they go out once the window has room.
    pub(super) fn hold_jobs(&mut self, index: usize, paths: ShardPaths) {
        self.window.hold(index, paths);
        self.release_jobs();
    }

    /// Hand out the held jobs the window has room for; once prepare is done and none is
    /// held, the engine is told that every job is out.
    pub(super) fn release_jobs(&mut self) {
        for (index, paths) in self.window.ready(&self.shards) {
            self.send_jobs(index, paths);
        }
        if self.prepare_done && self.window.is_empty() {
            self.outlets.jobs = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use virnucpro_core::prepare::ShardInfo;

    fn shards(n: usize) -> Shards {
        let mut shards = Shards::default();
        for index in 0..n {
            shards.push(ShardInfo {
                index,
                records: 10,
                nucleotide: format!("output_{index}.fa").into(),
                protein: format!("output_{index}.faa").into(),
            });
        }
        shards
    }

    fn paths() -> ShardPaths {
        [("a.fa".into(), None), ("a.faa".into(), None)]
    }

    fn indices(ready: Vec<(usize, ShardPaths)>) -> Vec<usize> {
        ready.into_iter().map(|(i, _)| i).collect()
    }

    #[test]
    fn the_window_grows_with_the_devices() {
        assert_eq!(Window::new(0).size, 6);
        assert_eq!(Window::new(1).size, 6);
        assert_eq!(Window::new(4).size, 12);
    }

    #[test]
    fn a_shard_goes_out_only_when_the_shards_a_window_before_it_are_done_with_their_rows() {
        let mut shards = shards(12);
        let mut window = Window::new(1);
        for index in 0..12 {
            window.hold(index, paths());
        }
        assert_eq!(indices(window.ready(&shards)), (0..6).collect::<Vec<_>>());
        assert!(window.ready(&shards).is_empty(), "nothing was scored");
        // Shard 1 scored: shard 0 still holds its rows, so nothing moves.
        shards[1].classify = Step::Ok;
        assert!(window.ready(&shards).is_empty());
        // Shard 0 scored: 0 and 1 are done, two more go out.
        shards[0].classify = Step::Ok;
        assert_eq!(indices(window.ready(&shards)), vec![6, 7]);
        // A failed shard and a shard whose scores are replayed hold no rows either.
        shards[2].protein = Step::Failed;
        shards[3].reuse_scores();
        assert_eq!(indices(window.ready(&shards)), vec![8, 9]);
        assert!(!window.is_empty());
        for shard in 4..8 {
            shards[shard].classify = Step::Failed;
        }
        assert_eq!(indices(window.ready(&shards)), vec![10, 11]);
        assert!(window.is_empty());
    }
}
