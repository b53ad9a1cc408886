//! Model discovery on fake Hugging Face and torch hub caches built in temporary folders,
//! with the tiny real-layout fixtures (../shared/fixtures/models) standing in for weights.
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use virnucpro_core::input_paths::PathError;
use virnucpro_models::discovery::{
    discover, DiscoverOptions, Discovery, DiscoveryError, Layout, ModelCandidate, ModelKind,
    SearchRoots, Source,
};
use virnucpro_testkit::fixture;

const DNABERT_ST_SHA256: &str = "ce124763c8cbf4fd7484f31528942f88022237770265d22d8a8290a7bf4a3559";
const DNABERT_REV: &str = "1cdf84d992ace6f3e75c7356774b4da088c8dc7d";
const DNABERT_ST_BYTES: u64 = 2_211_280;
const ESM_HF_ST_BYTES: u64 = 710_448;
const ESM_PT_BYTES: u64 = 232_543;

/// A hub cache repository `models--{repo}` with one snapshot `rev`.
struct Repo {
    dir: PathBuf,
    snapshot: PathBuf,
}

impl Repo {
    fn new(hub: &Path, repo: &str, rev: &str) -> Repo {
        let dir = hub.join(format!("models--{}", repo.replace('/', "--")));
        let snapshot = dir.join("snapshots").join(rev);
        fs::create_dir_all(&snapshot).unwrap();
        fs::create_dir_all(dir.join("blobs")).unwrap();
        Repo { dir, snapshot }
    }

    /// Store `content` as blobs/`blob` and link snapshots/REV/`name` to it, as
    /// huggingface_hub does.
    fn add(&self, name: &str, blob: &str, content: &[u8]) -> &Repo {
        fs::write(self.dir.join("blobs").join(blob), content).unwrap();
        self.link(name, blob)
    }

    fn link(&self, name: &str, blob: &str) -> &Repo {
        symlink(format!("../../blobs/{blob}"), self.snapshot.join(name)).unwrap();
        self
    }

    /// A fixture file, under a made-up git-sha1-like blob name (not checked as a digest).
    fn add_fixture(&self, name: &str, fixture_path: &Path) -> &Repo {
        let blob = format!("{:040x}", fxhash(name));
        self.add(name, &blob, &fs::read(fixture_path).unwrap())
    }
}

fn fxhash(text: &str) -> u128 {
    text.bytes().fold(0xcbf29ce484222325u128, |h, b| {
        (h ^ u128::from(b)).wrapping_mul(0x100000001b3)
    }) & ((1u128 << 120) - 1)
}

fn dnabert_repo(hub: &Path) -> Repo {
    let src = fixture("models/dnabert_s_tiny");
    let repo = Repo::new(hub, "zhihan1996/DNABERT-S", DNABERT_REV);
    repo.add_fixture("config.json", &src.join("config.json"))
        .add_fixture("tokenizer.json", &src.join("tokenizer.json"))
        .add_fixture("tokenizer_config.json", &src.join("tokenizer_config.json"))
        // LFS files are stored under their SHA-256.
        .add(
            "model.safetensors",
            DNABERT_ST_SHA256,
            &fs::read(src.join("model.safetensors")).unwrap(),
        );
    repo
}

fn esm_repo(hub: &Path, name: &str) -> Repo {
    let src = fixture("models/esm2_tiny_hf");
    let repo = Repo::new(hub, &format!("facebook/{name}"), "abc123");
    repo.add_fixture("config.json", &src.join("config.json"))
        .add_fixture("vocab.txt", &src.join("vocab.txt"));
    repo
}

fn hub_only(hub: &Path) -> SearchRoots {
    SearchRoots {
        hf_hub: Some(hub.to_path_buf()),
        torch_hub: None,
        extra: Vec::new(),
    }
}

fn run(roots: &SearchRoots) -> Discovery {
    discover(roots, &DiscoverOptions::default()).unwrap()
}

fn only(found: &Discovery) -> &ModelCandidate {
    assert_eq!(found.models.len(), 1, "{:#?}", found.models);
    &found.models[0]
}

fn has_problem(model: &ModelCandidate, words: &[&str]) -> bool {
    model
        .problems
        .iter()
        .any(|p| words.iter().all(|w| p.contains(w)))
}

