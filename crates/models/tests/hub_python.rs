//! The Hugging Face cache that a fetch writes, read by `huggingface_hub` itself (pinned in
//! `crates/models/python/requirements.txt`, installed into `.venv-hub/` by `make setup`):
//! offline, it finds every file of the pinned revision and of `main`, and its cache scan
//! sees a whole, healthy repository.
use std::process::Command;
use std::time::Duration;

use virnucpro_core::CancelToken;
use virnucpro_models::download::RetryPolicy;
use virnucpro_models::{fetch, CacheRoots, Catalogue, Endpoints, FetchOptions, ModelState};
use virnucpro_testkit::http::TestServer;
use virnucpro_testkit::tiny_models::{self, DNABERT_REVISION};
use virnucpro_testkit::{fixture, repo_root};

const CHECK: &str = r#"
import json, os, sys
from huggingface_hub import scan_cache_dir, snapshot_download, hf_hub_download, try_to_load_from_cache
repo, revision = "zhihan1996/DNABERT-S", sys.argv[1]
info = scan_cache_dir()
[cached] = [r for r in info.repos if r.repo_id == repo]
[rev] = list(cached.revisions)
print(json.dumps({
    "warnings": [str(w) for w in info.warnings],
    "refs": sorted(cached.refs),
    "commit": rev.commit_hash,
    "files": {f.file_name: [f.size_on_disk, os.path.basename(f.blob_path)] for f in rev.files},
    "snapshot": snapshot_download(repo),
    "pinned_weights": try_to_load_from_cache(repo, "pytorch_model.bin", revision=revision),
    "main_config": hf_hub_download(repo, "config.json"),
}))
"#;

#[test]
fn huggingface_hub_reads_the_fetched_cache_as_its_own() {
    let python = repo_root().join(".venv-hub/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: this test needs huggingface_hub in .venv-hub/ (run `make setup` or \
         `bash scripts/setup-hub-check.sh`)",
        python.display()
    );
    let server = TestServer::start();
    let catalogue: Catalogue =
        serde_json::from_value(tiny_models::serve(&server).catalogue).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let roots = CacheRoots::in_folder(dir.path());
    let options = FetchOptions {
        roots: roots.clone(),
        endpoints: Endpoints {
            base_url: Some(server.base_url()),
            ..Endpoints::default()
        },
        retry: RetryPolicy {
            first_delay: Duration::from_millis(5),
            ..RetryPolicy::default()
        },
    };
    let status = fetch(
        &catalogue,
        "dnabert-s",
        &options,
        &CancelToken::new(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(status.state, ModelState::Verified);

    let out = Command::new(&python)
        .args(["-c", CHECK, DNABERT_REVISION])
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_HUB_CACHE", &roots.hf_hub)
        .env_remove("HF_HOME")
        .env_remove("HF_ENDPOINT")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["warnings"], serde_json::json!([]), "{seen:#}");
    assert_eq!(seen["refs"], serde_json::json!(["main"]));
    assert_eq!(seen["commit"], DNABERT_REVISION);
    let snapshot = roots
        .hf_hub
        .join("models--zhihan1996--DNABERT-S/snapshots")
        .join(DNABERT_REVISION);
    assert_eq!(seen["snapshot"], snapshot.to_str().unwrap());
    assert_eq!(
        seen["pinned_weights"],
        snapshot.join("pytorch_model.bin").to_str().unwrap()
    );
    assert_eq!(
        seen["main_config"],
        snapshot.join("config.json").to_str().unwrap()
    );
    for (name, _) in tiny_models::DNABERT_FILES {
        let size = std::fs::metadata(fixture("models/dnabert_s_tiny").join(name))
            .unwrap()
            .len();
        assert_eq!(seen["files"][name][0], size, "{name}");
    }
    assert_eq!(
        seen["files"].as_object().unwrap().len(),
        tiny_models::DNABERT_FILES.len()
    );
}
