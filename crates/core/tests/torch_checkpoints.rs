//! Model checkpoints in every on-disk form the project meets: plain and ordered state dicts,
//! fair-esm `{"model", "cfg": Namespace}` files and whole pickled modules saved on a GPU.
//! Values are checked against the Python extraction, against the same weights in
//! safetensors form, and by running the pickled classifier against its recorded outputs.
mod support;

use std::collections::BTreeMap;

use support::{exact_f64, expected, read_safetensors, sequential_sum};
use virnucpro_core::legacy::read_legacy_features;
use virnucpro_core::pickle::{named_tensors, TensorRef, TorchArchive, TorchFileProblem, Value};

fn open(relative: &str) -> (TorchArchive, Value) {
    let path = virnucpro_testkit::fixture(relative);
    let archive = TorchArchive::open(&path).unwrap_or_else(|e| panic!("{e}"));
    let value = archive.load().unwrap_or_else(|e| panic!("{e}"));
    (archive, value)
}

fn tensors_by_name(value: &Value) -> BTreeMap<String, TensorRef> {
    named_tensors(value).into_iter().collect()
}

#[test]
fn every_checkpoint_matches_the_independent_python_reading() {
    let expected = expected();
    let files = expected["checkpoints"].as_object().unwrap();
    assert_eq!(files.len(), 9, "every .pt/.pth/.bin fixture is covered");
    for (file, want) in files {
        let (archive, value) = open(file);
        let got = named_tensors(&value);
        let want_tensors = want["tensors"].as_array().unwrap();
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        let want_names: Vec<&str> = want_tensors
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, want_names, "{file}");
        for ((name, tensor), w) in got.iter().zip(want_tensors) {
            let shape: Vec<u64> = w["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap())
                .collect();
            assert_eq!(tensor.shape, shape, "{file} {name}");
            assert_eq!(tensor.storage.class, w["storage_class"].as_str().unwrap());
            assert_eq!(tensor.storage.location, w["location"].as_str().unwrap());
            let Some(sum) = w.get("sum") else {
                // Integer tensors (position ids, batch counters) are not floats.
                let err = archive.read_f32(tensor).unwrap_err();
                assert!(
                    matches!(err.problem, TorchFileProblem::UnsupportedDtype { .. }),
                    "{file} {name}: {err}"
                );
                continue;
            };
            let values = archive.read_f32(tensor).unwrap();
            assert_eq!(values.len() as u64, tensor.numel().unwrap());
            assert_eq!(sequential_sum(&values), exact_f64(sum), "{file} {name}");
            let head: Vec<f64> = values.iter().take(3).map(|&v| f64::from(v)).collect();
            let want_head: Vec<f64> = w["head"]
                .as_array()
                .unwrap()
                .iter()
                .map(exact_f64)
                .collect();
            assert_eq!(head, want_head, "{file} {name}");
            let tail = f64::from(*values.last().unwrap());
            assert_eq!(tail, exact_f64(&w["tail"][0]), "{file} {name}");
        }
    }
}

#[test]
fn pickled_classifier_from_a_gpu_lists_its_parameters_and_buffers() {
    let (cuda, value) = open("classifier/mlp_3328x512_cuda.pth");
    let model = value.as_object().expect("a pickled module");
    assert!(model.is("__main__", "MLPClassifier"));
    let tensors = tensors_by_name(&value);
    let shapes: Vec<(&str, Vec<u64>)> = tensors
        .iter()
        .map(|(n, t)| (n.as_str(), t.shape.clone()))
        .collect();
    assert_eq!(
        shapes,
        vec![
            ("bn1.bias", vec![512]),
            ("bn1.num_batches_tracked", vec![]),
            ("bn1.running_mean", vec![512]),
            ("bn1.running_var", vec![512]),
            ("bn1.weight", vec![512]),
            ("hidden_layer.bias", vec![512]),
            ("hidden_layer.weight", vec![512, 3328]),
            ("output_layer.bias", vec![2]),
            ("output_layer.weight", vec![2, 512]),
        ]
    );
    assert!(tensors.values().all(|t| t.storage.location == "cuda:0"));

    // The CPU copy holds the same numbers.
    let (cpu, cpu_value) = open("classifier/mlp_3328x512_cpu.pth");
    let cpu_tensors = tensors_by_name(&cpu_value);
    assert!(cpu_tensors.values().all(|t| t.storage.location == "cpu"));
    for (name, t) in &tensors {
        if name.ends_with("num_batches_tracked") {
            continue;
        }
        assert_eq!(
            cuda.read_f32(t).unwrap(),
            cpu.read_f32(&cpu_tensors[name]).unwrap(),
            "{name}"
        );
    }
}