#[test]
fn hub_snapshots_are_found_through_their_links_with_real_sizes() {
    let hub = tempfile::tempdir().unwrap();
    dnabert_repo(hub.path());
    let esm = esm_repo(hub.path(), "esm2_t36_3B_UR50D");
    esm.add_fixture(
        "model.safetensors",
        &fixture("models/esm2_tiny_hf/model.safetensors"),
    );
    // Other models in the cache are not ours.
    Repo::new(hub.path(), "bert-base-uncased", "r1")
        .add_fixture("config.json", &fixture("models/dnabert_s_tiny/config.json"));

    let found = run(&hub_only(hub.path()));
    assert_eq!(found.models.len(), 2, "{:#?}", found.models);
    let dnabert = &found.models[0];
    assert_eq!(dnabert.kind, ModelKind::DnabertS);
    assert_eq!(dnabert.name, "DNABERT-S");
    assert_eq!(dnabert.source, Source::HfHub);
    assert_eq!(dnabert.revision.as_deref(), Some(DNABERT_REV));
    assert_eq!(dnabert.layout, Some(Layout::HfSafetensors));
    assert_eq!(
        dnabert.size_bytes, DNABERT_ST_BYTES,
        "the blob's size, not the link's"
    );
    assert!(dnabert.is_complete(), "{:?}", dnabert.problems);
    assert_eq!(dnabert.files.len(), 1);
    assert!(dnabert.files[0].path.ends_with("model.safetensors"));
    assert_eq!(dnabert.files[0].sha256, None, "hashed only on request");

    let esm = &found.models[1];
    assert_eq!(esm.kind, ModelKind::Esm2);
    assert_eq!(esm.name, "esm2_t36_3B_UR50D");
    assert_eq!(esm.size_bytes, ESM_HF_ST_BYTES);
    assert!(esm.is_complete(), "{:?}", esm.problems);

    assert_eq!(found.searched.len(), 1);
    assert!(found.searched[0].present);
}

#[test]
fn sha256_on_request_matches_and_a_corrupt_blob_is_named() {
    let hub = tempfile::tempdir().unwrap();
    dnabert_repo(hub.path());
    let options = DiscoverOptions { sha256: true };
    let found = discover(&hub_only(hub.path()), &options).unwrap();
    let model = only(&found);
    assert_eq!(model.files[0].sha256.as_deref(), Some(DNABERT_ST_SHA256));
    assert!(model.is_complete(), "{:?}", model.problems);

    // The same bytes under another digest's name: the download went wrong.
    let hub = tempfile::tempdir().unwrap();
    let esm = esm_repo(hub.path(), "esm2_t6_8M_UR50D");
    esm.add(
        "model.safetensors",
        &"0".repeat(64),
        &fs::read(fixture("models/esm2_tiny_hf/model.safetensors")).unwrap(),
    );
    let found = discover(&hub_only(hub.path()), &options).unwrap();
    assert!(has_problem(
        only(&found),
        &["model.safetensors is corrupt", &"0".repeat(64)]
    ));
}

#[test]
fn a_sharded_index_naming_a_missing_shard_is_a_problem() {
    let hub = tempfile::tempdir().unwrap();
    let esm = esm_repo(hub.path(), "esm2_t36_3B_UR50D");
    let index = r#"{"metadata": {"total_size": 1},
        "weight_map": {"a": "model-00001-of-00002.safetensors",
                       "b": "model-00002-of-00002.safetensors",
                       "c": "model-00001-of-00002.safetensors"}}"#;
    esm.add_fixture(
        "model-00001-of-00002.safetensors",
        &fixture("models/esm2_tiny_hf/model.safetensors"),
    )
    .add(
        "model.safetensors.index.json",
        &"1".repeat(40),
        index.as_bytes(),
    );

    let found = run(&hub_only(hub.path()));
    let model = only(&found);
    assert_eq!(model.layout, Some(Layout::HfShardedSafetensors));
    assert_eq!(model.files.len(), 1);
    assert_eq!(model.size_bytes, ESM_HF_ST_BYTES);
    assert_eq!(model.problems.len(), 1, "{:?}", model.problems);
    assert!(has_problem(
        model,
        &[
            "model-00002-of-00002.safetensors",
            "model.safetensors.index.json",
            "missing"
        ]
    ));
}

#[test]
fn an_index_may_not_point_outside_its_folder() {
    let hub = tempfile::tempdir().unwrap();
    let esm = esm_repo(hub.path(), "esm2_t36_3B_UR50D");
    esm.add(
        "model.safetensors.index.json",
        &"2".repeat(40),
        br#"{"weight_map": {"a": "../../../../etc/passwd"}}"#,
    );
    let model = run(&hub_only(hub.path())).models.remove(0);
    assert!(model.files.is_empty());
    assert!(has_problem(
        &model,
        &["etc/passwd", "not a file name in the model folder"]
    ));
}

