//! The embedding runner with test doubles for the model: order, batching, devices,
//! out-of-memory retries, per-file failures, resume and cancellation. (The real models'
//! numbers are checked in the parity tests.)
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use tch::{Device, Kind, Tensor};
use virnucpro_core::cancel::CancelToken;
use virnucpro_core::features::{FeatureFile, FeatureKind};
use virnucpro_engine::devices::DeviceId;
use virnucpro_engine::embed::{
    embed_files, embed_stream, output_in, Delivery, EmbedError, EmbedEvent, EmbedJob, EmbedOptions,
    Encode, EncoderFactory, EngineModel, FailureKind, FileJob, FileOutcome, FileStatus, Tokenize,
};

/// A=1, C=2, G=3, T=4; anything else is refused.
struct Letters;

const PAD: i64 = 99;

impl Tokenize for Letters {
    fn encode(&self, seq: &str) -> Result<Vec<i64>, String> {
        let mut ids = vec![7]; // a "CLS" token
        for (i, c) in seq.chars().enumerate() {
            ids.push(match c {
                'A' => 1,
                'C' => 2,
                'G' => 3,
                'T' => 4,
                other => {
                    return Err(format!(
                        "character {other:?} at position {} is not a base",
                        i + 1
                    ))
                }
            });
        }
        Ok(ids)
    }
    fn pad_id(&self) -> i64 {
        PAD
    }
}

/// Row = [sum of the row's real tokens, its length, sum of squares]; pads (99) included by
/// mistake would show. Fails like a GPU out of memory above `max_tokens` padded tokens.
struct Summer {
    max_tokens: i64,
    panic_on_oom: bool,
}

impl Encode for Summer {
    fn dim(&self) -> usize {
        3
    }
    fn embed(&self, ids: &Tensor, lengths: &[i64]) -> Result<Tensor, tch::TchError> {
        let (b, t) = ids.size2()?;
        if b * t > self.max_tokens {
            let msg = format!("CUDA out of memory. Tried to allocate {} tokens", b * t);
            if self.panic_on_oom {
                panic!("{msg}");
            }
            return Err(tch::TchError::Torch(msg));
        }
        let positions = Tensor::arange(t, (Kind::Int64, Device::Cpu)).unsqueeze(0);
        let lens = Tensor::from_slice(lengths).unsqueeze(1);
        let mask = positions.lt_tensor(&lens).to_kind(Kind::Float);
        let x = ids.to_kind(Kind::Float) * &mask;
        let sum = x.sum_dim_intlist(1, false, Kind::Float);
        let sq = (&x * &x).sum_dim_intlist(1, false, Kind::Float);
        Ok(Tensor::stack(
            &[sum, lens.squeeze_dim(1).to_kind(Kind::Float), sq],
            1,
        ))
    }
}

fn expected_row(seq: &str) -> Vec<f32> {
    let ids = Letters.encode(seq).unwrap();
    let sum: i64 = ids.iter().sum();
    let sq: i64 = ids.iter().map(|v| v * v).sum();
    vec![sum as f32, ids.len() as f32, sq as f32]
}

fn write_fasta(dir: &Path, name: &str, records: &[(&str, &str)]) -> PathBuf {
    let path = dir.join(name);
    let text: String = records
        .iter()
        .map(|(id, s)| format!(">{id} desc\n{s}\n"))
        .collect();
    std::fs::write(&path, text).unwrap();
    path
}

fn random_records(n: usize, seed: u64) -> Vec<(String, String)> {
    let mut state = seed;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    (0..n)
        .map(|i| {
            let len = 1 + next() % 60;
            let seq: String = (0..len).map(|_| b"ACGT"[next() % 4] as char).collect();
            (format!("r{i}"), seq)
        })
        .collect()
}

struct Setup {
    _tmp: tempfile::TempDir,
    inputs: Vec<PathBuf>,
    out: PathBuf,
    records: Vec<Vec<(String, String)>>,
}