/// `Linear -> BatchNorm1d (eval) -> ReLU -> Linear` in f64, from the pickled weights.
fn classifier_logits(
    archive: &TorchArchive,
    value: &Value,
    features: &[f32],
    dim: usize,
) -> Vec<[f64; 2]> {
    let tensors = tensors_by_name(value);
    let get = |name: &str| archive.read_f32(&tensors[name]).unwrap();
    let (w1, b1) = (get("hidden_layer.weight"), get("hidden_layer.bias"));
    let (gamma, beta) = (get("bn1.weight"), get("bn1.bias"));
    let (mean, var) = (get("bn1.running_mean"), get("bn1.running_var"));
    let (w2, b2) = (get("output_layer.weight"), get("output_layer.bias"));
    let hidden = b1.len();
    features
        .chunks_exact(dim)
        .map(|x| {
            let h: Vec<f64> = (0..hidden)
                .map(|j| {
                    let row = &w1[j * dim..(j + 1) * dim];
                    let z = f64::from(b1[j])
                        + row
                            .iter()
                            .zip(x)
                            .map(|(&w, &v)| f64::from(w) * f64::from(v))
                            .sum::<f64>();
                    let bn = (z - f64::from(mean[j])) / (f64::from(var[j]) + 1e-5).sqrt()
                        * f64::from(gamma[j])
                        + f64::from(beta[j]);
                    bn.max(0.0)
                })
                .collect();
            let logit = |k: usize| {
                f64::from(b2[k])
                    + (0..hidden)
                        .map(|j| f64::from(w2[k * hidden + j]) * h[j])
                        .sum::<f64>()
            };
            [logit(0), logit(1)]
        })
        .collect()
}

#[test]
fn pickled_classifier_reproduces_the_recorded_logits() {
    let recorded = read_safetensors(&virnucpro_testkit::fixture(
        "classifier/expected.safetensors",
    ));
    for file in [
        "classifier/mlp_3328x512_cuda.pth",
        "classifier/mlp_3328x512_cpu.pth",
    ] {
        let (archive, value) = open(file);
        for case in ["test_fixed_500bp_vanilla", "test_with_orfs_vanilla"] {
            let merged = read_legacy_features(&virnucpro_testkit::fixture(&format!(
                "reference/{case}/output_1_merged.pt"
            )))
            .unwrap();
            let logits = classifier_logits(&archive, &value, &merged.data, merged.dim);
            let want = recorded[&format!("{case}.logits")].f32_values();
            assert_eq!(want.len(), logits.len() * 2);
            for (got, want) in logits.iter().flatten().zip(&want) {
                // torch computed in f32 over 3328 terms; this sums in f64.
                assert!(
                    (got - f64::from(*want)).abs() < 1e-4,
                    "{file} {case}: {got} vs {want}"
                );
            }
        }
    }
}

#[test]
fn fair_esm_checkpoint_exposes_its_namespace_config_and_fp16_weights() {
    let (archive, value) = open("models/esm2_tiny_fairesm/esm2_t2_tiny_fixture.pt");
    let config = value
        .get("cfg")
        .and_then(|c| c.get("model"))
        .and_then(Value::as_object)
        .expect("cfg.model is an object");
    assert!(config.is("argparse", "Namespace"));
    assert_eq!(config.attr("arch"), Some(&Value::Str("esm2".into())));
    assert_eq!(config.attr("encoder_layers"), Some(&Value::Int(2)));
    assert_eq!(config.attr("encoder_embed_dim"), Some(&Value::Int(64)));
    assert_eq!(config.attr("token_dropout"), Some(&Value::Bool(true)));

    // Same numbers as the HF folder, which stores them as f32.
    let hf = read_safetensors(&virnucpro_testkit::fixture(
        "models/esm2_tiny_hf/model.safetensors",
    ));
    let tensors = tensors_by_name(&value);
    let pairs = [
        (
            "model.encoder.sentence_encoder.embed_tokens.weight",
            "esm.embeddings.word_embeddings.weight",
        ),
        (
            "model.encoder.sentence_encoder.layers.1.fc2.weight",
            "esm.encoder.layer.1.output.dense.weight",
        ),
    ];
    for (fair, hf_name) in pairs {
        let t = &tensors[fair];
        assert_eq!(t.storage.class, "HalfStorage");
        assert_eq!(t.shape, hf[hf_name].shape, "{fair}");
        assert_eq!(
            archive.read_f32(t).unwrap(),
            hf[hf_name].f32_values(),
            "{fair}"
        );
    }
}

#[test]
fn pytorch_bins_hold_the_same_tensors_as_their_safetensors() {
    for (bin, safetensors) in [
        (
            "models/dnabert_s_tiny/pytorch_model.bin",
            "models/dnabert_s_tiny/model.safetensors",
        ),
        (
            "models/dnabert_s_tiny_ordereddict.bin",
            "models/dnabert_s_tiny/model.safetensors",
        ),
        (
            "models/esm2_tiny_hf/pytorch_model.bin",
            "models/esm2_tiny_hf/model.safetensors",
        ),
    ] {
        let (archive, value) = open(bin);
        let tensors = tensors_by_name(&value);
        let reference = read_safetensors(&virnucpro_testkit::fixture(safetensors));
        let mut compared = 0;
        for (name, want) in &reference {
            let got = tensors
                .get(name)
                .unwrap_or_else(|| panic!("{bin}: {name} missing"));
            assert_eq!(got.shape, want.shape, "{bin} {name}");
            if want.dtype == "F32" {
                assert_eq!(
                    archive.read_f32(got).unwrap(),
                    want.f32_values(),
                    "{bin} {name}"
                );
                compared += 1;
            }
        }
        assert!(compared > 10, "{bin}: only {compared} tensors compared");
        assert_eq!(tensors.len(), reference.len(), "{bin}");
    }
}
