//! Weight files are told apart by their structure, through core's one detector
//! (`virnucpro_core::file_kind`): a safetensors file is loaded whatever the low byte of its
//! header length (0x80 was once taken for pickle's PROTO), and a real pre-1.6 torch pickle
//! is still refused with the re-save advice, by every reader that meets one.
use std::fs;
use std::path::{Path, PathBuf};

use virnucpro_core::cancel::CancelToken;
use virnucpro_core::features::FeatureFile;
use virnucpro_core::file_kind::FileKind;
use virnucpro_engine::classifier::ClassifierProblem;
use virnucpro_engine::discovery::{discover, DiscoverOptions, ModelKind as Found, SearchRoots};
use virnucpro_engine::embed::Precision;
use virnucpro_engine::embed::{embed_files, setup_model, EmbedOptions, FileStatus, ModelKind};
use virnucpro_engine::weights::Checkpoint;
use virnucpro_engine::MlpClassifier;
use virnucpro_testkit::{fixture, format_fixture};

const RESAVE: &str = "legacy (pre-1.6, non-zip) format; re-save it with a recent PyTorch";

/// The tiny ESM-2 fixture's `model.safetensors`, split into its header and its data.
struct Safetensors {
    header: serde_json::Map<String, serde_json::Value>,
    data: Vec<u8>,
}

impl Safetensors {
    fn read(path: &Path) -> Self {
        let bytes = fs::read(path).unwrap();
        let len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header = serde_json::from_slice(&bytes[8..8 + len]).unwrap();
        Self {
            header,
            data: bytes[8 + len..].to_vec(),
        }
    }

    /// The same tensors with a header padded (through `__metadata__`) to a length whose
    /// low byte is `low`, as a Python writer's metadata would shift it.
    fn with_header_low_byte(&self, low: u8) -> Vec<u8> {
        let json = |pad: usize| {
            let mut header = self.header.clone();
            let metadata = serde_json::json!({ "format": "pt", "pad": "x".repeat(pad) });
            header.insert("__metadata__".into(), metadata);
            serde_json::to_vec(&header).unwrap()
        };
        let base = json(0).len();
        let pad = (usize::from(low) + 256 - base % 256) % 256;
        let header = json(pad);
        assert_eq!(header.len() % 256, usize::from(low));
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend(header);
        bytes.extend(&self.data);
        bytes
    }
}

/// An ESM-2 Hugging Face folder: the tiny fixture's config and vocabulary with `weights`
/// as its `model.safetensors`.
fn esm_folder(dir: &Path, weights: &[u8]) -> PathBuf {
    let src = fixture("models/esm2_tiny_hf");
    fs::create_dir_all(dir).unwrap();
    for name in [
        "config.json",
        "vocab.txt",
        "tokenizer_config.json",
        "special_tokens_map.json",
    ] {
        fs::copy(src.join(name), dir.join(name)).unwrap();
    }
    fs::write(dir.join("model.safetensors"), weights).unwrap();
    dir.to_path_buf()
}

fn proteins(dir: &Path) -> PathBuf {
    let path = dir.join("output_1.faa");
    fs::write(
        &path,
        ">read_1_1F\nMKTAYIAKQRQISFVKSHFSRQ\n>read_1_2R\nLAGHWQ\n>read_2_1F\nMPEPTIDESEQ\n",
    )
    .unwrap();
    path
}

/// Embed `input` with the ESM-2 model at `weights` on the CPU, through the runner that
/// `virnucpro embed` and `predict` use; the output's rows.
fn embed_rows(weights: &Path, input: &Path, out: &Path) -> Vec<f32> {
    let setup = setup_model(ModelKind::Esm2, weights, Precision::Fp32)
        .unwrap_or_else(|e| panic!("{}: {e}", weights.display()));
    let job = setup.job(vec![input.to_path_buf()], out.to_path_buf());
    let options = EmbedOptions {
        devices: vec![virnucpro_engine::devices::DeviceId::Cpu],
        batch_tokens: 4096,
        force: true,
    };
    let report = embed_files(&job, &options, &CancelToken::new(), &mut |_| {}).unwrap();
    let file = &report.files[0];
    assert!(
        matches!(file.status, FileStatus::Written),
        "{}: {:?}",
        weights.display(),
        file.status
    );
    FeatureFile::open(&file.output).unwrap().to_vec()
}

#[test]
fn every_low_byte_of_a_safetensors_header_length_loads_through_embed_and_discovery() {
    let tmp = tempfile::tempdir().unwrap();
    let input = proteins(tmp.path());
    let original = fixture("models/esm2_tiny_hf");
    let expected = embed_rows(&original, &input, &tmp.path().join("expected"));
    let source = Safetensors::read(&original.join("model.safetensors"));
    let models = tmp.path().join("models");
    for low in 0..=255u8 {
        let bytes = source.with_header_low_byte(low);
        let folder = esm_folder(&models.join(format!("esm2_hdr_{low:02x}")), &bytes);
        let weights = folder.join("model.safetensors");
        match FileKind::of_file(&weights).unwrap() {
            FileKind::Safetensors { header_len } => assert_eq!(header_len % 256, u64::from(low)),
            other => panic!("low byte {low:#04x}: {other:?}"),
        }
        Checkpoint::open(&weights).unwrap_or_else(|e| panic!("low byte {low:#04x}: {e}"));
        let rows = embed_rows(&folder, &input, &tmp.path().join(format!("out_{low:02x}")));
        assert!(rows == expected, "low byte {low:#04x}: other embeddings");
    }

    let found = discover(
        &SearchRoots::default().with_extra([models.clone()]),
        &DiscoverOptions::default(),
    )
    .unwrap();
    assert_eq!(found.models.len(), 256);
    for model in &found.models {
        assert_eq!(model.kind, Found::Esm2, "{}", model.name);
        assert!(
            model.problems.is_empty(),
            "{}: {:?}",
            model.name,
            model.problems
        );
    }
}