#[test]
fn an_interrupted_download_is_reported_not_hidden() {
    let hub = tempfile::tempdir().unwrap();
    let src = fixture("models/dnabert_s_tiny");
    let repo = Repo::new(hub.path(), "zhihan1996/DNABERT-S", "r1");
    // config.json came down, tokenizer.json did not, the weights stopped half way.
    repo.add_fixture("config.json", &src.join("config.json"));
    fs::write(
        repo.dir
            .join("blobs")
            .join(format!("{}.incomplete", "a".repeat(64))),
        vec![0u8; 1000],
    )
    .unwrap();
    fs::write(
        repo.dir
            .join("blobs")
            .join(format!("{}.incomplete", "b".repeat(64))),
        b"",
    )
    .unwrap();

    let model = run(&hub_only(hub.path())).models.remove(0);
    assert_eq!(model.kind, ModelKind::DnabertS);
    assert_eq!(model.layout, None);
    assert_eq!(model.size_bytes, 0);
    assert!(has_problem(&model, &["tokenizer.json is missing"]));
    assert!(has_problem(&model, &["no weight file"]));
    assert!(has_problem(
        &model,
        &["unfinished download", "aaaa", ".incomplete", "1000 bytes"]
    ));
    assert!(has_problem(
        &model,
        &["unfinished download", "bbbb", "0 bytes"]
    ));
    assert_eq!(model.problems.len(), 4, "{:?}", model.problems);
}

#[test]
fn a_repository_without_snapshots_is_still_listed() {
    let hub = tempfile::tempdir().unwrap();
    let blobs = hub.path().join("models--facebook--esm2_t36_3B_UR50D/blobs");
    fs::create_dir_all(&blobs).unwrap();
    fs::write(blobs.join("c0ffee.incomplete"), vec![1u8; 10]).unwrap();
    let model = run(&hub_only(hub.path())).models.remove(0);
    assert_eq!(model.name, "esm2_t36_3B_UR50D");
    assert!(has_problem(&model, &["no snapshot"]));
    assert!(has_problem(&model, &["c0ffee.incomplete", "10 bytes"]));
}

#[test]
fn broken_links_empty_and_cut_short_files_are_problems() {
    let hub = tempfile::tempdir().unwrap();
    // A link whose blob was deleted.
    let esm = esm_repo(hub.path(), "esm2_t6_8M_UR50D");
    esm.link("model.safetensors", &"d".repeat(64));
    // A 0-byte weights file.
    let esm = esm_repo(hub.path(), "esm2_t12_35M_UR50D");
    esm.add("pytorch_model.bin", &"e".repeat(64), b"");
    // Half a safetensors file.
    let esm = esm_repo(hub.path(), "esm2_t30_150M_UR50D");
    let whole = fs::read(fixture("models/esm2_tiny_hf/model.safetensors")).unwrap();
    esm.add(
        "model.safetensors",
        &"f".repeat(64),
        &whole[..whole.len() / 2],
    );
    // Half a torch zip.
    let esm = esm_repo(hub.path(), "esm2_t33_650M_UR50D");
    let whole = fs::read(fixture("models/esm2_tiny_hf/pytorch_model.bin")).unwrap();
    esm.add(
        "pytorch_model.bin",
        &"9".repeat(64),
        &whole[..whole.len() / 2],
    );

    let found = run(&hub_only(hub.path()));
    let by_name = |name: &str| found.models.iter().find(|m| m.name == name).unwrap();
    assert!(has_problem(
        by_name("esm2_t6_8M_UR50D"),
        &["model.safetensors is a link to a missing file", "dddd"]
    ));
    let empty = by_name("esm2_t12_35M_UR50D");
    assert_eq!(empty.layout, Some(Layout::HfPytorchBin));
    assert!(has_problem(
        empty,
        &["pytorch_model.bin is empty (0 bytes)"]
    ));
    assert!(has_problem(
        by_name("esm2_t30_150M_UR50D"),
        &["model.safetensors is cut short"]
    ));
    assert!(has_problem(
        by_name("esm2_t33_650M_UR50D"),
        &["pytorch_model.bin is cut short", "zip"]
    ));
    for model in &found.models {
        assert_eq!(
            model.problems.len(),
            1,
            "{}: {:?}",
            model.name,
            model.problems
        );
    }
}