fn setup(files: usize, per_file: usize) -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let mut inputs = Vec::new();
    let mut records = Vec::new();
    for f in 0..files {
        let recs = random_records(per_file, f as u64 + 1);
        let refs: Vec<(&str, &str)> = recs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        inputs.push(write_fasta(
            tmp.path(),
            &format!("output_{}.fa", f + 1),
            &refs,
        ));
        records.push(recs);
    }
    let out = tmp.path().join("features");
    Setup {
        _tmp: tmp,
        inputs,
        out,
        records,
    }
}

/// The test files of `s`, embedded by `model` as "summer" nucleotide features.
fn job<'a>(s: &'a Setup, model: &'a dyn EncoderFactory) -> EmbedJob<'a> {
    EmbedJob {
        inputs: s.inputs.clone(),
        out_dir: s.out.clone(),
        kind: FeatureKind::Nucleotide,
        model: "summer".into(),
        tokenizer: &Letters,
        factory: model,
    }
}

fn run(
    s: &Setup,
    devices: Vec<DeviceId>,
    batch_tokens: usize,
    model: &dyn EncoderFactory,
    cancel: &CancelToken,
) -> (
    Result<virnucpro_engine::embed::EmbedReport, EmbedError>,
    Vec<EmbedEvent>,
) {
    let job = job(s, model);
    let options = EmbedOptions {
        devices,
        batch_tokens,
        force: false,
    };
    let mut events = Vec::new();
    let report = embed_files(&job, &options, cancel, &mut |e| events.push(e.clone()));
    (report, events)
}

fn summer(max_tokens: i64) -> impl Fn(Device) -> Result<Box<dyn Encode>, EmbedError> + Sync {
    move |_| {
        Ok(Box::new(Summer {
            max_tokens,
            panic_on_oom: false,
        }) as Box<dyn Encode>)
    }
}

fn check_outputs(s: &Setup) {
    for (f, recs) in s.records.iter().enumerate() {
        let path = s
            .out
            .join(format!("output_{}.nucleotide.safetensors", f + 1));
        let file = FeatureFile::open(&path).unwrap();
        let ids: Vec<&str> = recs.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(file.ids(), ids.as_slice());
        assert_eq!(file.meta().model, "summer");
        assert_eq!(file.dim(), 3);
        let mut row = vec![0f32; 3];
        for (i, (_, seq)) in recs.iter().enumerate() {
            file.row_into(i, &mut row);
            assert_eq!(row, expected_row(seq), "file {f} row {i}");
        }
    }
}

#[test]
fn rows_come_back_in_input_order_for_any_budget_and_worker_count() {
    for (budget, workers) in [(1, 1), (64, 1), (300, 2), (100_000, 3)] {
        let s = setup(3, 40);
        let (report, events) = run(
            &s,
            vec![DeviceId::Cpu; workers],
            budget,
            &summer(i64::MAX),
            &CancelToken::new(),
        );
        let report = report.unwrap();
        assert!(
            report.files.iter().all(|f| f.status == FileStatus::Written),
            "{report:?}"
        );
        assert_eq!(
            report.devices.iter().map(|d| d.sequences).sum::<usize>(),
            120
        );
        check_outputs(&s);
        let batches = events
            .iter()
            .filter(|e| matches!(e, EmbedEvent::BatchDone { .. }))
            .count();
        assert!(batches >= 1);
        if budget == 1 {
            assert_eq!(
                batches, 120,
                "a budget below one sequence runs them one by one"
            );
        }
    }
}

