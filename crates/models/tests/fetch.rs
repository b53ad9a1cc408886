//! Fetching catalogue models from a real HTTP server on 127.0.0.1 that serves the tiny
//! fixture models under the real sources' paths: the installed layout, wrong bytes, cancel
//! and resume, a fallback source, damaged files, import and provenance.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use virnucpro_core::CancelToken;
use virnucpro_models::download::RetryPolicy;
use virnucpro_models::import::ImportMode;
use virnucpro_models::{
    fetch, import, provenance, status, verify, CacheRoots, Catalogue, Endpoints, FetchError,
    FetchEvent, FetchOptions, ModelRole, ModelState, Provenance,
};
use virnucpro_testkit::fixture;
use virnucpro_testkit::http::{Behaviour, TestServer};
use virnucpro_testkit::tiny_models::{self, dnabert_path, DNABERT_REVISION};

struct Setup {
    server: TestServer,
    catalogue: Catalogue,
    options: FetchOptions,
    _dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let server = TestServer::start();
    let tiny = tiny_models::serve(&server);
    let catalogue: Catalogue = serde_json::from_value(tiny.catalogue).unwrap();
    catalogue.validate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let options = FetchOptions {
        roots: CacheRoots::in_folder(&dir.path().join("cache")),
        endpoints: Endpoints {
            base_url: Some(server.base_url()),
            ..Endpoints::default()
        },
        retry: RetryPolicy {
            attempts: 3,
            first_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            timeout: Duration::from_secs(10),
        },
    };
    Setup {
        server,
        catalogue,
        options,
        _dir: dir,
    }
}

impl Setup {
    fn fetch(
        &self,
        id: &str,
    ) -> (
        Result<virnucpro_models::ModelStatus, FetchError>,
        Vec<FetchEvent>,
    ) {
        self.fetch_until(id, &CancelToken::new(), |_| false)
    }

    fn fetch_until(
        &self,
        id: &str,
        cancel: &CancelToken,
        stop: impl Fn(&FetchEvent) -> bool,
    ) -> (
        Result<virnucpro_models::ModelStatus, FetchError>,
        Vec<FetchEvent>,
    ) {
        let mut events = Vec::new();
        let result = fetch(&self.catalogue, id, &self.options, cancel, &mut |e| {
            if stop(e) {
                cancel.cancel();
            }
            events.push(e.clone());
        });
        (result, events)
    }

    fn hub_repo(&self) -> PathBuf {
        self.options
            .roots
            .hf_hub
            .join("models--zhihan1996--DNABERT-S")
    }

    fn state(&self, id: &str) -> ModelState {
        status(&self.catalogue, &self.options.roots)
            .into_iter()
            .find(|s| s.id == id)
            .unwrap()
            .state
    }
}

/// `git hash-object`: the blob id git itself computes.
fn git_hash_object(path: &Path) -> String {
    let out = Command::new("git")
        .arg("hash-object")
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "git hash-object failed");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn sha256(path: &Path) -> String {
    virnucpro_models::checksum::sha256_file(path).unwrap()
}

fn files_named(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() && !path.is_symlink() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(suffix) {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn a_fetch_installs_huggingface_hubs_own_layout() {
    let s = setup();
    let (result, events) = s.fetch("dnabert-s");
    let status = result.unwrap();
    assert_eq!(status.state, ModelState::Verified);
    let snapshot = s.hub_repo().join("snapshots").join(DNABERT_REVISION);
    assert_eq!(status.path, snapshot);
    let source = fixture("models/dnabert_s_tiny");
    for (name, lfs) in tiny_models::DNABERT_FILES {
        let link = snapshot.join(name);
        // The blob's name is what huggingface_hub derives from the ETag: the SHA-256 for
        // LFS files, git's blob id for the others.
        let blob = if lfs {
            sha256(&source.join(name))
        } else {
            git_hash_object(&source.join(name))
        };
        assert_eq!(
            std::fs::read_link(&link).unwrap(),
            Path::new("../../blobs").join(&blob),
            "{name}"
        );
        assert_eq!(
            std::fs::read(&link).unwrap(),
            std::fs::read(source.join(name)).unwrap()
        );
        assert!(s.hub_repo().join("blobs").join(&blob).is_file());
    }
    assert_eq!(
        std::fs::read_to_string(s.hub_repo().join("refs/main")).unwrap(),
        DNABERT_REVISION
    );
    assert!(files_named(&s.hub_repo(), ".incomplete").is_empty());
    let total: u64 = status.size.unwrap();
    assert!(events
        .iter()
        .any(|e| matches!(e, FetchEvent::Progress { done, .. } if *done == total)));
    assert!(matches!(
        events.last(),
        Some(FetchEvent::Finished {
            state: ModelState::Verified,
            ..
        })
    ));
    // A second fetch has nothing to do.
    let before = s.server.requests().len();
    assert_eq!(s.fetch("dnabert-s").0.unwrap().state, ModelState::Verified);
    assert_eq!(s.server.requests().len(), before);
}

#[test]
fn wrong_bytes_are_reported_with_both_checksums_and_not_installed() {
    let s = setup();
    let path = dnabert_path("pytorch_model.bin");
    let mut bytes = std::fs::read(fixture("models/dnabert_s_tiny/pytorch_model.bin")).unwrap();
    bytes[1000] ^= 0xff;
    s.server.serve(&path, bytes.clone());
    let (result, _) = s.fetch("dnabert-s");
    let err = result.unwrap_err();
    let message = err.to_string();
    let expected = sha256(&fixture("models/dnabert_s_tiny/pytorch_model.bin"));
    let got = {
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), &bytes).unwrap();
        sha256(tmp.path())
    };
    assert!(
        message.contains(&format!("expected sha256:{expected}")),
        "{message}"
    );
    assert!(message.contains(&format!("got sha256:{got}")), "{message}");
    assert!(
        message.contains("pytorch_model.bin") && message.contains("not installed"),
        "{message}"
    );
    let snapshot = s.hub_repo().join("snapshots").join(DNABERT_REVISION);
    assert!(std::fs::symlink_metadata(snapshot.join("pytorch_model.bin")).is_err());
    assert!(!s.hub_repo().join("blobs").join(&got).exists());
    assert!(!s.hub_repo().join("blobs").join(&expected).exists());
    assert!(files_named(&s.hub_repo(), ".incomplete").is_empty());
    assert_eq!(s.state("dnabert-s"), ModelState::Partial);
}

