use std::cell::{Cell, RefCell};
use std::rc::Rc;

use virnucpro_core::events::{ItemCounts, ItemFailure, RunStatus, RunSummary, StageOutcome};

use super::*;
use crate::api::{LogEvent, LogLevel};

const MS: Duration = Duration::from_millis(1);
const TICK: Duration = Duration::from_millis(20);

fn progress(stage: Stage, done: u64) -> ShellEvent {
    ShellEvent::Run(RunEvent::StageProgress {
        stage,
        done,
        total: Some(100_000),
        unit: "sequences".into(),
        rate: 1.0,
        eta_seconds: None,
    })
}

fn throughput(stage: Stage, device: &str, sequences: u64) -> ShellEvent {
    ShellEvent::Run(RunEvent::DeviceThroughput {
        stage,
        device: device.into(),
        sequences,
        tokens: sequences * 10,
        tokens_per_second: 5.0,
        elapsed_seconds: 1.0,
    })
}

fn failure(stage: Stage, n: usize) -> ShellEvent {
    ShellEvent::Run(RunEvent::Failure(ItemFailure {
        stage,
        item: format!("output_{n}"),
        kind: virnucpro_core::events::FailureKind::Corrupt,
        message: "bad".into(),
    }))
}

fn finished() -> ShellEvent {
    ShellEvent::Run(RunEvent::RunFinished(RunSummary {
        status: RunStatus::Partial,
        reads: 1,
        chunks: 1,
        frames_scored: 6,
        virus_chunks: 0,
        virus_reads: 0,
        failures: 1,
        seconds: 5.0,
        out_dir: "/run".into(),
    }))
}

/// 5000 events, one per simulated millisecond: every stage with its progress (two GPUs'
/// throughput in the embedding stages), failures, warnings and logs, the end of the run,
/// and a few stray events after it.
fn burst() -> Vec<ShellEvent> {
    let mut events = vec![ShellEvent::Run(RunEvent::RunStarted {
        out_dir: "/run".into(),
        plan: Vec::new(),
    })];
    for stage in Stage::ALL {
        events.push(ShellEvent::Run(RunEvent::StageStarted {
            stage,
            total: Some(100_000),
            unit: "sequences".into(),
        }));
        for j in 0..990u64 {
            let n = events.len();
            let embed = matches!(stage, Stage::EmbedDna | Stage::EmbedProtein);
            events.push(match j {
                _ if j % 250 == 249 => failure(stage, n),
                _ if j % 400 == 399 => ShellEvent::Log(LogEvent {
                    level: LogLevel::Info,
                    message: format!("log {n}"),
                }),
                _ if embed && j % 3 == 1 => throughput(stage, "cuda:0", j),
                _ if embed && j % 3 == 2 => throughput(stage, "cuda:1", j),
                _ => progress(stage, j),
            });
        }
        events.push(ShellEvent::Run(RunEvent::StageFinished {
            stage,
            counts: ItemCounts::default(),
            seconds: 1.0,
            outcome: StageOutcome::Complete,
        }));
    }
    events.push(finished());
    while events.len() < 5000 {
        let n = events.len();
        events.push(if n.is_multiple_of(2) {
            progress(Stage::Classify, n as u64)
        } else {
            failure(Stage::Classify, n)
        });
    }
    events
}

/// Feeds `events` one per millisecond with a tick every 20 ms; returns what went out,
/// each with the index of the input it is and the simulated time it was sent.
fn run(events: &[ShellEvent]) -> Vec<(usize, Instant)> {
    let start = Instant::now();
    let clock = Rc::new(Cell::new(start));
    let out = Rc::new(RefCell::new(Vec::<(ShellEvent, Instant)>::new()));
    let (c, o) = (clock.clone(), out.clone());
    let mut throttler = Throttler::new(move |e| o.borrow_mut().push((e, c.get())));
    for (i, event) in events.iter().enumerate() {
        let now = start + MS * i as u32;
        clock.set(now);
        if i > 0 && (now - start).as_millis().is_multiple_of(TICK.as_millis()) {
            throttler.tick(now);
        }
        throttler.push(event.clone(), now);
    }
    let sent = out.borrow();
    // Map each output back to its input: it must be a subsequence, in order.
    let mut next = 0;
    sent.iter()
        .map(|(e, t)| {
            let i = next
                + events[next..]
                    .iter()
                    .position(|x| x == e)
                    .expect("every output is an input, in input order");
            next = i + 1;
            (i, *t)
        })
        .collect()
}

