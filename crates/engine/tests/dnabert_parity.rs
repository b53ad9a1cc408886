//! DNABERT-S against the reference (DNABERT-2 `bert_layers.py`, fp32 CPU) on the tiny
//! random-weight fixture (`models/dnabert_s_tiny`): token ids, every hidden state, the
//! VirNucPro mean, the padded batch, the four weight layouts, and the refusals.
//!
//! Measured max-abs differences are printed with eprintln (`--nocapture`) for the record.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tch::{Device, Kind, Tensor};
use virnucpro_engine::dnabert::{alibi_slopes, DnaBertError, DnaBertS, DnaTokenizer};
use virnucpro_engine::weights::Checkpoint;
use virnucpro_testkit::fixture;

/// The tolerances: hidden states and pooled means of an fp32 CPU re-implementation.
const HIDDEN_ATOL: f64 = 1e-5;
const MEAN_ATOL: f64 = 1e-6;

fn inputs() -> serde_json::Value {
    let text = std::fs::read_to_string(fixture("models/inputs.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn tiny_dir() -> PathBuf {
    fixture("models/dnabert_s_tiny")
}

fn expected() -> HashMap<String, Tensor> {
    Tensor::read_safetensors(fixture("models/dnabert_expected.safetensors"))
        .unwrap()
        .into_iter()
        .collect()
}

fn ids_of(value: &serde_json::Value) -> Vec<i64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect()
}

/// Case names with their sequences, in inputs.json order.
fn cases(inputs: &serde_json::Value) -> Vec<(String, String)> {
    let cases = inputs["dnabert_s"]["cases"].as_object().unwrap();
    cases
        .iter()
        .map(|(name, c)| (name.clone(), c["sequence"].as_str().unwrap().to_string()))
        .collect()
}

fn load(path: &Path) -> DnaBertS {
    DnaBertS::load(path, Kind::Float, Device::Cpu).unwrap_or_else(|e| panic!("{e}"))
}

fn load_err(path: &Path) -> DnaBertError {
    match DnaBertS::load(path, Kind::Float, Device::Cpu) {
        Ok(_) => panic!("{} loaded, but should be refused", path.display()),
        Err(e) => e,
    }
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size(), "shapes differ");
    (a.to_kind(Kind::Double) - b.to_kind(Kind::Double))
        .abs()
        .max()
        .double_value(&[])
}

/// How many elements are bit-identical, for the record next to the max-abs differences.
fn identical(a: &Tensor, b: &Tensor) -> String {
    assert_eq!(a.size(), b.size(), "shapes differ");
    let same = a.eq_tensor(b).sum(Kind::Int64).int64_value(&[]);
    format!("{same}/{} bit-identical", a.numel())
}

/// Rows at least this long are bit-identical whether run alone or in a padded batch. A
/// short sequence alone can take another kernel than the same rows in a batch: libtorch's
/// own loop for a bmm below 400 multiply-adds (head_dim·T²), and on some CPUs an MKL
/// small-matrix path. On the machine that made the fixtures the reference's own batch and
/// single runs differed in the DNABERT-S row of 6 tokens and the ESM-2 rows of 3, 12 and 15,
/// and in none of 19 tokens or more; here only the rows of 6 and 3 tokens differ.
const EXACT_FROM_TOKENS: i64 = 32;

/// `[1, T]` ids and an all-ones mask for one sequence.
fn single(ids: &[i64]) -> (Tensor, Tensor) {
    let ids = Tensor::from_slice(ids).unsqueeze(0);
    let mask = ids.ones_like();
    (ids, mask)
}