#[test]
fn a_cancelled_fetch_keeps_its_bytes_and_the_next_one_resumes() {
    let s = setup();
    let path = dnabert_path("pytorch_model.bin");
    s.server.set_behaviour(
        &path,
        Behaviour {
            throttle: Some((16 * 1024, Duration::from_millis(20))),
            ..Behaviour::default()
        },
    );
    let cancel = CancelToken::new();
    let (result, _) = s.fetch_until("dnabert-s", &cancel, |e| {
        matches!(e, FetchEvent::Progress { file, done, .. } if file == "pytorch_model.bin" && *done > 200_000)
    });
    assert!(matches!(result, Err(FetchError::Cancelled)), "{result:?}");
    let partial = status(&s.catalogue, &s.options.roots)
        .into_iter()
        .find(|m| m.id == "dnabert-s")
        .unwrap();
    assert_eq!(partial.state, ModelState::Partial);
    let kept = s.hub_repo().join("blobs").join(format!(
        "{}.incomplete",
        sha256(&fixture("models/dnabert_s_tiny/pytorch_model.bin"))
    ));
    let kept_bytes = std::fs::metadata(&kept).unwrap().len();
    assert!(kept_bytes > 0);

    s.server.set_behaviour(&path, Behaviour::default());
    assert_eq!(s.fetch("dnabert-s").0.unwrap().state, ModelState::Verified);
    let last = s.server.requests_for(&path).into_iter().last().unwrap();
    let resumed_from: u64 = last
        .range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no Range on the resumed request: {last:?}"));
    assert_eq!(resumed_from, kept_bytes);
    assert_eq!(last.status, 206);
}

#[test]
fn a_source_that_is_gone_falls_back_to_the_next() {
    let mut s = setup();
    // ESM-2 with a second source: the same tiny files on the hub, as the real catalogue
    // falls back from fair-esm to facebook/esm2_t36_3B_UR50D.
    let esm = s
        .catalogue
        .entries
        .iter_mut()
        .find(|e| e.id == "esm2-3b")
        .unwrap();
    let mut hub = esm.sources[0].clone();
    hub.name = "hugging-face".into();
    hub.store = virnucpro_models::catalogue::Store::HfRepo {
        repo: "facebook/esm2_tiny".into(),
        revision: "r1".into(),
    };
    for file in &mut hub.files {
        file.url = None;
        let bytes = std::fs::read(fixture("models/esm2_tiny_fairesm").join(&file.name)).unwrap();
        s.server.serve(
            &format!("/facebook/esm2_tiny/resolve/r1/{}", file.name),
            bytes,
        );
    }
    esm.sources.push(hub);
    let gone = format!("/fair-esm/models/{}", tiny_models::ESM_NAME);
    s.server.set_behaviour(
        &gone,
        Behaviour {
            status: Some(404),
            ..Behaviour::default()
        },
    );
    let (result, events) = s.fetch("esm2-3b");
    let status = result.unwrap();
    assert_eq!(status.source, "hugging-face");
    assert_eq!(status.state, ModelState::Verified);
    assert!(status
        .path
        .ends_with("models--facebook--esm2_tiny/snapshots/r1/esm2_t2_tiny_fixture.pt"));
    assert!(events.iter().any(|e| matches!(e,
        FetchEvent::FallingBack { from, to, reason, .. }
            if from == "fair-esm" && to == "hugging-face" && reason.contains("404"))));
    assert_eq!(
        s.server.requests_for(&gone).len(),
        1,
        "a 404 is not retried"
    );
}

