//! Weight loading from every on-disk layout of the fixtures: each must give the same
//! tensors, bit for bit, and bad files must give errors that name the file and the problem.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::TensorView;
use tch::{Device, Kind, Tensor};
use virnucpro_engine::weights::{Checkpoint, WeightError, WeightFormat};
use virnucpro_testkit::fixture;

fn models() -> PathBuf {
    fixture("models")
}

fn all_tensors(ckpt: &Checkpoint, kind: Kind) -> HashMap<String, Tensor> {
    ckpt.names()
        .into_iter()
        .filter(|n| {
            ckpt.info(n).is_some_and(|i| {
                matches!(
                    i.kind,
                    Kind::Float | Kind::Half | Kind::BFloat16 | Kind::Double
                )
            })
        })
        .map(|n| (n.to_owned(), ckpt.load(n, kind, Device::Cpu).expect(n)))
        .collect()
}

fn assert_same(a: &HashMap<String, Tensor>, b: &HashMap<String, Tensor>, what: &str) {
    let mut names_a: Vec<&String> = a.keys().collect();
    let mut names_b: Vec<&String> = b.keys().collect();
    names_a.sort();
    names_b.sort();
    assert_eq!(names_a, names_b, "{what}: tensor names differ");
    for (name, t) in a {
        let u = &b[name];
        assert_eq!(t.size(), u.size(), "{what}: {name} shape");
        assert!(t.equal(u), "{what}: {name} differs");
    }
}

#[test]
fn dnabert_layouts_load_identical_tensors() {
    let dir = models().join("dnabert_s_tiny");
    let folder = Checkpoint::open(&dir).unwrap();
    assert_eq!(folder.format(), WeightFormat::Safetensors);
    assert_eq!(folder.files(), [dir.join("model.safetensors")]);
    assert!(folder.pickle_root().is_none());
    let reference = all_tensors(&folder, Kind::Float);
    assert_eq!(reference.len(), 28);
    assert_eq!(
        folder
            .info("encoder.layer.0.attention.self.Wqkv.weight")
            .unwrap()
            .shape,
        [288, 96]
    );

    let bin = Checkpoint::open(&dir.join("pytorch_model.bin")).unwrap();
    assert_eq!(bin.format(), WeightFormat::TorchPickle);
    assert_same(
        &reference,
        &all_tensors(&bin, Kind::Float),
        "pytorch_model.bin",
    );

    let ordered = Checkpoint::open(&models().join("dnabert_s_tiny_ordereddict.bin")).unwrap();
    assert_same(
        &reference,
        &all_tensors(&ordered, Kind::Float),
        "OrderedDict .bin",
    );

    // The `bert.` layout has an MLM head and no pooler: compare what both hold.
    let prefixed = Checkpoint::open(&models().join("dnabert_s_tiny_bert_prefixed.safetensors"))
        .unwrap()
        .with_prefix("bert.");
    assert!(!prefixed.names().iter().any(|n| n.starts_with("cls.")));
    let mut without_pooler = all_tensors(&folder, Kind::Float);
    without_pooler.retain(|n, _| !n.starts_with("pooler."));
    assert_same(
        &without_pooler,
        &all_tensors(&prefixed, Kind::Float),
        "bert. prefix",
    );
}

#[test]
fn esm_layouts_load_identical_tensors() {
    let dir = models().join("esm2_tiny_hf");
    let hf = Checkpoint::open(&dir).unwrap();
    let reference = all_tensors(&hf, Kind::Float);
    let bin = Checkpoint::open(&dir.join("pytorch_model.bin")).unwrap();
    assert_same(
        &reference,
        &all_tensors(&bin, Kind::Float),
        "HF pytorch_model.bin",
    );
    // position_ids is int64 and must keep its values.
    let ids = hf
        .load("esm.embeddings.position_ids", Kind::Int64, Device::Cpu)
        .unwrap();
    assert_eq!(ids.size(), [1, 1026]);
    assert_eq!(ids.int64_value(&[0, 1025]), 1025);

    // fair-esm stores fp16 under other names; the fixture's values are exactly
    // representable in fp16, so loading as f32 gives the HF tensors exactly.
    let fair =
        Checkpoint::open(&models().join("esm2_tiny_fairesm/esm2_t2_tiny_fixture.pt")).unwrap();
    assert!(fair.pickle_root().is_some_and(|r| r.get("cfg").is_some()));
    let fair = fair.with_prefix("model.encoder.sentence_encoder.");
    assert_eq!(fair.info("embed_tokens.weight").unwrap().kind, Kind::Half);
    for (fair_name, hf_name) in [
        (
            "embed_tokens.weight",
            "esm.embeddings.word_embeddings.weight",
        ),
        (
            "layers.1.self_attn.q_proj.weight",
            "esm.encoder.layer.1.attention.self.query.weight",
        ),
        ("layers.0.fc2.bias", "esm.encoder.layer.0.output.dense.bias"),
        (
            "layers.0.self_attn.rot_emb.inv_freq",
            "esm.encoder.layer.0.attention.self.rotary_embeddings.inv_freq",
        ),
        (
            "emb_layer_norm_after.weight",
            "esm.encoder.emb_layer_norm_after.weight",
        ),
    ] {
        let t = fair.load(fair_name, Kind::Float, Device::Cpu).unwrap();
        assert!(t.equal(&reference[hf_name]), "{fair_name} != {hf_name}");
    }
}