#[test]
fn out_of_memory_halves_the_batches_and_retries() {
    for panic_on_oom in [false, true] {
        let s = setup(2, 50);
        let model = move |_: Device| -> Result<Box<dyn Encode>, EmbedError> {
            Ok(Box::new(Summer {
                max_tokens: 200,
                panic_on_oom,
            }))
        };
        let (report, events) = run(&s, vec![DeviceId::Cpu], 4000, &model, &CancelToken::new());
        let report = report.unwrap();
        assert!(report.files.iter().all(|f| f.status == FileStatus::Written));
        assert!(report.devices[0].oom_splits >= 1);
        assert!(events
            .iter()
            .any(|e| matches!(e, EmbedEvent::BudgetHalved { parts: 2, .. })));
        check_outputs(&s);
    }
}

#[test]
fn a_sequence_too_large_for_memory_fails_its_file_only() {
    let s = setup(2, 10);
    // File 1 gets one 120-base read, more than the fake device holds on its own.
    let long = "A".repeat(120);
    write_fasta(
        s.inputs[0].parent().unwrap(),
        "output_1.fa",
        &[("big", &long), ("small", "ACGT")],
    );
    let (report, _) = run(
        &s,
        vec![DeviceId::Cpu],
        4000,
        &summer(100),
        &CancelToken::new(),
    );
    let report = report.unwrap();
    let FileStatus::Failed(failure) = &report.files[0].status else {
        panic!("{report:?}")
    };
    assert_eq!(failure.kind, FailureKind::OutOfMemory);
    assert!(
        failure
            .message
            .contains("a sequence of 121 tokens does not fit"),
        "{failure}"
    );
    assert_eq!(report.files[1].status, FileStatus::Written);
    assert!(!report.files[0].output.exists());
}