#[test]
fn config_files_are_checked_not_trusted() {
    let hub = tempfile::tempdir().unwrap();
    let esm = Repo::new(hub.path(), "facebook/esm2_t36_3B_UR50D", "r");
    esm.add_fixture("config.json", &fixture("models/dnabert_s_tiny/config.json"))
        .add_fixture(
            "model.safetensors",
            &fixture("models/esm2_tiny_hf/model.safetensors"),
        );
    let dnabert = Repo::new(hub.path(), "zhihan1996/DNABERT-S", "r");
    dnabert
        .add("config.json", &"3".repeat(40), b"{not json")
        .add_fixture(
            "tokenizer.json",
            &fixture("models/dnabert_s_tiny/tokenizer.json"),
        )
        .add_fixture(
            "pytorch_model.bin",
            &fixture("models/dnabert_s_tiny/pytorch_model.bin"),
        );

    let found = run(&hub_only(hub.path()));
    assert_eq!(found.models.len(), 2);
    let dnabert = &found.models[0];
    assert_eq!(dnabert.layout, Some(Layout::HfPytorchBin));
    assert!(has_problem(dnabert, &["config.json is not valid JSON"]));
    assert_eq!(dnabert.problems.len(), 1, "{:?}", dnabert.problems);
    let esm = &found.models[1];
    assert!(has_problem(
        esm,
        &["model_type \"bert\"", "ESM-2 is \"esm\""]
    ));
}

#[test]
fn torch_hub_checkpoints_and_unfinished_downloads() {
    let torch = tempfile::tempdir().unwrap();
    let src = fixture("models/esm2_tiny_fairesm");
    fs::copy(
        src.join("esm2_t2_tiny_fixture.pt"),
        torch.path().join("esm2_t2_tiny_fixture.pt"),
    )
    .unwrap();
    fs::copy(
        src.join("esm2_t2_tiny_fixture-contact-regression.pt"),
        torch
            .path()
            .join("esm2_t2_tiny_fixture-contact-regression.pt"),
    )
    .unwrap();
    fs::write(
        torch.path().join("esm2_t36_3B_UR50D.pt.0123abcd.partial"),
        vec![7u8; 300],
    )
    .unwrap();
    fs::write(torch.path().join("resnet18-f37072fd.pth"), b"x").unwrap();
    let roots = SearchRoots {
        hf_hub: None,
        torch_hub: Some(torch.path().to_path_buf()),
        extra: Vec::new(),
    };

    let found = run(&roots);
    assert_eq!(found.models.len(), 2, "{:#?}", found.models);
    let tiny = &found.models[0];
    assert_eq!(tiny.name, "esm2_t2_tiny_fixture");
    assert_eq!(tiny.kind, ModelKind::Esm2);
    assert_eq!(tiny.source, Source::TorchHub);
    assert_eq!(tiny.layout, Some(Layout::FairEsmPt));
    assert_eq!(tiny.size_bytes, ESM_PT_BYTES);
    assert!(tiny.is_complete(), "{:?}", tiny.problems);
    let partial = &found.models[1];
    assert_eq!(partial.name, "esm2_t36_3B_UR50D");
    assert!(has_problem(
        partial,
        &[
            "unfinished download",
            "300 bytes",
            "esm2_t36_3B_UR50D.pt is missing"
        ]
    ));

    // A cut-short checkpoint.
    let whole = fs::read(src.join("esm2_t2_tiny_fixture.pt")).unwrap();
    fs::write(
        torch.path().join("esm2_t2_tiny_fixture.pt"),
        &whole[..whole.len() - 100],
    )
    .unwrap();
    assert!(has_problem(&run(&roots).models[0], &["cut short"]));
}

#[test]
fn user_folders_are_scanned_one_level_deep() {
    let models = fixture("models");
    // The fair-esm checkpoint sits in a subfolder (`models/esm2_tiny_fairesm/*.pt`): one
    // level down is searched for checkpoints as well as for model folders.
    let found = run(&SearchRoots::default().with_extra([models.clone()]));
    let summary: Vec<(ModelKind, &str, Option<Layout>)> = found
        .models
        .iter()
        .map(|m| (m.kind, m.name.as_str(), m.layout))
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                ModelKind::DnabertS,
                "dnabert_s_tiny",
                Some(Layout::HfSafetensors)
            ),
            (
                ModelKind::Esm2,
                "esm2_t2_tiny_fixture",
                Some(Layout::FairEsmPt)
            ),
            (ModelKind::Esm2, "esm2_tiny_hf", Some(Layout::HfSafetensors)),
        ]
    );
    for model in &found.models {
        assert!(model.is_complete(), "{}: {:?}", model.name, model.problems);
        assert_eq!(model.source, Source::Folder);
    }
    assert_eq!(found.models[0].size_bytes, DNABERT_ST_BYTES);
    assert_eq!(found.searched.len(), 1);

    // Naming the checkpoint folder as well does not list the checkpoint twice.
    let both =
        run(&SearchRoots::default().with_extra([models.clone(), models.join("esm2_tiny_fairesm")]));
    assert_eq!(both.models.len(), 3);

    // A model folder named directly is found too.
    let direct = run(&SearchRoots::default().with_extra([models.join("esm2_tiny_hf")]));
    assert_eq!(only(&direct).name, "esm2_tiny_hf");
}