#[test]
fn a_file_written_by_python_safetensors_with_header_length_0x80_loads() {
    let python = format_fixture("esm2_tiny_hdr80.safetensors");
    let bytes = fs::read(&python).unwrap();
    assert_eq!(bytes[0], 0x80, "the fixture no longer starts with 0x80");
    let tmp = tempfile::tempdir().unwrap();
    let input = proteins(tmp.path());
    let folder = esm_folder(&tmp.path().join("esm2_python"), &bytes);
    let expected = embed_rows(
        &fixture("models/esm2_tiny_hf"),
        &input,
        &tmp.path().join("expected"),
    );
    let rows = embed_rows(&folder, &input, &tmp.path().join("out"));
    assert!(
        rows == expected,
        "the Python-written copy embeds differently"
    );
}

/// An HF folder whose `pytorch_model.bin` is a real pre-1.6 torch pickle.
fn legacy_folder(dir: &Path) -> PathBuf {
    let folder = esm_folder(dir, b"");
    fs::remove_file(folder.join("model.safetensors")).unwrap();
    fs::copy(
        format_fixture("state_dict_legacy.bin"),
        folder.join("pytorch_model.bin"),
    )
    .unwrap();
    folder
}

#[test]
fn a_real_legacy_torch_pickle_is_refused_with_the_resave_advice() {
    let legacy = format_fixture("state_dict_legacy.bin");
    assert_eq!(
        FileKind::of_file(&legacy).unwrap(),
        FileKind::LegacyPickle { protocol: 2 }
    );
    let err = Checkpoint::open(&legacy).err().unwrap().to_string();
    assert!(err.contains(RESAVE), "{err}");

    let tmp = tempfile::tempdir().unwrap();
    let folder = legacy_folder(&tmp.path().join("esm2_legacy"));
    let err = setup_model(ModelKind::Esm2, &folder, Precision::Fp32)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains(RESAVE), "{err}");

    let found = discover(
        &SearchRoots::default().with_extra([tmp.path().to_path_buf()]),
        &DiscoverOptions::default(),
    )
    .unwrap();
    let [model] = found.models.as_slice() else {
        panic!("{:#?}", found.models)
    };
    assert!(
        model.problems.iter().any(|p| p.contains(RESAVE)),
        "{:?}",
        model.problems
    );
}

#[test]
fn the_classifier_loader_says_what_a_wrong_file_is() {
    let legacy = format_fixture("classifier_500_tiny_legacy.pth");
    let err = MlpClassifier::load(&legacy, tch::Device::Cpu).unwrap_err();
    assert!(
        matches!(
            err.problem,
            ClassifierProblem::NotAModelFile(FileKind::LegacyPickle { protocol: 2 })
        ),
        "{err}"
    );
    let text = err.to_string();
    assert!(text.contains("this is not a PyTorch model file"), "{text}");
    assert!(text.contains(RESAVE), "{text}");

    // A FASTA file and a safetensors file chosen as the classifier.
    let fasta = fixture("reference/test_with_orfs.fa");
    let err = MlpClassifier::load(&fasta, tch::Device::Cpu).unwrap_err();
    assert!(
        matches!(
            err.problem,
            ClassifierProblem::NotAModelFile(FileKind::Unknown)
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("this is not a PyTorch model file: it is neither a safetensors file"),
        "{err}"
    );
    let safetensors = format_fixture("esm2_tiny_hdr80.safetensors");
    let err = MlpClassifier::load(&safetensors, tch::Device::Cpu).unwrap_err();
    assert!(
        err.to_string()
            .contains("this is not a PyTorch model file: it is a safetensors file"),
        "{err}"
    );
}

/// A download cut short before its kind shows (fewer bytes than the detector reads) is
/// named as cut short by discovery, not as a file of another kind.
#[test]
fn a_weight_file_cut_short_in_its_first_bytes_is_named_so() {
    let tmp = tempfile::tempdir().unwrap();
    let head = fs::read(fixture("models/esm2_tiny_hf/model.safetensors")).unwrap();
    esm_folder(&tmp.path().join("esm2_cut"), &head[..5]);
    let found = discover(
        &SearchRoots::default().with_extra([tmp.path().to_path_buf()]),
        &DiscoverOptions::default(),
    )
    .unwrap();
    let [model] = found.models.as_slice() else {
        panic!("{:#?}", found.models)
    };
    assert_eq!(
        model.problems,
        ["model.safetensors is cut short (5 bytes)"],
        "{model:?}"
    );
}