/// Run with a plain model and return how the second input failed.
fn failure_of_second_file(s: &Setup) -> virnucpro_engine::embed::FileFailure {
    let (report, _) = run(
        s,
        vec![DeviceId::Cpu],
        100,
        &summer(i64::MAX),
        &CancelToken::new(),
    );
    match &report.unwrap().files[1].status {
        FileStatus::Failed(f) => f.clone(),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn bad_records_name_the_file_and_record_and_others_go_on() {
    let s = setup(3, 5);
    write_fasta(
        s.inputs[1].parent().unwrap(),
        "output_2.fa",
        &[("ok", "ACGT"), ("bad", "ACxT")],
    );
    let (report, _) = run(
        &s,
        vec![DeviceId::Cpu],
        100,
        &summer(i64::MAX),
        &CancelToken::new(),
    );
    let report = report.unwrap();
    let FileStatus::Failed(failure) = &report.files[1].status else {
        panic!("{report:?}")
    };
    assert_eq!(failure.kind, FailureKind::BadRecord);
    let name = s.inputs[1].display().to_string();
    assert_eq!(
        failure.message,
        format!("{name}: record 2 ('bad'): character 'x' at position 3 is not a base")
    );
    assert_eq!(report.failed().count(), 1);
    assert_eq!(report.files[2].status, FileStatus::Written);

    // Duplicate IDs and empty records.
    write_fasta(
        s.inputs[1].parent().unwrap(),
        "output_2.fa",
        &[("a", "AC"), ("a", "GT")],
    );
    let f = failure_of_second_file(&s);
    assert!(
        f.message
            .ends_with("record 2 ('a'): the ID appears twice in the file"),
        "{f}"
    );
    std::fs::write(&s.inputs[1], ">a\n\n>b\nAC\n").unwrap();
    let f = failure_of_second_file(&s);
    assert!(
        f.message.ends_with("record 1 ('a'): the sequence is empty"),
        "{f}"
    );
    std::fs::remove_file(&s.inputs[1]).unwrap();
    let f = failure_of_second_file(&s);
    assert_eq!(f.kind, FailureKind::Unreadable);
}

#[test]
fn finished_files_are_not_recomputed_and_changed_inputs_are() {
    let s = setup(2, 20);
    let calls = AtomicUsize::new(0);
    let model = |_: Device| -> Result<Box<dyn Encode>, EmbedError> {
        calls.fetch_add(1, Ordering::SeqCst);
        Ok(Box::new(Summer {
            max_tokens: i64::MAX,
            panic_on_oom: false,
        }) as Box<dyn Encode>)
    };
    let (report, _) = run(&s, vec![DeviceId::Cpu], 500, &model, &CancelToken::new());
    assert!(report
        .unwrap()
        .files
        .iter()
        .all(|f| f.status == FileStatus::Written));
    let (report, events) = run(&s, vec![DeviceId::Cpu], 500, &model, &CancelToken::new());
    assert!(report
        .unwrap()
        .files
        .iter()
        .all(|f| f.status == FileStatus::UpToDate));
    assert!(!events
        .iter()
        .any(|e| matches!(e, EmbedEvent::BatchDone { .. })));

    write_fasta(
        s.inputs[0].parent().unwrap(),
        "output_1.fa",
        &[("changed", "GGGG")],
    );
    let (report, _) = run(&s, vec![DeviceId::Cpu], 500, &model, &CancelToken::new());
    let report = report.unwrap();
    assert_eq!(report.files[0].status, FileStatus::Written);
    assert_eq!(report.files[1].status, FileStatus::UpToDate);
    let file = FeatureFile::open(&report.files[0].output).unwrap();
    assert_eq!(file.ids(), ["changed"]);
}

/// A [`Summer`] whose forward calls after the first `free_calls` wait (up to a minute) for
/// `cancel`: the worker cannot race past the point where the test cancels, however the
/// threads are scheduled.
struct GatedSummer {
    inner: Summer,
    calls: AtomicUsize,
    free_calls: usize,
    cancel: CancelToken,
}

impl Encode for GatedSummer {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn embed(&self, ids: &Tensor, lengths: &[i64]) -> Result<Tensor, tch::TchError> {
        if self.calls.fetch_add(1, Ordering::SeqCst) >= self.free_calls {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while !self.cancel.is_cancelled() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
        self.inner.embed(ids, lengths)
    }
}

#[test]
fn cancellation_leaves_only_complete_files() {
    let s = setup(4, 30);
    let cancel = CancelToken::new();
    let seen = AtomicUsize::new(0);
    // The 5th batch waits for the cancel that the 4th BatchDone event triggers below, so
    // the run is cancelled while the first file is still being embedded.
    let gate = cancel.clone();
    let model = move |_| {
        Ok(Box::new(GatedSummer {
            inner: Summer {
                max_tokens: i64::MAX,
                panic_on_oom: false,
            },
            calls: AtomicUsize::new(0),
            free_calls: 4,
            cancel: gate.clone(),
        }) as Box<dyn Encode>)
    };
    let job = job(&s, &model);
    let options = EmbedOptions {
        devices: vec![DeviceId::Cpu],
        batch_tokens: 50,
        force: false,
    };
    let report = embed_files(&job, &options, &cancel, &mut |e| {
        if matches!(e, EmbedEvent::BatchDone { .. }) && seen.fetch_add(1, Ordering::SeqCst) == 3 {
            cancel.cancel();
        }
    })
    .unwrap();
    assert!(report.cancelled);
    for f in &report.files {
        match &f.status {
            FileStatus::Written => assert!(FeatureFile::open(&f.output).is_ok()),
            FileStatus::Failed(failure) => {
                assert_eq!(failure.kind, FailureKind::Cancelled);
                assert!(!f.output.exists());
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        report.failed().count(),
        4,
        "no file can finish in 4 batches"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&s.out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.ends_with(".safetensors"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    // Running again finishes the rest.
    let (report, _) = run(
        &s,
        vec![DeviceId::Cpu],
        50,
        &summer(i64::MAX),
        &CancelToken::new(),
    );
    assert!(report.unwrap().failed().next().is_none());
    check_outputs(&s);
}

/// A model whose weights are missing; counts the attempts to load it in `loads`.
fn missing_weights(
    loads: &AtomicUsize,
) -> impl Fn(Device) -> Result<Box<dyn Encode>, EmbedError> + Sync + '_ {
    move |_| {
        loads.fetch_add(1, Ordering::SeqCst);
        Err(EmbedError::Load {
            device: "cpu".into(),
            message: "weights.bin: missing".into(),
        })
    }
}

#[test]
fn nothing_to_embed_loads_no_model() {
    let s = setup(2, 5);
    let (report, _) = run(
        &s,
        vec![DeviceId::Cpu],
        100,
        &summer(i64::MAX),
        &CancelToken::new(),
    );
    assert!(report.unwrap().failed().next().is_none());
    // Every output is up to date: a model that cannot even load is never asked to.
    let loads = AtomicUsize::new(0);
    let broken = missing_weights(&loads);
    let (report, events) = run(
        &s,
        vec![DeviceId::Cpu, DeviceId::Cpu],
        100,
        &broken,
        &CancelToken::new(),
    );
    let report = report.unwrap();
    assert!(report
        .files
        .iter()
        .all(|f| f.status == FileStatus::UpToDate));
    assert_eq!(loads.load(Ordering::SeqCst), 0);
    assert!(!events
        .iter()
        .any(|e| matches!(e, EmbedEvent::WorkerReady { .. })));
    // One changed input: now the models load, and the broken one is an error.
    write_fasta(
        s.inputs[0].parent().unwrap(),
        "output_2.fa",
        &[("changed", "ACGT")],
    );
    let (report, _) = run(&s, vec![DeviceId::Cpu], 100, &broken, &CancelToken::new());
    assert!(report.is_err());
    assert_eq!(loads.load(Ordering::SeqCst), 1);
}

#[test]
fn model_load_failure_is_an_error_and_settings_are_checked() {
    let s = setup(1, 3);
    let loads = AtomicUsize::new(0);
    let broken = missing_weights(&loads);
    let (report, _) = run(
        &s,
        vec![DeviceId::Cpu, DeviceId::Cpu],
        100,
        &broken,
        &CancelToken::new(),
    );
    let err = report.unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot load the model on cpu: weights.bin: missing"
    );
    // Both workers tried: a run is an error only when no device could load the model.
    assert_eq!(loads.load(Ordering::SeqCst), 2);

    let (report, _) = run(&s, vec![], 100, &summer(i64::MAX), &CancelToken::new());
    assert!(report.unwrap_err().to_string().contains("no device"));
}

#[test]
fn a_worker_that_panics_ends_the_run_with_an_error_instead_of_hanging() {
    // Enough batches that the producer fills the queue and would block on a dead worker.
    let s = setup(3, 30);
    let panicking = |_: Device| -> Result<Box<dyn Encode>, EmbedError> { panic!("driver crashed") };
    let (report, _) = run(&s, vec![DeviceId::Cpu], 10, &panicking, &CancelToken::new());
    let err = report.unwrap_err();
    assert_eq!(
        err.to_string(),
        "a device worker stopped unexpectedly: the worker on cpu panicked"
    );
}

/// The run's use of the engine: two models on one set of workers, jobs handed over while
/// the engine runs, and a job whose input moved before the reader took it.
#[test]
fn one_engine_runs_two_models_on_jobs_that_arrive_while_it_runs() {
    let s = setup(2, 30);
    let model = summer(i64::MAX);
    let models = summer_models(&model, &model);
    let options = EmbedOptions {
        devices: vec![DeviceId::Cpu, DeviceId::Cpu],
        batch_tokens: 200,
        force: false,
    };
    // The second file is announced at a path it has already left.
    let gone = s.inputs[1].with_file_name("staged-output_2.fa");
    let jobs: Vec<FileJob> = [(0, &s.inputs[0], None), (1, &s.inputs[0], None)]
        .into_iter()
        .chain([
            (0, &gone, Some(s.inputs[1].clone())),
            (1, &gone, Some(s.inputs[1].clone())),
        ])
        .map(|(model, input, moved_to)| FileJob {
            model,
            input: input.clone(),
            moved_to,
            output: output_in(
                &s.out,
                models[model].kind,
                &s.inputs[usize::from(input == &gone)],
            ),
            delivery: Delivery::File,
        })
        .collect();
    let (tx, rx) = crossbeam_channel::unbounded();
    let mut events = Vec::new();
    let report = std::thread::scope(|scope| {
        scope.spawn(move || {
            for job in jobs {
                tx.send(job).unwrap();
            }
        });
        embed_stream(
            &models,
            rx,
            Some(&s.out),
            &options,
            &CancelToken::new(),
            &mut |e| events.push(e.clone()),
        )
    })
    .unwrap();
    assert_eq!(report.files.len(), 4);
    assert!(
        report.files.iter().all(|f| f.status == FileStatus::Written),
        "{report:?}"
    );
    assert_eq!(
        report.files[2].input, gone,
        "the outcome names the job's input"
    );
    assert_eq!(
        report.files.iter().map(|f| f.model).collect::<Vec<_>>(),
        [0, 1, 0, 1]
    );
    check_outputs(&s);
    for (f, recs) in s.records.iter().enumerate() {
        let file = FeatureFile::open(&s.out.join(format!("output_{}.protein.safetensors", f + 1)))
            .unwrap();
        assert_eq!(file.meta().model, "summer-p");
        assert_eq!(file.rows(), recs.len());
    }
    // Each worker loads both models and reports each (even one no batch was left for).
    let ready = events
        .iter()
        .filter(|e| matches!(e, EmbedEvent::WorkerReady { .. }))
        .count();
    assert_eq!(ready, 4);
    assert!(report.devices.iter().all(|d| d.wait_seconds >= 0.0));
}

/// DNABERT-S's and ESM-2's places in a run (`summer`, `summer-p`), from two factories.
fn summer_models<'a>(
    first: &'a dyn EncoderFactory,
    second: &'a dyn EncoderFactory,
) -> [EngineModel<'a>; 2] {
    [
        EngineModel {
            kind: FeatureKind::Nucleotide,
            model: "summer",
            tokenizer: &Letters,
            factory: first,
        },
        EngineModel {
            kind: FeatureKind::Protein,
            model: "summer-p",
            tokenizer: &Letters,
            factory: second,
        },
    ]
}

fn one_cpu() -> EmbedOptions {
    EmbedOptions {
        devices: vec![DeviceId::Cpu],
        batch_tokens: 200,
        force: false,
    }
}

/// Loads a `Summer` only once `go` says so (or after a minute, so that a worker that waits
/// for it before its first batch shows as a failed assertion, not a hung test).
struct GatedLoad(Mutex<crossbeam_channel::Receiver<()>>);

impl EncoderFactory for GatedLoad {
    fn load(&self, _: Device) -> Result<Box<dyn Encode>, EmbedError> {
        let gate = self.0.lock().unwrap();
        let _ = gate.recv_timeout(std::time::Duration::from_secs(60));
        Ok(Box::new(Summer {
            max_tokens: i64::MAX,
            panic_on_oom: false,
        }))
    }
}

/// The device embeds the first model's batches (DNABERT-S in a run) while the second
/// model (ESM-2) is still loading, and the second model's batches run once it is in.
#[test]
fn the_first_model_embeds_while_the_second_loads() {
    let s = setup(2, 30);
    let first = summer(i64::MAX);
    let (go, gate) = crossbeam_channel::bounded::<()>(1);
    let second = GatedLoad(Mutex::new(gate));
    let models = summer_models(&first, &second);
    let options = one_cpu();
    // The second model's file comes first in the queue: its batches wait for the model.
    let jobs: Vec<FileJob> = [(1, &s.inputs[0]), (0, &s.inputs[0]), (0, &s.inputs[1])]
        .into_iter()
        .map(|(model, input)| FileJob {
            model,
            input: input.clone(),
            moved_to: None,
            output: output_in(&s.out, models[model].kind, input),
            delivery: Delivery::Memory,
        })
        .collect();
    let (tx, rx) = crossbeam_channel::unbounded();
    for job in jobs {
        tx.send(job).unwrap();
    }
    drop(tx);
    let mut events = Vec::new();
    let report = embed_stream(&models, rx, None, &options, &CancelToken::new(), &mut |e| {
        if matches!(e, EmbedEvent::FileDone(f) if f.model == 0) {
            let _ = go.try_send(());
        }
        events.push(e.clone());
    })
    .unwrap();
    let position = |f: &dyn Fn(&EmbedEvent) -> bool| events.iter().position(f).unwrap();
    let first_done = position(&|e| matches!(e, EmbedEvent::FileDone(f) if f.model == 0));
    let second_ready =
        position(&|e| matches!(e, EmbedEvent::WorkerReady { model, .. } if model == "summer-p"));
    assert!(
        first_done < second_ready,
        "a file of the first model was embedded before the second model was loaded"
    );
    // Every file is complete, in memory, with its rows in input order, handed over in its
    // FileDone event; the report keeps no file's rows (memory would grow with the input).
    assert_eq!(report.files.len(), 3);
    for outcome in &report.files {
        assert!(
            matches!(outcome.status, FileStatus::Embedded { rows: None }),
            "{outcome:?}"
        );
    }
    let mut done: Vec<&FileOutcome> = events
        .iter()
        .filter_map(|e| match e {
            EmbedEvent::FileDone(outcome) => Some(outcome),
            _ => None,
        })
        .collect();
    done.sort_by_key(|o| o.job);
    assert_eq!(done.len(), 3);
    for (outcome, input) in done.into_iter().zip([0, 0, 1]) {
        let FileStatus::Embedded { rows: Some(rows) } = &outcome.status else {
            panic!("{outcome:?}");
        };
        let table = &rows.0;
        assert_eq!(table.len(), 30);
        for (i, (id, seq)) in s.records[input].iter().enumerate() {
            assert_eq!(&table.meta.ids[i], id);
            assert_eq!(table.row(i), expected_row(seq).as_slice());
        }
    }
    assert!(!s.out.exists(), "nothing written");
}

/// A model that finishes loading after the worker's last batch (no job needed it) is still
/// reported ready: the run's manifest records every device's loads, whichever way the
/// race between the closing queue and the load goes.
#[test]
fn a_model_that_loads_after_the_last_batch_is_still_reported() {
    let s = setup(2, 30);
    let first = summer(i64::MAX);
    let (go, gate) = crossbeam_channel::bounded::<()>(1);
    let second = GatedLoad(Mutex::new(gate));
    let models = summer_models(&first, &second);
    let options = one_cpu();
    let (tx, rx) = crossbeam_channel::unbounded();
    for input in &s.inputs {
        tx.send(FileJob {
            model: 0,
            input: input.clone(),
            moved_to: None,
            output: output_in(&s.out, FeatureKind::Nucleotide, input),
            delivery: Delivery::Memory,
        })
        .unwrap();
    }
    drop(tx);
    let mut events = Vec::new();
    let mut done = 0;
    let report = embed_stream(&models, rx, None, &options, &CancelToken::new(), &mut |e| {
        // The second model loads only once every batch has run.
        if matches!(e, EmbedEvent::FileDone(_)) {
            done += 1;
            if done == 2 {
                let _ = go.try_send(());
            }
        }
        events.push(e.clone());
    })
    .unwrap();
    assert_eq!(report.files.len(), 2);
    let ready: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            EmbedEvent::WorkerReady { model, .. } => Some(model.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(ready, ["summer", "summer-p"], "{events:?}");
}
