//! The Models screen's logic on a temporary cache (`CacheRoots::in_folder`, as
//! `XDG_CACHE_HOME` would place it) and a catalogue file of tiny models; no network.
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;
use virnucpro_models::checksum::sha256_file;
use virnucpro_models::{CacheRoots, Catalogue, Endpoints, FetchEvent, ModelState};

use super::*;

const REV: &str = "0123456789abcdef0123456789abcdef01234567";

/// A cache folder, a folder of files "copied in by hand", and a store whose catalogue
/// pins exactly those files.
struct World {
    _dir: tempfile::TempDir,
    usb: PathBuf,
    store: ModelStore,
}

fn write(path: &Path, bytes: &[u8]) -> serde_json::Value {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
    json!({
        "name": path.file_name().unwrap().to_str().unwrap(),
        "size": bytes.len(),
        "checksum": format!("sha256:{}", sha256_file(path).unwrap()),
    })
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let usb = dir.path().join("usb");
    let config = write(&usb.join("config.json"), br#"{"model_type":"bert"}"#);
    let mut weights = write(&usb.join("pytorch_model.bin"), &[7u8; 4096]);
    weights["lfs"] = json!(true);
    let classifier = write(&usb.join("500_model.pth"), &[5u8; 2048]);
    let mut classifier_url = classifier.clone();
    classifier_url["url"] = json!("http://127.0.0.1:9/500_model.pth");
    let catalogue = json!({ "entries": [
        { "id": "dnabert-s", "title": "DNABERT-S (tiny)", "role": "dnabert", "sources": [{
            "name": "hugging-face",
            "store": { "kind": "hf-repo", "repo": "zhihan1996/DNABERT-S", "revision": REV },
            "files": [config, weights],
        }]},
        { "id": "classifier-500", "title": "Classifier 500 (tiny)", "role": "classifier500", "sources": [{
            "name": "github",
            "store": { "kind": "virnucpro", "folder": "classifiers" },
            "use_file": "500_model.pth",
            "files": [classifier_url],
        }]},
    ]});
    // As VIRNUCPRO_CATALOGUE names it.
    let file = dir.path().join("catalogue.json");
    std::fs::write(&file, serde_json::to_vec(&catalogue).unwrap()).unwrap();
    let catalogue = Catalogue::load(&file).unwrap();
    let roots = CacheRoots::in_folder(&dir.path().join("cache"));
    let store = ModelStore::new(catalogue, roots, Endpoints::default());
    World {
        _dir: dir,
        usb,
        store,
    }
}

fn states(store: &ModelStore) -> Vec<(String, ModelState)> {
    store
        .list()
        .models
        .into_iter()
        .map(|m| (m.id, m.state))
        .collect()
}

#[test]
fn a_fresh_cache_lists_every_model_missing_with_nothing_to_default_to() {
    let w = world();
    let list = w.store.list();
    assert_eq!(list.caches, w.store.roots);
    assert_eq!(list.busy, []);
    assert_eq!(
        states(&w.store),
        [
            ("dnabert-s".to_string(), ModelState::Missing),
            ("classifier-500".to_string(), ModelState::Missing)
        ]
    );
    let dnabert = &list.models[0];
    assert_eq!(
        dnabert.path,
        w.store
            .roots
            .hf_hub
            .join("models--zhihan1996--DNABERT-S/snapshots")
            .join(REV)
    );
    assert_eq!(dnabert.size, Some(21 + 4096));
    assert_eq!(dnabert.bytes_present, 0);
    assert_eq!(w.store.installed_defaults(500), InstalledModels::default());
    assert!(w.store.usable_paths().is_empty());
    let err = w.store.reveal_target("dnabert-s").unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert!(
        err.message.contains("DNABERT-S (tiny) is not installed"),
        "{err:?}"
    );
    // The contract's shape: kebab-case states, files with their own state.
    let json = serde_json::to_value(&list).unwrap();
    assert_eq!(json["models"][0]["state"], "missing");
    assert_eq!(json["models"][0]["role"], "dnabert");
    assert_eq!(json["models"][1]["role"], "classifier500");
    assert_eq!(json["models"][0]["files"][1]["state"], "missing");
    assert!(json["caches"]["hf_hub"]
        .as_str()
        .unwrap()
        .ends_with("cache/huggingface/hub"));
}

#[test]
fn imported_files_install_into_the_caches_and_become_the_defaults() {
    let w = world();
    let report = w.store.import(&w.usb).unwrap();
    assert_eq!(report.files.len(), 3, "{report:?}");
    assert!(report
        .files
        .iter()
        .all(|f| f.matched.is_some() && f.installed.is_some()));
    for (_, state) in states(&w.store) {
        assert!(state.is_usable(), "{state:?}");
    }
    let list = w.store.list();
    let snapshot = list.models[0].path.clone();
    let classifier = list.models[1].path.clone();
    assert!(snapshot.join("pytorch_model.bin").is_file());
    assert_eq!(
        classifier,
        w.store.roots.virnucpro.join("classifiers/500_model.pth")
    );

    let defaults = w.store.installed_defaults(500);
    assert_eq!(defaults.dnabert.as_ref(), Some(&snapshot));
    assert_eq!(defaults.esm, None, "not in this catalogue");
    assert_eq!(defaults.classifier.as_ref(), Some(&classifier));
    assert_eq!(w.store.installed_defaults(300).classifier, None);
    assert_eq!(
        w.store.usable_paths(),
        [snapshot.clone(), classifier.clone()]
    );

    // Reveal: the snapshot folder itself, the folder holding a single-file model.
    assert_eq!(w.store.reveal_target("dnabert-s").unwrap(), snapshot);
    assert_eq!(
        w.store.reveal_target("classifier-500").unwrap(),
        classifier.parent().unwrap()
    );

    // Verify hashes them again and reports each file.
    let slot = w.store.begin("dnabert-s", ModelJobKind::Verify).unwrap();
    let mut events = Vec::new();
    let status = w.store.verify(&slot, |e| events.push(e)).unwrap();
    assert_eq!(status.state, ModelState::Verified);
    let verifying = events
        .iter()
        .filter(|e| matches!(e, FetchEvent::Verifying { .. }))
        .count();
    assert_eq!(verifying, 2, "{events:?}");
}

#[test]
fn a_damaged_file_makes_its_model_damaged_after_verify() {
    let w = world();
    w.store.import(&w.usb.join("500_model.pth")).unwrap();
    let path = w.store.model("classifier-500").unwrap().path;
    // Same size, other bytes: only hashing finds it.
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, [6u8; 2048]).unwrap();
    let slot = w
        .store
        .begin("classifier-500", ModelJobKind::Verify)
        .unwrap();
    let status = w.store.verify(&slot, |_| {}).unwrap();
    assert_eq!(status.state, ModelState::Damaged);
    assert_eq!(w.store.installed_defaults(500).classifier, None);
}