#[test]
fn loads_convert_dtype() {
    let fair = Checkpoint::open(&models().join("esm2_tiny_fairesm/esm2_t2_tiny_fixture.pt"))
        .unwrap()
        .with_prefix("model.encoder.sentence_encoder.");
    let name = "layers.0.fc1.weight";
    let half = fair.load(name, Kind::Half, Device::Cpu).unwrap();
    let float = fair.load(name, Kind::Float, Device::Cpu).unwrap();
    let bf16 = fair.load(name, Kind::BFloat16, Device::Cpu).unwrap();
    assert_eq!(
        (half.kind(), float.kind(), bf16.kind()),
        (Kind::Half, Kind::Float, Kind::BFloat16)
    );
    assert!(half.to_kind(Kind::Float).equal(&float));
    assert!(float.to_kind(Kind::BFloat16).equal(&bf16));
}

/// Split the DNABERT safetensors file into two shards with an index, as HF does for
/// large models.
fn write_sharded(dir: &Path) -> HashMap<String, Tensor> {
    let source = Checkpoint::open(&models().join("dnabert_s_tiny")).unwrap();
    let tensors = all_tensors(&source, Kind::Float);
    let mut names: Vec<&String> = tensors.keys().collect();
    names.sort();
    let (first, second) = names.split_at(names.len() / 2);
    let mut weight_map = serde_json::Map::new();
    for (shard, part) in [
        ("model-00001-of-00002.safetensors", first),
        ("model-00002-of-00002.safetensors", second),
    ] {
        let data: Vec<(String, Vec<u8>, Vec<usize>)> = part
            .iter()
            .map(|n| {
                let t = &tensors[*n];
                let values: Vec<f32> = Vec::try_from(t.flatten(0, -1)).unwrap();
                let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
                let shape = t.size().iter().map(|&d| d as usize).collect();
                ((*n).clone(), bytes, shape)
            })
            .collect();
        let views: Vec<(String, TensorView)> = data
            .iter()
            .map(|(n, bytes, shape)| {
                (
                    n.clone(),
                    TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes).unwrap(),
                )
            })
            .collect();
        safetensors::serialize_to_file(views, None, &dir.join(shard)).unwrap();
        for n in part {
            weight_map.insert((*n).clone(), shard.into());
        }
    }
    let index = serde_json::json!({"metadata": {"total_size": 0}, "weight_map": weight_map});
    std::fs::write(dir.join("model.safetensors.index.json"), index.to_string()).unwrap();
    tensors
}

#[test]
fn sharded_checkpoints_load_and_missing_shards_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let reference = write_sharded(tmp.path());
    let sharded = Checkpoint::open(tmp.path()).unwrap();
    assert_eq!(sharded.format(), WeightFormat::ShardedSafetensors);
    assert_eq!(sharded.files().len(), 2);
    assert_same(&reference, &all_tensors(&sharded, Kind::Float), "sharded");

    std::fs::remove_file(tmp.path().join("model-00002-of-00002.safetensors")).unwrap();
    let err = Checkpoint::open(tmp.path()).err().unwrap();
    assert!(matches!(err, WeightError::Index { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("shard model-00002-of-00002.safetensors is missing"),
        "{err}"
    );
}

#[test]
fn sharded_torch_index_loads() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = models().join("dnabert_s_tiny/pytorch_model.bin");
    std::fs::copy(&bin, tmp.path().join("pytorch_model-00001-of-00001.bin")).unwrap();
    let source = Checkpoint::open(&bin).unwrap();
    let map: serde_json::Map<String, serde_json::Value> = source
        .names()
        .into_iter()
        .map(|n| (n.to_owned(), "pytorch_model-00001-of-00001.bin".into()))
        .collect();
    let index = serde_json::json!({ "weight_map": map });
    std::fs::write(
        tmp.path().join("pytorch_model.bin.index.json"),
        index.to_string(),
    )
    .unwrap();
    let sharded = Checkpoint::open(tmp.path()).unwrap();
    assert_eq!(sharded.format(), WeightFormat::ShardedTorchPickle);
    assert_same(
        &all_tensors(&source, Kind::Float),
        &all_tensors(&sharded, Kind::Float),
        "sharded torch",
    );

    // An index naming a tensor its shard does not hold is refused.
    let mut map = map;
    map.insert(
        "encoder.layer.9.extra".into(),
        "pytorch_model-00001-of-00001.bin".into(),
    );
    std::fs::write(
        tmp.path().join("pytorch_model.bin.index.json"),
        serde_json::json!({ "weight_map": map }).to_string(),
    )
    .unwrap();
    let err = Checkpoint::open(tmp.path()).err().unwrap().to_string();
    assert!(
        err.contains("tensor encoder.layer.9.extra is not in"),
        "{err}"
    );
}

