//! The MLP classifier against the probabilities recorded by PyTorch: the random 3328x512
//! fixture (`classifier/expected.{json,safetensors}`, saved on CPU and on a GPU) on the real
//! merged features of `reference/*_vanilla`, and the tiny e2e classifiers on their merged
//! features (`prediction_results.txt`). Then every way a checkpoint or an input is refused.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tch::{Device, Kind, Tensor};
use virnucpro_core::legacy::read_legacy_features;
use virnucpro_engine::classifier::{
    ClassifierError, ClassifierProblem, Label, MlpClassifier, Prediction, DEFAULT_BN_EPS,
};
use virnucpro_testkit::fixture;

/// PyTorch and we run the same libtorch kernels in f32; the recorded numbers are f32 too.
const TOLERANCE: f64 = 1e-6;

const RELEASED_LIKE: [&str; 2] = [
    "classifier/mlp_3328x512_cpu.pth",
    "classifier/mlp_3328x512_cuda.pth",
];
const CASES: [&str; 2] = ["test_fixed_500bp_vanilla", "test_with_orfs_vanilla"];

fn load(path: &Path) -> MlpClassifier {
    MlpClassifier::load(path, Device::Cpu).unwrap_or_else(|e| panic!("{e}"))
}

fn load_err(path: &Path) -> ClassifierError {
    match MlpClassifier::load(path, Device::Cpu) {
        Ok(_) => panic!("{} loaded, but should be refused", path.display()),
        Err(e) => e,
    }
}

/// Rows of the merged features of `case`, in the order of `ids`.
fn merged_rows(case: &str, ids: &[String]) -> (Vec<f32>, usize) {
    let merged = read_legacy_features(&fixture(&format!("reference/{case}/output_1_merged.pt")))
        .unwrap_or_else(|e| panic!("{e}"));
    let index: HashMap<&str, usize> = merged
        .ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let mut rows = Vec::new();
    for id in ids {
        let i = index[id.as_str()];
        rows.extend_from_slice(merged.row(i).unwrap());
    }
    (rows, merged.dim)
}