#[test]
fn a_burst_of_5000_keeps_order_coalesces_progress_and_ends_at_run_finished() {
    let events = burst();
    assert_eq!(events.len(), 5000);
    let end = events
        .iter()
        .position(|e| matches!(e, ShellEvent::Run(RunEvent::RunFinished(_))))
        .unwrap();
    let sent = run(&events);
    let indexes: Vec<usize> = sent.iter().map(|(i, _)| *i).collect();

    // Every event that must arrive did, and nothing after run_finished.
    let must: Vec<usize> = (0..=end)
        .filter(|&i| progress_key(&events[i]).is_none())
        .collect();
    let got: Vec<usize> = indexes
        .iter()
        .copied()
        .filter(|&i| progress_key(&events[i]).is_none())
        .collect();
    assert_eq!(got, must);
    assert_eq!(indexes.last(), Some(&end), "run_finished is the last event");

    // Progress was coalesced: ~5 s at 8/s per key, a handful of keys.
    let progress_in = (0..=end).filter(|&i| progress_key(&events[i]).is_some());
    let progress_out = indexes
        .iter()
        .filter(|&&i| progress_key(&events[i]).is_some());
    let (n_in, n_out) = (progress_in.count(), progress_out.count());
    assert!(n_in > 4500, "{n_in}");
    assert!(
        n_out < n_in / 20,
        "{n_out} of {n_in} progress events went out"
    );

    // Per key, two updates are at least INTERVAL apart unless another event forced the
    // held one out first (it must precede that event).
    let mut last: HashMap<Key, (usize, Instant)> = HashMap::new();
    for &(i, at) in &sent {
        let Some(key) = progress_key(&events[i]) else {
            continue;
        };
        if let Some(&(prev, prev_at)) = last.get(&key) {
            let forced = sent
                .iter()
                .any(|&(j, t)| t == at && j > i && progress_key(&events[j]).is_none());
            let between_forced = indexes
                .iter()
                .any(|&j| j > prev && j < i && progress_key(&events[j]).is_none());
            assert!(
                at - prev_at >= INTERVAL || forced || between_forced,
                "{key:?}: inputs {prev} and {i} went out {:?} apart",
                at - prev_at
            );
        }
        last.insert(key, (i, at));
    }

    // Latest wins: the last update of each key before any other event is the last input.
    for (pos, &i) in indexes.iter().enumerate() {
        if progress_key(&events[i]).is_some() || pos == 0 {
            continue;
        }
        let prev_out = indexes[pos - 1];
        for key in (prev_out..i).filter_map(|j| progress_key(&events[j])) {
            let last_in = (0..i)
                .rev()
                .find(|&j| progress_key(&events[j]).as_ref() == Some(&key))
                .unwrap();
            let last_out = indexes[..pos]
                .iter()
                .rev()
                .find(|&&j| progress_key(&events[j]).as_ref() == Some(&key))
                .copied();
            assert_eq!(
                last_out,
                Some(last_in),
                "{key:?} before input {i}: the latest value went out"
            );
        }
    }

    // Nothing is held back for long: each progress input is superseded or sent within
    // INTERVAL plus one tick.
    for i in (0..end).filter(|&i| progress_key(&events[i]).is_some()) {
        let key = progress_key(&events[i]);
        let input_at = sent.first().unwrap().1 + MS * i as u32;
        let delivered = sent
            .iter()
            .find(|&&(j, _)| j >= i && progress_key(&events[j]) == key)
            .map(|&(_, t)| t)
            .unwrap();
        assert!(
            delivered - input_at <= INTERVAL + TICK,
            "input {i} waited {:?}",
            delivered - input_at
        );
    }
}

type Collected = Rc<RefCell<Vec<ShellEvent>>>;

/// A throttler whose output is collected in the returned list.
fn collecting() -> (Throttler<impl FnMut(ShellEvent)>, Collected) {
    let out: Collected = Rc::default();
    let o = out.clone();
    (Throttler::new(move |e| o.borrow_mut().push(e)), out)
}