#[test]
fn token_ids_match_every_case_and_edge_case() {
    let tokenizer = DnaTokenizer::from_dir(&tiny_dir()).unwrap();
    assert_eq!(tokenizer.pad_id(), 3);
    let inputs = inputs();
    let cases = inputs["dnabert_s"]["cases"].as_object().unwrap();
    assert_eq!(cases.len(), 8, "the fixture's cases changed");
    for (name, case) in cases {
        let seq = case["sequence"].as_str().unwrap();
        let got = tokenizer.encode(seq).unwrap();
        assert_eq!(got, ids_of(&case["input_ids"]), "case {name}");
        assert_eq!(
            got.len() as u64,
            case["n_tokens"].as_u64().unwrap(),
            "case {name}"
        );
    }
    let edge = inputs["dnabert_s"]["tokenizer_edge_cases"]
        .as_object()
        .unwrap();
    assert_eq!(edge.len(), 6, "the fixture's edge cases changed");
    for (seq, case) in edge {
        let got = tokenizer.encode(seq).unwrap();
        assert_eq!(got, ids_of(&case["ids"]), "edge case {seq:?}");
    }
}

#[test]
fn tokenizer_does_not_pad_or_truncate() {
    let tokenizer = DnaTokenizer::from_file(&tiny_dir().join("tokenizer.json")).unwrap();
    let short = tokenizer.encode("ACGT").unwrap();
    assert!(short.len() < 10, "padding left on: {} ids", short.len());
    // 12000 nt is far beyond the file's truncation at 2000 tokens.
    let long: String = "ACGTTGCAAGCTTAGC".repeat(750);
    let ids = tokenizer.encode(&long).unwrap();
    assert!(ids.len() > 2000, "truncation left on: {} ids", ids.len());
    assert_eq!(ids.first(), Some(&1));
    assert_eq!(ids.last(), Some(&2));
}

#[test]
fn tokenizer_batch_pads_right_with_a_mask() {
    let tokenizer = DnaTokenizer::from_dir(&tiny_dir()).unwrap();
    let (ids, mask) = tokenizer.batch(&["ACGTACGTTTGA", "", "N"]).unwrap();
    assert_eq!(ids.size(), vec![3, 6]);
    let row = |t: &Tensor, r: i64| Vec::<i64>::try_from(t.get(r)).unwrap();
    assert_eq!(row(&ids, 0), vec![1, 5, 194, 134, 23, 2]);
    assert_eq!(row(&ids, 1), vec![1, 2, 3, 3, 3, 3]);
    assert_eq!(row(&mask, 1), vec![1, 1, 0, 0, 0, 0]);
    assert_eq!(row(&ids, 2), vec![1, 0, 2, 3, 3, 3]);
    assert_eq!(row(&mask, 2), vec![1, 1, 1, 0, 0, 0]);
}