fn expected_json() -> serde_json::Value {
    let text = std::fs::read_to_string(fixture("classifier/expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn case_ids(expected: &serde_json::Value, case: &str) -> Vec<String> {
    expected[case]["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_string())
        .collect()
}

fn flat_f32(t: &Tensor) -> Vec<f32> {
    let t = t.to_device(Device::Cpu).to_kind(Kind::Float).contiguous();
    let mut out = vec![0f32; t.numel()];
    t.copy_data(&mut out, t.numel());
    out
}

#[test]
fn released_layout_probabilities_match_pytorch() {
    let expected = expected_json();
    let mut worst = 0f64;
    for file in RELEASED_LIKE {
        let model = load(&fixture(file));
        assert_eq!((model.input_dim(), model.hidden_dim()), (3328, 512));
        assert_eq!(model.eps(), 1e-5);
        for case in CASES {
            let ids = case_ids(&expected, case);
            let (rows, dim) = merged_rows(case, &ids);
            assert_eq!(dim, 3328);
            let got = model.classify(&rows, dim).unwrap();
            let want = expected[case]["probs"].as_array().unwrap();
            assert_eq!(got.len(), want.len(), "{file} {case}");
            for (id, (g, w)) in ids.iter().zip(got.iter().zip(want)) {
                let (w0, w1) = (w[0].as_f64().unwrap(), w[1].as_f64().unwrap());
                for (g, w) in [(g.p_others, w0), (g.p_virus, w1)] {
                    let diff = (f64::from(g) - w).abs();
                    worst = worst.max(diff);
                    assert!(diff <= TOLERANCE, "{file} {case} {id}: {g} vs {w}");
                }
                let label = if w1 > w0 { Label::Virus } else { Label::Others };
                assert_eq!(g.label, label, "{file} {case} {id}");
            }
        }
    }
    eprintln!("max |p - expected.json| = {worst:e}");
}

/// `expected.safetensors` adds the logits; check them and the tensor API with them.
#[test]
fn released_layout_logits_match_pytorch() {
    let bytes = std::fs::read(fixture("classifier/expected.safetensors")).unwrap();
    let recorded = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let values = |name: &str| -> Vec<f32> {
        let view = recorded.tensor(name).unwrap();
        assert_eq!(view.dtype(), safetensors::Dtype::F32, "{name}");
        view.data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    };
    let expected = expected_json();
    let (mut worst_logit, mut worst_prob) = (0f64, 0f64);
    for file in RELEASED_LIKE {
        let model = load(&fixture(file));
        for case in CASES {
            let ids = case_ids(&expected, case);
            let (rows, dim) = merged_rows(case, &ids);
            let input = Tensor::from_slice(&rows).reshape([ids.len() as i64, dim as i64]);
            let logits = model.logits(&input).unwrap();
            assert_eq!(logits.size(), vec![ids.len() as i64, 2]);
            let probs = model.probabilities(&input).unwrap();
            assert_eq!(probs.size(), vec![ids.len() as i64, 2]);
            for (got, want, worst) in [
                (
                    flat_f32(&logits),
                    values(&format!("{case}.logits")),
                    &mut worst_logit,
                ),
                (
                    flat_f32(&probs),
                    values(&format!("{case}.probs")),
                    &mut worst_prob,
                ),
            ] {
                assert_eq!(got.len(), want.len());
                for (g, w) in got.iter().zip(&want) {
                    let diff = f64::from((g - w).abs());
                    *worst = worst.max(diff);
                    assert!(diff <= TOLERANCE, "{file} {case}: {g} vs {w}");
                }
            }
        }
    }
    eprintln!("max |logit - expected| = {worst_logit:e}, max |p - expected| = {worst_prob:e}");
}

/// `(id, label, score1, score2)` rows of a `prediction_results.txt`.
fn prediction_results(path: &Path) -> Vec<(String, String, f32, f32)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("Sequence_ID\tPrediction\tscore1\tscore2")
    );
    lines
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 4, "{line}");
            (
                f[0].to_string(),
                f[1].to_string(),
                f[2].parse().unwrap(),
                f[3].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn tiny_e2e_classifiers_reproduce_prediction_results() {
    for run in ["e2e/a500", "e2e/a300"] {
        let model = load(&fixture(&format!("{run}/classifier.pth")));
        assert_eq!((model.input_dim(), model.hidden_dim()), (160, 16));
        assert_eq!(model.eps(), 1e-5);
        let merged = read_legacy_features(&fixture(&format!(
            "{run}/expected/input_merged/output_1_merged.pt"
        )))
        .unwrap();
        let want = prediction_results(&fixture(&format!(
            "{run}/expected/input_merged/prediction_results.txt"
        )));
        let ids: Vec<&str> = want.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(merged.ids, ids, "{run}: rows in the same order");
        let got = model.classify(&merged.data, merged.dim).unwrap();
        assert_eq!(got.len(), want.len());
        let mut worst = 0f64;
        let mut labels = [0usize; 2];
        for (g, (id, label, p0, p1)) in got.iter().zip(&want) {
            for (g, w) in [(g.p_others, p0), (g.p_virus, p1)] {
                let diff = f64::from((g - w).abs());
                worst = worst.max(diff);
                assert!(diff <= TOLERANCE, "{run} {id}: {g} vs {w}");
            }
            assert_eq!(g.label.as_str(), label, "{run} {id}");
            labels[usize::from(g.label == Label::Virus)] += 1;
        }
        assert!(labels[0] > 0 && labels[1] > 0, "{run}: both classes occur");
        eprintln!("{run}: {} rows, max |p - expected| = {worst:e}", got.len());
    }
}

#[test]
fn ties_go_to_others() {
    assert_eq!(Prediction::new(0.5, 0.5).label, Label::Others);
    assert_eq!(Prediction::new(0.4, 0.6).label, Label::Virus);
    assert_eq!(Prediction::new(0.6, 0.4).label, Label::Others);
    assert_eq!(Label::Virus.as_str(), "virus");
    assert_eq!(Label::Others.as_str(), "others");
}

/// A copy of `source` with `from` (which must occur exactly once) replaced by `to`, same
/// length: torch archives store entries uncompressed, so the zip stays well formed.
fn patched(source: &Path, from: &[u8], to: &[u8]) -> (tempfile::TempDir, PathBuf) {
    assert_eq!(from.len(), to.len());
    let mut bytes = std::fs::read(source).unwrap();
    let hits: Vec<usize> = bytes
        .windows(from.len())
        .enumerate()
        .filter(|(_, w)| *w == from)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "{from:?} occurs once in {}",
        source.display()
    );
    bytes[hits[0]..hits[0] + to.len()].copy_from_slice(to);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("patched.pth");
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

fn tiny() -> PathBuf {
    fixture("e2e/a500/classifier.pth")
}

#[test]
fn eps_is_read_from_the_pickled_batch_norm() {
    let eps = |v: f64| [&[b'G'][..], &v.to_be_bytes()].concat();
    let (_dir, path) = patched(&tiny(), &eps(1e-5), &eps(0.25));
    let patched = load(&path);
    assert_eq!(patched.eps(), 0.25);
    let original = load(&tiny());
    assert_eq!(original.eps(), DEFAULT_BN_EPS);
    let merged = read_legacy_features(&fixture(
        "e2e/a500/expected/input_merged/output_1_merged.pt",
    ))
    .unwrap();
    let rows = &merged.data[..merged.dim * 8];
    let a = original.classify(rows, merged.dim).unwrap();
    let b = patched.classify(rows, merged.dim).unwrap();
    assert_ne!(a, b, "a different eps changes the probabilities");
}

#[test]
fn a_pickle_of_something_else_is_the_wrong_architecture() {
    let path = fixture("models/dnabert_s_tiny/pytorch_model.bin");
    let err = load_err(&path);
    assert!(
        matches!(err.problem, ClassifierProblem::WrongArchitecture(_)),
        "{err}"
    );
    assert_eq!(err.path, path);
    let message = err.to_string();
    assert!(message.contains("pytorch_model.bin"), "{message}");
    assert!(message.contains("not a pickled MLPClassifier"), "{message}");

    let (_dir, path) = patched(&tiny(), b"MLPClassifier", b"CNNClassifier");
    let err = load_err(&path);
    assert!(err.to_string().contains("__main__.CNNClassifier"), "{err}");

    let (_dir, path) = patched(&tiny(), b"BatchNorm1d", b"BatchNorm2d");
    let err = load_err(&path);
    assert!(
        matches!(err.problem, ClassifierProblem::WrongArchitecture(_)),
        "{err}"
    );
    assert!(err.to_string().contains("bn1"), "{err}");
}

#[test]
fn missing_and_unexpected_tensors_are_listed() {
    let (_dir, path) = patched(&tiny(), b"running_var", b"running_vaX");
    let err = load_err(&path);
    match &err.problem {
        ClassifierProblem::MissingKeys(keys) => assert_eq!(keys, &["bn1.running_var"]),
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("bn1.running_var"), "{err}");

    // A parameter under another name in a known layer is extra, the model is complete.
    let (_dir, path) = patched(&tiny(), b"num_batches_tracked", b"num_batches_trackeX");
    let err = load_err(&path);
    match &err.problem {
        ClassifierProblem::UnexpectedKeys(keys) => {
            assert_eq!(keys, &["bn1.num_batches_trackeX"])
        }
        other => panic!("{other}"),
    }
}

#[test]
fn a_shape_mismatch_names_the_tensor_and_both_shapes() {
    // output_layer.weight: offset 0, shape (2, 16) -> (1, 16).
    let (_dir, path) = patched(&tiny(), b"K\x00K\x02K\x10\x86", b"K\x00K\x01K\x10\x86");
    let err = load_err(&path);
    match &err.problem {
        ClassifierProblem::ShapeMismatch {
            key,
            expected,
            found,
        } => {
            assert_eq!(key, "output_layer.weight");
            assert_eq!(expected, &[2, 16]);
            assert_eq!(found, &[1, 16]);
        }
        other => panic!("{other}"),
    }
}

#[test]
fn truncated_and_missing_files_are_unreadable() {
    let bytes = std::fs::read(tiny()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for len in [0, 100, bytes.len() / 2, bytes.len() - 10] {
        let path = dir.path().join(format!("truncated_{len}.pth"));
        std::fs::write(&path, &bytes[..len]).unwrap();
        let err = load_err(&path);
        assert!(
            matches!(err.problem, ClassifierProblem::Unreadable(_)),
            "{len}: {err}"
        );
        assert!(err.to_string().contains("truncated_"), "{err}");
    }
    let err = load_err(&dir.path().join("absent.pth"));
    assert!(
        matches!(err.problem, ClassifierProblem::Unreadable(_)),
        "{err}"
    );
}

#[test]
fn inputs_of_the_wrong_width_or_with_nan_are_refused() {
    let model = load(&tiny());
    let err = model.classify(&[0.0; 2 * 159], 159).unwrap_err();
    assert!(
        matches!(
            err.problem,
            ClassifierProblem::InputWidth {
                expected: 160,
                found: 159
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("160"), "{err}");
    let err = model.probabilities(&Tensor::zeros([3, 161], (Kind::Float, Device::Cpu)));
    assert!(matches!(
        err.map(|_| ()).unwrap_err().problem,
        ClassifierProblem::InputWidth {
            expected: 160,
            found: 161
        }
    ));
    let err = model.probabilities(&Tensor::zeros([160], (Kind::Float, Device::Cpu)));
    assert!(matches!(
        err.map(|_| ()).unwrap_err().problem,
        ClassifierProblem::InputShape(_)
    ));
    let err = model.classify(&[0.0; 161], 160).unwrap_err();
    assert!(matches!(err.problem, ClassifierProblem::InputShape(_)));

    let mut rows = vec![0.0f32; 3 * 160];
    rows[160 + 7] = f32::NAN;
    let err = model.classify(&rows, 160).unwrap_err();
    assert!(
        matches!(
            err.problem,
            ClassifierProblem::NonFiniteInput { row: 1, column: 7 }
        ),
        "{err}"
    );
    rows[160 + 7] = 0.0;
    rows[2 * 160 + 3] = f32::INFINITY;
    let input = Tensor::from_slice(&rows).reshape([3, 160]);
    let err = model.probabilities(&input).map(|_| ()).unwrap_err();
    assert!(
        matches!(
            err.problem,
            ClassifierProblem::NonFiniteInput { row: 2, column: 3 }
        ),
        "{err}"
    );

    assert!(model.classify(&[], 160).unwrap().is_empty());
}

#[test]
fn tensor_and_slice_apis_agree_and_f64_input_is_converted() {
    let model = load(&tiny());
    let merged = read_legacy_features(&fixture(
        "e2e/a500/expected/input_merged/output_1_merged.pt",
    ))
    .unwrap();
    let n = merged.ids.len();
    let predictions = model.classify(&merged.data, merged.dim).unwrap();
    let input = Tensor::from_slice(&merged.data)
        .reshape([n as i64, merged.dim as i64])
        .to_kind(Kind::Double);
    let probs = flat_f32(&model.probabilities(&input).unwrap());
    let from_slice: Vec<f32> = predictions
        .iter()
        .flat_map(|p| [p.p_others, p.p_virus])
        .collect();
    assert_eq!(probs, from_slice);
}

#[test]
fn a_negative_eps_and_non_finite_weights_are_refused() {
    let eps = |v: f64| [&[b'G'][..], &v.to_be_bytes()].concat();
    let (_dir, path) = patched(&tiny(), &eps(1e-5), &eps(-1.0));
    let err = load_err(&path);
    match &err.problem {
        ClassifierProblem::BadAttribute { attr, .. } => assert_eq!(attr, "bn1.eps"),
        other => panic!("{other}"),
    }

    // The first running variance, found through the reader, overwritten with a NaN.
    let archive = virnucpro_core::pickle::TorchArchive::open(&tiny()).unwrap();
    let root = archive.load().unwrap();
    let var = virnucpro_core::pickle::named_tensors(&root)
        .into_iter()
        .find(|(name, _)| name == "bn1.running_var")
        .unwrap()
        .1;
    let first = archive.read_f32(&var).unwrap()[0];
    let (_dir, path) = patched(&tiny(), &first.to_le_bytes(), &f32::NAN.to_le_bytes());
    let err = load_err(&path);
    match &err.problem {
        ClassifierProblem::NonFiniteWeight(key) => assert_eq!(key, "bn1.running_var"),
        other => panic!("{other}"),
    }
}

/// libtorch rounds a small product differently with other thread counts; scores must not
/// depend on the machine's cores or a cluster job's thread limit (so that a workflow job
/// with `OMP_NUM_THREADS=1` writes what `predict` on a workstation writes). The caller's
/// thread count is left as it was.
#[test]
fn scores_do_not_depend_on_the_thread_count() {
    let model = load(&fixture(RELEASED_LIKE[0]));
    let dim = model.input_dim();
    // Deterministic values in [-1, 1) (a linear congruential generator).
    let mut state = 0x2545_f491_u32;
    let mut values = |n: usize| -> Vec<f32> {
        (0..n)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / (1u32 << 23) as f32 - 1.0
            })
            .collect()
    };
    let bits = |p: Vec<Prediction>| -> Vec<(u32, u32)> {
        p.iter()
            .map(|p| (p.p_others.to_bits(), p.p_virus.to_bits()))
            .collect()
    };
    for rows in [1, 9, 2000] {
        let input = values(rows * dim);
        let mut results = Vec::new();
        for threads in [1, 2, 4] {
            tch::set_num_threads(threads);
            let started = std::time::Instant::now();
            results.push(bits(model.classify(&input, dim).unwrap()));
            eprintln!(
                "{rows} rows, caller at {threads} threads: {:.1} ms",
                started.elapsed().as_secs_f64() * 1e3
            );
            assert_eq!(tch::get_num_threads(), threads, "thread count restored");
        }
        assert!(
            results.windows(2).all(|w| w[0] == w[1]),
            "{rows} rows: scores differ between thread counts"
        );
    }
}