#[test]
fn a_damaged_file_is_found_by_verify_and_fetched_again() {
    let s = setup();
    s.fetch("esm2-3b").0.unwrap();
    let installed = s
        .options
        .roots
        .torch_checkpoints
        .join(tiny_models::ESM_NAME);
    let mut bytes = std::fs::read(&installed).unwrap();
    let good = bytes.clone();
    bytes[500] ^= 1;
    std::fs::write(&installed, &bytes).unwrap();
    // Changed since it was hashed: installed, not verified, until hashed again.
    assert_eq!(s.state("esm2-3b"), ModelState::Installed);
    let verified = verify::verify(
        &s.catalogue,
        "esm2-3b",
        &s.options.roots,
        &CancelToken::new(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(verified.state, ModelState::Damaged);
    assert_eq!(s.fetch("esm2-3b").0.unwrap().state, ModelState::Verified);
    assert_eq!(std::fs::read(&installed).unwrap(), good);
}

#[test]
fn import_installs_matching_files_and_reports_the_others() {
    let s = setup();
    let roots = &s.options.roots;
    let copied = tempfile::tempdir().unwrap();
    for name in [tiny_models::ESM_NAME, tiny_models::ESM_REGRESSION_NAME] {
        std::fs::copy(
            fixture("models/esm2_tiny_fairesm").join(name),
            copied.path().join(name),
        )
        .unwrap();
    }
    std::fs::write(copied.path().join("notes.txt"), b"from the old workstation").unwrap();
    let report = import(
        &s.catalogue,
        roots,
        copied.path(),
        ImportMode::Copy,
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(report.files.len(), 3);
    let notes = report
        .files
        .iter()
        .find(|f| f.path.ends_with("notes.txt"))
        .unwrap();
    assert!(notes.matched.is_none() && notes.installed.is_none());
    let esm = report
        .files
        .iter()
        .find(|f| f.path.ends_with(tiny_models::ESM_NAME))
        .unwrap();
    assert_eq!(esm.matched.as_ref().unwrap().model, "esm2-3b");
    assert_eq!(s.state("esm2-3b"), ModelState::Verified);
    assert!(s.server.requests().is_empty(), "import downloads nothing");
    let installed = esm.installed.clone().unwrap();
    assert_eq!(
        provenance(&s.catalogue, roots, ModelRole::Esm, &installed),
        Provenance::Verified {
            model: "esm2-3b".into()
        }
    );
}

#[test]
fn in_place_import_verifies_where_it_is_and_other_bytes_stay_unverified() {
    let s = setup();
    let roots = &s.options.roots;
    let copied = tempfile::tempdir().unwrap();
    let dnabert = copied.path().join("DNABERT-S");
    std::fs::create_dir(&dnabert).unwrap();
    for (name, _) in tiny_models::DNABERT_FILES {
        std::fs::copy(
            fixture("models/dnabert_s_tiny").join(name),
            dnabert.join(name),
        )
        .unwrap();
    }
    // Not yet checked: unverified.
    assert_eq!(
        provenance(&s.catalogue, roots, ModelRole::Dnabert, &dnabert),
        Provenance::Unverified
    );
    let report = import(
        &s.catalogue,
        roots,
        &dnabert,
        ImportMode::InPlace,
        &CancelToken::new(),
    )
    .unwrap();
    assert!(report
        .files
        .iter()
        .all(|f| f.matched.is_some() && f.installed.is_none()));
    assert_eq!(
        s.state("dnabert-s"),
        ModelState::Missing,
        "nothing was copied into the cache"
    );
    assert_eq!(
        provenance(&s.catalogue, roots, ModelRole::Dnabert, &dnabert),
        Provenance::Verified {
            model: "dnabert-s".into()
        }
    );
    // Other weights in the same place are no longer the verified ones.
    let weights = dnabert.join("pytorch_model.bin");
    let mut bytes = std::fs::read(&weights).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&weights, bytes).unwrap();
    assert_eq!(
        provenance(&s.catalogue, roots, ModelRole::Dnabert, &dnabert),
        Provenance::Unverified
    );
}

#[test]
fn a_second_fetch_of_the_same_model_waits_for_none_and_downloads_nothing() {
    let s = setup();
    // What another process holds while it fetches dnabert-s.
    let held = virnucpro_models::lock::try_lock(&s.options.roots.virnucpro, "dnabert-s").unwrap();
    let err = s.fetch("dnabert-s").0.unwrap_err();
    assert!(matches!(err, FetchError::Busy { .. }), "{err}");
    assert!(err.to_string().contains("another VirNucPro process"));
    assert!(s.server.requests().is_empty());
    // Other models are not held up.
    assert_eq!(s.fetch("esm2-3b").0.unwrap().state, ModelState::Verified);
    drop(held);
    assert_eq!(s.fetch("dnabert-s").0.unwrap().state, ModelState::Verified);
}