#[test]
fn alibi_slopes_match_reference() {
    let inputs = inputs();
    let expected: Vec<f32> = inputs["dnabert_s"]["alibi_slopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(alibi_slopes(12), expected);
}

#[test]
fn every_case_matches_reference_single_sequence() {
    let model = load(&tiny_dir());
    assert_eq!(model.hidden_size(), 96);
    assert_eq!(model.num_layers(), 2);
    let expected = expected();
    let inputs = inputs();
    let (mut worst_hidden, mut worst_mean) = (0f64, 0f64);
    for (name, seq) in cases(&inputs) {
        let ids = model.tokenizer().encode(&seq).unwrap();
        let want_ids = Vec::<i64>::try_from(&expected[&format!("{name}.input_ids")]).unwrap();
        assert_eq!(ids, want_ids, "{name}: token ids");
        let (ids, mask) = single(&ids);

        let outputs = model.forward_layers(&ids, &mask);
        assert_eq!(outputs.len(), 3, "{name}: embeddings + 2 layers");
        let mut labels = vec!["embeddings".to_string()];
        labels.extend((0..2).map(|i| format!("layer_{i}")));
        for (label, got) in labels.iter().zip(&outputs) {
            let want = &expected[&format!("{name}.{label}")];
            let diff = max_abs_diff(&got.squeeze_dim(0), want);
            let same = identical(&got.squeeze_dim(0), want);
            eprintln!("dnabert {name}.{label}: max abs diff {diff:.3e}, {same}");
            assert!(diff <= HIDDEN_ATOL, "{name}.{label}: {diff:e}");
            worst_hidden = worst_hidden.max(diff);
        }
        let last = model.last_hidden_state(&ids, &mask).squeeze_dim(0);
        let diff = max_abs_diff(&last, &expected[&format!("{name}.last_hidden_state")]);
        eprintln!("dnabert {name}.last_hidden_state: max abs diff {diff:.3e}");
        assert!(diff <= HIDDEN_ATOL, "{name}.last_hidden_state: {diff:e}");
        worst_hidden = worst_hidden.max(diff);

        let mean = model.embed(&ids, &mask);
        assert_eq!(mean.kind(), Kind::Float);
        let want = &expected[&format!("{name}.mean_all_tokens")];
        let diff = max_abs_diff(&mean.squeeze_dim(0), want);
        let same = identical(&mean.squeeze_dim(0), want);
        eprintln!("dnabert {name}.mean_all_tokens: max abs diff {diff:.3e}, {same}");
        assert!(diff <= MEAN_ATOL, "{name}.mean_all_tokens: {diff:e}");
        worst_mean = worst_mean.max(diff);
    }
    eprintln!(
        "dnabert single sequence: worst hidden {worst_hidden:.3e}, worst mean {worst_mean:.3e}"
    );
}

#[test]
fn padded_batch_matches_reference_and_single_sequences() {
    let model = load(&tiny_dir());
    let expected = expected();
    let inputs = inputs();
    let all: HashMap<String, String> = cases(&inputs).into_iter().collect();
    let names: Vec<&str> = inputs["dnabert_s"]["batch"]["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let seqs: Vec<&str> = names.iter().map(|n| all[*n].as_str()).collect();

    let (ids, mask) = model.tokenizer().batch(&seqs).unwrap();
    assert!(ids.equal(&expected["batch.input_ids"]), "batch ids");
    assert!(mask.equal(&expected["batch.attention_mask"]), "batch mask");

    let last = model.last_hidden_state(&ids, &mask);
    let diff = max_abs_diff(&last, &expected["batch.last_hidden_state"]);
    let same = identical(&last, &expected["batch.last_hidden_state"]);
    eprintln!("dnabert batch.last_hidden_state: max abs diff {diff:.3e}, {same}");
    assert!(diff <= HIDDEN_ATOL, "batch.last_hidden_state: {diff:e}");
    let pads = last.masked_select(&mask.eq(0).unsqueeze(-1));
    assert!(pads.numel() > 0, "the batch has padding");
    assert_eq!(
        pads.abs().max().double_value(&[]),
        0.0,
        "padded rows are exactly 0"
    );

    let means = model.embed(&ids, &mask);
    let diff = max_abs_diff(&means, &expected["batch.masked_mean"]);
    eprintln!("dnabert batch.masked_mean: max abs diff {diff:.3e}");
    assert!(diff <= MEAN_ATOL, "batch.masked_mean: {diff:e}");
    let by_sequences = model.embed_sequences(&seqs).unwrap();
    assert!(
        by_sequences.equal(&means),
        "embed_sequences == embed on the same batch"
    );

    // Every row of the batch against the same sequence run alone (as the original pipeline
    // ran DNABERT-S): bit-identical from EXACT_FROM_TOKENS on, within the tolerance below.
    let (mut worst_hidden, mut worst_mean) = (0f64, 0f64);
    let mut exact_rows = 0;
    for (row, seq) in seqs.iter().enumerate() {
        let row = row as i64;
        let (one_ids, one_mask) = single(&model.tokenizer().encode(seq).unwrap());
        let len = one_ids.size()[1];
        let alone = model.last_hidden_state(&one_ids, &one_mask).squeeze_dim(0);
        let in_batch = last.get(row).narrow(0, 0, len);
        worst_hidden = worst_hidden.max(max_abs_diff(&in_batch, &alone));
        let alone_mean = model.embed(&one_ids, &one_mask).squeeze_dim(0);
        worst_mean = worst_mean.max(max_abs_diff(&means.get(row), &alone_mean));
        if len >= EXACT_FROM_TOKENS {
            assert!(
                in_batch.equal(&alone),
                "row {row} ({len} tokens): batched != alone"
            );
            assert!(
                means.get(row).equal(&alone_mean),
                "row {row}: batched mean != alone"
            );
            exact_rows += 1;
        }
    }
    assert!(
        exact_rows >= 5,
        "the batch has {exact_rows} rows of {EXACT_FROM_TOKENS}+ tokens"
    );
    eprintln!("dnabert batched vs single: hidden {worst_hidden:.3e}, mean {worst_mean:.3e}");
    assert!(
        worst_hidden <= HIDDEN_ATOL,
        "batched vs single hidden: {worst_hidden:e}"
    );
    assert!(
        worst_mean <= MEAN_ATOL,
        "batched vs single mean: {worst_mean:e}"
    );
}

/// DNABERT-S's `bert_layers.py` (`BertModel.forward`, PyTorch attention path) and
/// `bert_padding.py`, line by line in libtorch ops: unpadding, fused Wqkv, `pad_input`,
/// `matmul(q, k) / sqrt(d) + bias`, softmax, `unpad_input_only`, post-LN GeGLU. Run here
/// against torch 2.13 executing those files (same machine, fixture cases and batch), it
/// was bit-identical everywhere, as was the engine; so the engine equal to this, bit for
/// bit, is the engine equal to the reference on whatever machine runs the test. Returns
/// the embedding output, each layer's unpadded `[nnz, H]` output and the repadded last.
fn reference_forward(ids: &Tensor, mask: &Tensor) -> (Tensor, Vec<Tensor>, Tensor) {
    let _no_grad = tch::no_grad_guard();
    let ckpt = Checkpoint::open(&tiny_dir().join("model.safetensors")).unwrap();
    let w = |name: &str| ckpt.load(name, Kind::Float, Device::Cpu).unwrap();
    let linear = |x: &Tensor, p: &str, bias: bool| {
        x.linear(
            &w(&format!("{p}.weight")),
            bias.then(|| w(&format!("{p}.bias"))),
        )
    };
    let norm = |x: &Tensor, p: &str| {
        let weight = w(&format!("{p}.weight"));
        let bias = w(&format!("{p}.bias"));
        x.layer_norm([weight.size()[0]], Some(&weight), Some(&bias), 1e-12, true)
    };
    let (batch, seqlen) = ids.size2().unwrap();
    let (heads, hidden, intermediate) = (12, 96, 128);
    let head_dim = hidden / heads;
    let embeddings = norm(
        &(Tensor::embedding(
            &w("embeddings.word_embeddings.weight"),
            ids,
            0,
            false,
            false,
        ) + Tensor::embedding(
            &w("embeddings.token_type_embeddings.weight"),
            &ids.zeros_like(),
            -1,
            false,
            false,
        )),
        "embeddings.LayerNorm",
    );
    // BertEncoder.forward: the extended mask, unpad_input, the ALiBi table (512 positions or
    // rebuilt to seqlen) sliced and added to the mask.
    let extended = (mask.unsqueeze(1).unsqueeze(2).to_kind(Kind::Float) * -1.0 + 1.0) * -10000.0;
    let indices = mask.flatten(0, -1).nonzero().flatten(0, -1);
    let size = seqlen.max(512);
    let positions = Tensor::arange(size, (Kind::Int64, Device::Cpu));
    let relative = (positions.unsqueeze(0) - positions.unsqueeze(1))
        .abs()
        .unsqueeze(0)
        .expand([heads, -1, -1], false);
    let slopes = Tensor::from_slice(&alibi_slopes(heads));
    let alibi = (slopes.unsqueeze(1).unsqueeze(1) * relative.neg()).unsqueeze(0);
    let bias = extended.narrow(3, 0, seqlen) + alibi.narrow(2, 0, seqlen).narrow(3, 0, seqlen);
    let pad_input = |values: &Tensor| {
        Tensor::zeros(
            [batch * seqlen, values.size()[1]],
            (Kind::Float, Device::Cpu),
        )
        .index_put(&[Some(indices.shallow_clone())], values, false)
    };
    let mut states = embeddings
        .reshape([batch * seqlen, hidden])
        .index_select(0, &indices);
    let mut layers = Vec::new();
    for l in 0..2 {
        let p = format!("encoder.layer.{l}");
        let qkv = pad_input(&linear(&states, &format!("{p}.attention.self.Wqkv"), true))
            .view([batch, seqlen, 3, heads, head_dim]);
        let q = qkv.select(2, 0).permute([0, 2, 1, 3]);
        let k = qkv.select(2, 1).permute([0, 2, 3, 1]);
        let v = qkv.select(2, 2).permute([0, 2, 1, 3]);
        let scores = q.matmul(&k) / (head_dim as f64).sqrt() + &bias;
        let attention = scores
            .softmax(-1, None::<Kind>)
            .matmul(&v)
            .permute([0, 2, 1, 3])
            .reshape([batch * seqlen, hidden])
            .index_select(0, &indices);
        let attention = norm(
            &(linear(&attention, &format!("{p}.attention.output.dense"), true) + &states),
            &format!("{p}.attention.output.LayerNorm"),
        );
        let up = linear(&attention, &format!("{p}.mlp.gated_layers"), false);
        let gated =
            up.narrow(1, 0, intermediate).gelu("none") * up.narrow(1, intermediate, intermediate);
        states = norm(
            &(linear(&gated, &format!("{p}.mlp.wo"), true) + &attention),
            &format!("{p}.mlp.layernorm"),
        );
        layers.push(states.shallow_clone());
    }
    let last = pad_input(&states).view([batch, seqlen, hidden]);
    (embeddings, layers, last)
}

#[test]
fn the_encoder_runs_the_reference_ops_bit_for_bit() {
    let model = load(&tiny_dir());
    let expected = expected();
    let inputs = inputs();
    for (name, _) in cases(&inputs) {
        let (ids, mask) =
            single(&Vec::<i64>::try_from(&expected[&format!("{name}.input_ids")]).unwrap());
        let (embeddings, layers, last) = reference_forward(&ids, &mask);
        let ours = model.forward_layers(&ids, &mask);
        assert!(ours[0].equal(&embeddings), "{name}: embeddings");
        for (l, layer) in layers.iter().enumerate() {
            assert!(ours[l + 1].squeeze_dim(0).equal(layer), "{name}: layer {l}");
        }
        // The original pipeline's pooling: `torch.mean(hidden_states, dim=1)`.
        let mean = last.mean_dim(1, false, None::<Kind>);
        assert!(model.embed(&ids, &mask).equal(&mean), "{name}: mean");
    }
    let (ids, mask) = (
        &expected["batch.input_ids"],
        &expected["batch.attention_mask"],
    );
    let (_, _, last) = reference_forward(ids, mask);
    assert!(
        model.last_hidden_state(ids, mask).equal(&last),
        "padded batch"
    );
    eprintln!("dnabert: every case and the padded batch bit-identical to the reference ops");
}

#[test]
fn long_sequences_extend_alibi_beyond_its_starting_size() {
    // The reference starts with a 512-position ALiBi table and rebuilds it for longer
    // inputs; d_long_3000 (650 tokens) is checked in every_case_matches_reference, this
    // makes sure the fixture still exercises that.
    let inputs = inputs();
    let case = &inputs["dnabert_s"]["cases"]["d_long_3000"];
    let starting = inputs["dnabert_s"]["config"]["alibi_starting_size"]
        .as_u64()
        .unwrap();
    assert!(case["n_tokens"].as_u64().unwrap() > starting);
}

#[test]
fn f32_differences_are_rounding_noise() {
    // An f64 run is free of f32 rounding; our f32 result and the reference's f32 result
    // should be about equally far from it. A real defect (wrong eps, slope, GELU flavour)
    // would show up as a gap here, not as noise.
    let m32 = load(&tiny_dir());
    let m64 = DnaBertS::load(&tiny_dir(), Kind::Double, Device::Cpu).unwrap();
    let expected = expected();
    for case in ["d_short", "d_500", "d_long_3000"] {
        let ids = expected[&format!("{case}.input_ids")].unsqueeze(0);
        let mask = ids.ones_like();
        let ours = m32.forward_layers(&ids, &mask);
        let exact = m64.forward_layers(&ids, &mask);
        for (i, label) in ["embeddings", "layer_0", "layer_1"].iter().enumerate() {
            let exact = exact[i].squeeze_dim(0);
            let theirs = max_abs_diff(&expected[&format!("{case}.{label}")], &exact);
            let mine = max_abs_diff(&ours[i].squeeze_dim(0), &exact);
            eprintln!("dnabert {case}.{label} vs f64: ours {mine:.3e}, reference {theirs:.3e}");
            assert!(
                theirs <= HIDDEN_ATOL && mine <= HIDDEN_ATOL,
                "{case}.{label}"
            );
        }
    }
}

#[test]
fn reduced_precision_runs_stay_close() {
    // bf16/f16 weights on the CPU: the padding and ALiBi bias must be cast to the model's
    // kind for SDPA, and -10000 must still mask padded keys.
    let m32 = load(&tiny_dir());
    let inputs = inputs();
    let seqs: Vec<String> = cases(&inputs).into_iter().map(|(_, s)| s).collect();
    let seqs: Vec<&str> = seqs.iter().map(String::as_str).collect();
    let want = m32.embed_sequences(&seqs).unwrap();
    for (kind, atol) in [(Kind::BFloat16, 0.05), (Kind::Half, 0.01)] {
        let model = DnaBertS::load(&tiny_dir(), kind, Device::Cpu).unwrap();
        let got = model.embed_sequences(&seqs).unwrap();
        assert_eq!(got.kind(), Kind::Float);
        let diff = max_abs_diff(&got, &want);
        eprintln!("dnabert {kind:?} mean vs f32: max abs diff {diff:.3e}");
        assert!(diff <= atol, "{kind:?}: {diff:e}");
    }
}

/// A folder holding config.json and tokenizer.json of the tiny model, plus `weights`
/// copied in under `name`.
fn folder_with(weights: &Path, name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in ["config.json", "tokenizer.json"] {
        std::fs::copy(tiny_dir().join(f), dir.path().join(f)).unwrap();
    }
    std::fs::copy(weights, dir.path().join(name)).unwrap();
    dir
}

#[test]
fn all_weight_layouts_give_identical_outputs() {
    let bin_dir = folder_with(&tiny_dir().join("pytorch_model.bin"), "pytorch_model.bin");
    let ordered = folder_with(
        &fixture("models/dnabert_s_tiny_ordereddict.bin"),
        "dnabert_s_tiny_ordereddict.bin",
    );
    let prefixed = folder_with(
        &fixture("models/dnabert_s_tiny_bert_prefixed.safetensors"),
        "dnabert_s_tiny_bert_prefixed.safetensors",
    );
    let layouts = [
        ("folder with model.safetensors", tiny_dir()),
        (
            "folder with pytorch_model.bin",
            bin_dir.path().to_path_buf(),
        ),
        (
            "OrderedDict .bin file",
            ordered.path().join("dnabert_s_tiny_ordereddict.bin"),
        ),
        (
            "bert.-prefixed safetensors file",
            prefixed
                .path()
                .join("dnabert_s_tiny_bert_prefixed.safetensors"),
        ),
    ];
    let inputs = inputs();
    let seqs: Vec<String> = cases(&inputs).into_iter().map(|(_, s)| s).collect();
    let seqs: Vec<&str> = seqs.iter().map(String::as_str).collect();

    // The two folders really are read from the file their label says.
    for (i, file) in [(0, "model.safetensors"), (1, "pytorch_model.bin")] {
        let ckpt = Checkpoint::open(&layouts[i].1).unwrap();
        assert!(ckpt.files()[0].ends_with(file), "{:?}", ckpt.files());
    }
    // The tensors themselves: every encoder tensor of every layout equals the folder's.
    let encoder_tensors = |path: &Path| {
        let ckpt = Checkpoint::open(path).unwrap_or_else(|e| panic!("{e}"));
        let ckpt = if ckpt.contains("bert.embeddings.word_embeddings.weight") {
            ckpt.with_prefix("bert.")
        } else {
            ckpt
        };
        let names: Vec<String> = ckpt
            .names()
            .into_iter()
            .filter(|n| !n.starts_with("pooler."))
            .map(str::to_string)
            .collect();
        names
            .into_iter()
            .map(|n| {
                let t = ckpt.load(&n, Kind::Float, Device::Cpu).unwrap();
                (n, t)
            })
            .collect::<Vec<_>>()
    };
    let want_tensors = encoder_tensors(&layouts[0].1);
    assert_eq!(
        want_tensors.len(),
        4 + 2 * 11,
        "encoder tensors of the tiny model"
    );
    for (label, path) in &layouts[1..] {
        let got = encoder_tensors(path);
        let names = |v: &[(String, Tensor)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(names(&got), names(&want_tensors), "{label}: tensor names");
        for ((name, g), (_, w)) in got.iter().zip(&want_tensors) {
            assert!(g.equal(w), "{label}: tensor {name} differs");
        }
    }

    let reference = load(&layouts[0].1);
    let (ids, mask) = reference.tokenizer().batch(&seqs).unwrap();
    let want = reference.forward_layers(&ids, &mask);
    let want_mean = reference.embed(&ids, &mask);
    for (label, path) in &layouts[1..] {
        let model = load(path);
        let got = model.forward_layers(&ids, &mask);
        assert_eq!(got.len(), want.len(), "{label}");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            // Same tensors, same kernels: bit-identical, not merely close.
            assert!(
                g.equal(w),
                "{label}: output {i} differs by {:e}",
                max_abs_diff(g, w)
            );
        }
        assert!(model.embed(&ids, &mask).equal(&want_mean), "{label}: mean");
        eprintln!("dnabert {label}: tensors and outputs identical to the model.safetensors folder");
    }
}

#[test]
fn a_folder_without_tokenizer_or_config_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        tiny_dir().join("model.safetensors"),
        dir.path().join("model.safetensors"),
    )
    .unwrap();
    std::fs::copy(
        tiny_dir().join("config.json"),
        dir.path().join("config.json"),
    )
    .unwrap();
    let err = load_err(dir.path());
    assert!(
        matches!(
            &err,
            DnaBertError::MissingFile {
                what: "tokenizer.json",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("tokenizer.json"), "{err}");

    std::fs::remove_file(dir.path().join("config.json")).unwrap();
    let err = load_err(dir.path());
    assert!(
        matches!(
            &err,
            DnaBertError::MissingFile {
                what: "config.json",
                ..
            }
        ),
        "{err}"
    );
    // A weights file given directly looks for the same files beside it.
    let err = load_err(&dir.path().join("model.safetensors"));
    assert!(err.to_string().contains("config.json"), "{err}");

    let err = load_err(&dir.path().join("no_such_model"));
    assert!(err.to_string().contains("no_such_model"), "{err}");
}

#[test]
fn a_wrong_architecture_is_refused() {
    // An ESM-2 folder: its config.json says so before any weight is read.
    let esm = fixture("models/esm2_tiny_hf");
    let err = load_err(&esm);
    assert!(
        matches!(err, DnaBertError::WrongArchitecture { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("esm"), "{err}");

    // ESM-2 weights behind a DNABERT-S config: the keys give it away.
    let dir = folder_with(&esm.join("model.safetensors"), "model.safetensors");
    let err = load_err(dir.path());
    assert!(
        matches!(err, DnaBertError::WrongArchitecture { .. }),
        "{err}"
    );
    let message = err.to_string();
    assert!(message.contains("model.safetensors"), "{message}");
    assert!(
        message.contains("embeddings.word_embeddings.weight"),
        "{message}"
    );
}

#[test]
fn a_config_that_does_not_fit_the_weights_is_refused() {
    let edit = |change: &dyn Fn(&mut serde_json::Value)| {
        let dir = folder_with(&tiny_dir().join("model.safetensors"), "model.safetensors");
        let path = dir.path().join("config.json");
        let mut config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        change(&mut config);
        std::fs::write(&path, config.to_string()).unwrap();
        let err = load_err(dir.path());
        (err.to_string(), err)
    };
    let (message, err) = edit(&|c| {
        c["hidden_size"] = 128.into();
        c["num_hidden_layers"] = 12.into();
    });
    assert!(
        matches!(err, DnaBertError::ConfigMismatch { .. }),
        "{message}"
    );
    assert!(message.contains("hidden_size is 128"), "{message}");
    assert!(message.contains("num_hidden_layers is 12"), "{message}");

    let (message, err) = edit(&|c| c["num_attention_heads"] = 7.into());
    assert!(
        matches!(err, DnaBertError::ConfigMismatch { .. }),
        "{message}"
    );
    assert!(message.contains("num_attention_heads 7"), "{message}");

    let (message, err) = edit(&|c| c["layer_norm_eps"] = (-1.0).into());
    assert!(matches!(err, DnaBertError::BadConfig { .. }), "{message}");

    let (message, err) = edit(&|c| {
        if let Some(o) = c.as_object_mut() {
            o.remove("num_attention_heads");
        }
    });
    assert!(matches!(err, DnaBertError::BadConfig { .. }), "{message}");
}

#[test]
fn a_checkpoint_missing_a_layer_tensor_names_it() {
    let tensors = Tensor::read_safetensors(tiny_dir().join("model.safetensors")).unwrap();
    let kept: Vec<(String, Tensor)> = tensors
        .into_iter()
        .filter(|(n, _)| n != "encoder.layer.1.mlp.wo.bias")
        .collect();
    let dir = folder_with(&tiny_dir().join("config.json"), "unused.json");
    Tensor::write_safetensors(&kept, dir.path().join("model.safetensors")).unwrap();
    let err = load_err(dir.path());
    assert!(matches!(err, DnaBertError::Weights(_)), "{err}");
    assert!(
        err.to_string().contains("encoder.layer.1.mlp.wo.bias"),
        "{err}"
    );
}

#[test]
fn runner_traits_match_the_model() {
    use virnucpro_engine::embed::{Encode, Tokenize};
    let model = load(&tiny_dir());
    let tokenizer: &dyn Tokenize = model.tokenizer();
    assert_eq!(tokenizer.pad_id(), 3);
    assert_eq!(
        tokenizer.encode("ACGTACGTTTGA").unwrap(),
        vec![1, 5, 194, 134, 23, 2]
    );

    let seqs = [
        "ACGTACGTTTGA",
        "ACGTNNNNACGTTTGACCATGGNATTTAAACCCGGGTTTA",
        "N",
    ];
    let (ids, mask) = model.tokenizer().batch(&seqs).unwrap();
    let lengths: Vec<i64> =
        Vec::try_from(mask.sum_dim_intlist([1].as_slice(), false, Kind::Int64)).unwrap();
    let encoder: &dyn Encode = &model;
    assert_eq!(encoder.dim(), 96);
    let got = encoder.embed(&ids, &lengths).unwrap();
    assert_eq!(got.device(), Device::Cpu);
    assert!(got.equal(&model.embed(&ids, &mask)));
}