#[test]
fn check_keys_lists_every_problem_at_once() {
    let ckpt = Checkpoint::open(&models().join("dnabert_s_tiny")).unwrap();
    let expected = vec![
        (
            "embeddings.word_embeddings.weight".to_owned(),
            vec![4096, 96],
        ),
        ("embeddings.LayerNorm.weight".to_owned(), vec![64]),
        ("encoder.layer.5.mlp.wo.weight".to_owned(), vec![96, 128]),
    ];
    // Everything else is ignored except the pooler, which is then unexpected.
    let ignore = |n: &str| !n.starts_with("pooler.");
    let err = ckpt.check_keys(&expected, &ignore).unwrap_err();
    let WeightError::Keys {
        missing,
        unexpected,
        mismatched,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(missing, &["encoder.layer.5.mlp.wo.weight"]);
    assert_eq!(unexpected, &["pooler.dense.bias", "pooler.dense.weight"]);
    assert_eq!(mismatched.len(), 1);
    assert_eq!(mismatched[0].found, [96]);
    let text = err.to_string();
    assert!(
        text.contains("dnabert_s_tiny: the weights do not fit the model"),
        "{text}"
    );
    assert!(ckpt.check_keys(&expected[..1], &|_| true).is_ok());
}

#[test]
fn bad_paths_and_files_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let err = Checkpoint::open(&missing).err().unwrap();
    assert!(matches!(err, WeightError::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("nope: no such file or folder"));

    let err = Checkpoint::open(tmp.path()).err().unwrap().to_string();
    assert!(
        err.contains("no model weights in this folder (looked for model.safetensors,"),
        "{err}"
    );

    let cases: [(&str, &[u8], &str); 4] = [
        ("empty.bin", b"", "the file is empty"),
        (
            "text.pt",
            b"hello, I am not a model file",
            "neither a safetensors file nor a torch.save zip archive",
        ),
        (
            "legacy.pt",
            b"\x80\x02\x8a\x0alz\xfc\x9cF\xf9",
            "legacy (pre-1.6, non-zip) format",
        ),
        (
            "trunc.safetensors",
            b"\x40\x00\x00\x00\x00\x00\x00\x00{\"a\":",
            "not a readable safetensors file",
        ),
    ];
    for (name, bytes, message) in cases {
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = Checkpoint::open(&path).err().unwrap().to_string();
        assert!(err.starts_with(&path.display().to_string()), "{err}");
        assert!(err.contains(message), "{name}: {err}");
    }

    // A safetensors file cut short: the header promises more data than there is.
    let good = std::fs::read(models().join("dnabert_s_tiny/model.safetensors")).unwrap();
    let cut = tmp.path().join("cut.safetensors");
    std::fs::write(&cut, &good[..good.len() - 100]).unwrap();
    let err = Checkpoint::open(&cut).err().unwrap().to_string();
    assert!(err.contains("not a readable safetensors file"), "{err}");

    // A torch archive cut short.
    let good = std::fs::read(models().join("dnabert_s_tiny/pytorch_model.bin")).unwrap();
    let cut = tmp.path().join("cut.bin");
    std::fs::write(&cut, &good[..good.len() / 2]).unwrap();
    let err = Checkpoint::open(&cut).err().unwrap().to_string();
    assert!(err.starts_with(&cut.display().to_string()), "{err}");

    let ckpt = Checkpoint::open(&models().join("dnabert_s_tiny")).unwrap();
    let err = ckpt
        .load("no.such.tensor", Kind::Float, Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("dnabert_s_tiny: no tensor named no.such.tensor"),
        "{err}"
    );
}