#[test]
fn import_of_a_missing_path_or_an_unknown_file() {
    let w = world();
    let err = w.store.import(&w.usb.join("nothing-here")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    let stray = w.usb.join("notes.txt");
    std::fs::write(&stray, b"not a model").unwrap();
    let report = w.store.import(&stray).unwrap();
    assert_eq!(report.files.len(), 1);
    assert_eq!(report.files[0].matched, None);
    assert_eq!(report.files[0].installed, None);
}

#[test]
fn one_job_per_model_and_cancelling_it() {
    let w = world();
    let err = w.store.begin("esm9", ModelJobKind::Fetch).err().unwrap();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert!(err.message.contains("dnabert-s, classifier-500"), "{err:?}");
    assert!(!w.store.cancel("dnabert-s"), "nothing going");

    let slot = w.store.begin("dnabert-s", ModelJobKind::Fetch).unwrap();
    let busy = w
        .store
        .begin("dnabert-s", ModelJobKind::Verify)
        .err()
        .unwrap();
    assert_eq!(busy.kind, ErrorKind::Busy);
    assert!(busy.message.contains("being downloaded"), "{busy:?}");
    let other = w
        .store
        .begin("classifier-500", ModelJobKind::Verify)
        .unwrap();
    assert_eq!(
        w.store.list().busy,
        [
            ModelJob {
                id: "classifier-500".into(),
                kind: ModelJobKind::Verify
            },
            ModelJob {
                id: "dnabert-s".into(),
                kind: ModelJobKind::Fetch
            }
        ]
    );
    assert!(w.store.cancel("dnabert-s"));
    assert!(slot.cancel.is_cancelled());
    assert!(!other.cancel.is_cancelled());
    drop(slot);
    drop(other);
    assert_eq!(w.store.list().busy, []);
    let again = w.store.begin("dnabert-s", ModelJobKind::Fetch).unwrap();
    assert!(!again.cancel.is_cancelled(), "a new job gets a new token");
}

#[test]
fn a_cancelled_fetch_resolves_with_the_models_state() {
    let w = world();
    let store = w.store.with_retry(RetryPolicy {
        attempts: 1,
        first_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(1),
        timeout: Duration::from_secs(1),
    });
    let slot = store.begin("classifier-500", ModelJobKind::Fetch).unwrap();
    slot.cancel.cancel();
    let mut events = Vec::new();
    // Cancelled before its first byte (the URL is never reached).
    let status = store.fetch(&slot, |e| events.push(e)).unwrap();
    assert_eq!(status.id, "classifier-500");
    // Nothing downloaded: an empty partial file, if any, is nothing yet.
    assert_eq!(status.state, ModelState::Missing, "{status:?}");
    assert_eq!(status.bytes_present, 0);
}

fn progress(done: u64) -> FetchEvent {
    FetchEvent::Progress {
        model: "m".into(),
        file: "f".into(),
        done,
        total: Some(100),
        bytes_per_second: 1.0,
        seconds_left: None,
    }
}

#[test]
fn progress_is_thinned_and_the_latest_goes_out_before_other_events() {
    let mut out = Vec::new();
    let t0 = Instant::now();
    let ms = |n| t0 + Duration::from_millis(n);
    {
        let mut thin = Thinner::new(|e| out.push(e), Duration::from_millis(100));
        thin.push(progress(1), ms(0));
        thin.push(progress(2), ms(10));
        thin.push(progress(3), ms(20));
        thin.push(progress(4), ms(120));
        thin.push(progress(5), ms(130));
        thin.push(
            FetchEvent::Verifying {
                model: "m".into(),
                file: "f".into(),
            },
            ms(140),
        );
        thin.push(progress(6), ms(150));
        thin.flush();
    }
    let dones: Vec<Option<u64>> = out
        .iter()
        .map(|e| match e {
            FetchEvent::Progress { done, .. } => Some(*done),
            _ => None,
        })
        .collect();
    assert_eq!(dones, [Some(1), Some(4), Some(5), None, Some(6)]);
}

/// The tiny models on a server on 127.0.0.1, under the real sources' paths.
fn served() -> (
    virnucpro_testkit::http::TestServer,
    tempfile::TempDir,
    ModelStore,
) {
    let server = virnucpro_testkit::http::TestServer::start();
    let tiny = virnucpro_testkit::tiny_models::serve(&server);
    let dir = tempfile::tempdir().unwrap();
    let catalogue = Catalogue::load(&tiny.write_catalogue(dir.path())).unwrap();
    let endpoints = Endpoints {
        hf_endpoint: server.base_url(),
        base_url: Some(server.base_url()),
    };
    let roots = CacheRoots::in_folder(&dir.path().join("cache"));
    let store = ModelStore::new(catalogue, roots, endpoints).with_retry(RetryPolicy {
        attempts: 2,
        first_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(10),
        timeout: Duration::from_secs(10),
    });
    (server, dir, store)
}

#[test]
fn downloads_install_into_the_hub_layout_and_become_the_defaults() {
    let (_server, _dir, store) = served();
    for id in ["dnabert-s", "esm2-3b", "classifier-300", "classifier-500"] {
        let slot = store.begin(id, ModelJobKind::Fetch).unwrap();
        let mut events = Vec::new();
        let status = store.fetch(&slot, |e| events.push(e)).unwrap();
        assert_eq!(status.state, ModelState::Verified, "{id}: {events:?}");
        assert!(
            matches!(events.first(), Some(FetchEvent::Started { .. })),
            "{events:?}"
        );
        assert!(
            matches!(events.last(), Some(FetchEvent::Finished { .. })),
            "{events:?}"
        );
        // What the Channel carries: the contract's tags.
        let tags: Vec<String> = events
            .iter()
            .map(|e| {
                serde_json::to_value(e).unwrap()["event"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert!(tags.contains(&"file-installed".to_string()), "{tags:?}");
    }
    let snapshot = store.model("dnabert-s").unwrap().path;
    let weights = snapshot.join("pytorch_model.bin");
    assert!(weights.symlink_metadata().unwrap().file_type().is_symlink());
    let defaults = store.installed_defaults(300);
    assert_eq!(defaults.dnabert.as_ref(), Some(&snapshot));
    assert!(defaults.esm.unwrap().ends_with("esm2_t2_tiny_fixture.pt"));
    assert!(defaults
        .classifier
        .unwrap()
        .ends_with("classifiers/300_model.pth"));
    assert_eq!(store.reveal_target("dnabert-s").unwrap(), snapshot);
}

#[test]
fn a_download_cancelled_part_way_keeps_its_bytes_and_the_next_one_resumes() {
    use virnucpro_testkit::http::Behaviour;
    let (server, _dir, store) = served();
    let weights = virnucpro_testkit::tiny_models::dnabert_path("pytorch_model.bin");
    server.set_behaviour(
        &weights,
        Behaviour {
            throttle: Some((32 * 1024, Duration::from_millis(5))),
            ..Behaviour::default()
        },
    );
    let slot = store.begin("dnabert-s", ModelJobKind::Fetch).unwrap();
    let token = slot.cancel.clone();
    let mut progressed = 0;
    let status = store
        .fetch(&slot, |e| {
            if let FetchEvent::Progress { file, .. } = &e {
                if file == "pytorch_model.bin" {
                    progressed += 1;
                    token.cancel();
                }
            }
        })
        .unwrap();
    drop(slot);
    assert!(progressed > 0);
    assert_eq!(status.state, ModelState::Partial, "{status:?}");
    assert!(status.bytes_present > 0);
    assert!(store.installed_defaults(500).dnabert.is_none());

    let slot = store.begin("dnabert-s", ModelJobKind::Fetch).unwrap();
    let status = store.fetch(&slot, |_| {}).unwrap();
    assert_eq!(status.state, ModelState::Verified);
    let ranged = server.requests_for(&weights).iter().any(|r| {
        r.range
            .as_deref()
            .is_some_and(|r| !r.starts_with("bytes=0-"))
    });
    assert!(
        ranged,
        "resumed with a Range: {:?}",
        server.requests_for(&weights)
    );
}