#[test]
fn esm_folders_are_recognised_by_config_whatever_their_name() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("my-protein-model");
    fs::create_dir(&folder).unwrap();
    for file in ["config.json", "model.safetensors"] {
        fs::copy(fixture("models/esm2_tiny_hf").join(file), folder.join(file)).unwrap();
    }
    // A BERT that is not named DNABERT-S cannot be told from any other BERT: skipped.
    let bert = dir.path().join("some-bert");
    fs::create_dir(&bert).unwrap();
    fs::copy(
        fixture("models/dnabert_s_tiny/config.json"),
        bert.join("config.json"),
    )
    .unwrap();

    let found = run(&SearchRoots::default().with_extra([dir.path().to_path_buf()]));
    let model = only(&found);
    assert_eq!(
        (model.kind, model.name.as_str()),
        (ModelKind::Esm2, "my-protein-model")
    );
}

#[test]
fn a_hub_cache_named_as_a_folder_is_not_listed_twice() {
    let hub = tempfile::tempdir().unwrap();
    dnabert_repo(hub.path());
    let roots = hub_only(hub.path()).with_extra([hub.path().to_path_buf()]);
    let found = run(&roots);
    assert_eq!(only(&found).source, Source::HfHub);
    assert_eq!(found.searched.len(), 2);
}

#[test]
fn missing_places() {
    let dir = tempfile::tempdir().unwrap();
    let roots = SearchRoots {
        hf_hub: Some(dir.path().join("no-hub")),
        torch_hub: Some(dir.path().join("no-torch")),
        extra: Vec::new(),
    };
    let found = run(&roots);
    assert!(found.models.is_empty());
    assert_eq!(found.searched.len(), 2);
    assert!(found.searched.iter().all(|p| !p.present));

    // Caches may be absent; a folder the user names may not.
    let missing = dir.path().join("typo");
    let err = discover(
        &roots.clone().with_extra([missing.clone()]),
        &DiscoverOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, DiscoveryError::Folder(PathError::NotFound { path }) if path == &missing),
        "{err:?}"
    );
    let file = fixture("models/README.md");
    let err = discover(
        &SearchRoots::default().with_extra([file]),
        &DiscoverOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, DiscoveryError::NotAFolder { .. }), "{err:?}");
}

#[test]
fn the_json_form_names_kinds_layouts_and_sources_in_kebab_case() {
    let hub = tempfile::tempdir().unwrap();
    dnabert_repo(hub.path());
    let json = serde_json::to_value(run(&hub_only(hub.path()))).unwrap();
    let model = &json["models"][0];
    assert_eq!(model["kind"], "dnabert-s");
    assert_eq!(model["layout"], "hf-safetensors");
    assert_eq!(model["source"], "hf-hub");
    assert_eq!(model["size_bytes"], DNABERT_ST_BYTES);
    assert_eq!(model["problems"], serde_json::json!([]));
    assert_eq!(model["files"][0]["sha256"], serde_json::Value::Null);
    assert_eq!(json["searched"][0]["source"], "hf-hub");
    assert_eq!(json["searched"][0]["present"], true);
}

#[test]
fn a_snapshot_named_as_a_folder_keeps_its_repository_name() {
    let hub = tempfile::tempdir().unwrap();
    let repo = dnabert_repo(hub.path());
    let found = run(&SearchRoots::default().with_extra([repo.snapshot.clone()]));
    let model = only(&found);
    assert_eq!(model.kind, ModelKind::DnabertS);
    assert_eq!(model.name, "DNABERT-S");
    assert_eq!(model.source, Source::Folder);
    assert_eq!(model.revision.as_deref(), Some(DNABERT_REV));
    assert!(model.is_complete(), "{:?}", model.problems);
}