#[test]
fn a_quiet_key_gets_its_latest_value_at_the_next_due_tick() {
    let start = Instant::now();
    let (mut throttler, out) = collecting();
    throttler.push(progress(Stage::Merge, 1), start);
    throttler.push(progress(Stage::Merge, 2), start + 10 * MS);
    throttler.push(progress(Stage::Merge, 3), start + 20 * MS);
    assert_eq!(*out.borrow(), vec![progress(Stage::Merge, 1)]);
    throttler.tick(start + 100 * MS);
    assert_eq!(out.borrow().len(), 1, "not due yet");
    throttler.tick(start + INTERVAL);
    assert_eq!(
        *out.borrow(),
        vec![progress(Stage::Merge, 1), progress(Stage::Merge, 3)]
    );
    throttler.tick(start + 10 * INTERVAL);
    assert_eq!(out.borrow().len(), 2, "nothing new, nothing sent");
}

#[test]
fn run_finished_flushes_held_progress_first_and_closes() {
    let start = Instant::now();
    let (mut throttler, out) = collecting();
    throttler.push(progress(Stage::Classify, 1), start);
    throttler.push(progress(Stage::Classify, 9), start + MS);
    throttler.push(finished(), start + 2 * MS);
    assert!(throttler.is_finished());
    throttler.push(failure(Stage::Classify, 1), start + 3 * MS);
    throttler.push(progress(Stage::Classify, 10), start + INTERVAL * 4);
    throttler.tick(start + INTERVAL * 8);
    assert_eq!(
        *out.borrow(),
        vec![
            progress(Stage::Classify, 1),
            progress(Stage::Classify, 9),
            finished()
        ]
    );
}

fn sample_started(sample: &str, index: usize) -> ShellEvent {
    ShellEvent::Run(RunEvent::SampleStarted {
        sample: sample.into(),
        index,
        total: 2,
        out_dir: format!("/run/{sample}").into(),
    })
}

/// A run of two samples has a `run_finished` per sample: the first does not end the
/// stream, the second does; each sample's held progress goes out before its end.
#[test]
fn a_run_of_samples_ends_at_the_last_sample_s_run_finished() {
    let start = Instant::now();
    let out: Collected = Rc::default();
    let o = out.clone();
    let mut throttler = Throttler::for_runs(move |e| o.borrow_mut().push(e), 2);
    let events = [
        sample_started("a", 0),
        progress(Stage::Classify, 1),
        progress(Stage::Classify, 9),
        finished(),
        sample_started("b", 1),
        progress(Stage::Classify, 2),
        failure(Stage::Classify, 3),
        finished(),
    ];
    for (i, event) in events.iter().enumerate() {
        throttler.push(event.clone(), start + MS * i as u32);
        assert_eq!(
            throttler.is_finished(),
            i == events.len() - 1,
            "after input {i}"
        );
    }
    throttler.push(progress(Stage::Classify, 10), start + INTERVAL * 4);
    throttler.close(start + INTERVAL * 5);
    // Held progress is flushed before the event after it (each sample's last value goes
    // out before its run_finished), so here every input goes out; nothing after the end.
    assert_eq!(*out.borrow(), events.to_vec());
}

/// A sample that could not run sends no `run_finished`: the stream goes on to the next
/// sample, and closing at the end of the run sends what is held back, nothing after.
#[test]
fn a_sample_without_run_finished_does_not_end_the_stream_early() {
    let start = Instant::now();
    let out: Collected = Rc::default();
    let o = out.clone();
    let mut throttler = Throttler::for_runs(move |e| o.borrow_mut().push(e), 3);
    throttler.push(sample_started("a", 0), start);
    throttler.push(finished(), start + MS);
    throttler.push(sample_started("b", 1), start + 2 * MS);
    throttler.push(sample_started("c", 2), start + 3 * MS);
    throttler.push(progress(Stage::Prepare, 1), start + 4 * MS);
    throttler.push(progress(Stage::Prepare, 2), start + 5 * MS);
    assert!(!throttler.is_finished());
    throttler.close(start + 6 * MS);
    assert!(throttler.is_finished());
    throttler.push(failure(Stage::Prepare, 1), start + 7 * MS);
    assert_eq!(
        *out.borrow(),
        vec![
            sample_started("a", 0),
            finished(),
            sample_started("b", 1),
            sample_started("c", 2),
            progress(Stage::Prepare, 1),
            progress(Stage::Prepare, 2),
        ]
    );
}
