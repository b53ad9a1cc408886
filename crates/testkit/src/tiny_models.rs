//! The tiny fixture models served like the real ones: under the real sources' URL paths on
//! a [`TestServer`], with a catalogue (the shape of `crates/models/src/catalogue.json`)
//! that pins their sizes and checksums.
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::fixture;
use crate::http::TestServer;

/// The pinned DNABERT-S revision of the real catalogue (tiny files behind it here).
pub const DNABERT_REVISION: &str = "00e47f96cdea35e4b6f5df89e5419cbe47d490c6";
pub const DNABERT_REPO_PATH: &str =
    "/zhihan1996/DNABERT-S/resolve/00e47f96cdea35e4b6f5df89e5419cbe47d490c6";
/// The VirNucPro commit of the real catalogue's classifiers.
pub const CLASSIFIER_PATH: &str =
    "/Li-Jing-1997/VirNucPro/0b7e6f1f1c5972ce30aa1ced5977890406d3efe2";
pub const ESM_NAME: &str = "esm2_t2_tiny_fixture.pt";
pub const ESM_REGRESSION_NAME: &str = "esm2_t2_tiny_fixture-contact-regression.pt";

/// DNABERT-S files as in the real repository; `true`: stored with LFS.
pub const DNABERT_FILES: [(&str, bool); 4] = [
    ("config.json", false),
    ("tokenizer.json", false),
    ("pytorch_model.bin", true),
    ("tokenizer_config.json", false),
];

fn sha256_of(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn git_sha1_of(bytes: &[u8]) -> String {
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {}\0", bytes.len()).as_bytes());
    hasher.update(bytes);
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One catalogue file, its bytes pinned by SHA-256.
fn pinned(name: &str, bytes: &[u8], lfs: bool) -> Value {
    json!({ "name": name, "size": bytes.len(), "checksum": format!("sha256:{}", sha256_of(bytes)), "lfs": lfs })
}

/// What [`serve`] put on the server.
pub struct TinyModels {
    /// The catalogue, as JSON.
    pub catalogue: Value,
}

impl TinyModels {
    /// The catalogue written to `dir/catalogue.json` (for `VIRNUCPRO_CATALOGUE`).
    pub fn write_catalogue(&self, dir: &Path) -> PathBuf {
        let path = dir.join("catalogue.json");
        let text = serde_json::to_string_pretty(&self.catalogue).unwrap_or_default();
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        path
    }
}

/// The URL path of a DNABERT-S file.
pub fn dnabert_path(name: &str) -> String {
    format!("{DNABERT_REPO_PATH}/{name}")
}

/// Serve DNABERT-S (hub), ESM-2 (fair-esm) and both classifiers (GitHub raw) on `server`,
/// and return a catalogue of them whose URLs point at the real hosts: tests reach the
/// server through `VIRNUCPRO_MODEL_BASE_URL` (or `HF_ENDPOINT` for the hub).
pub fn serve(server: &TestServer) -> TinyModels {
    let dnabert_dir = fixture("models/dnabert_s_tiny");
    let mut dnabert_files = Vec::new();
    for (name, lfs) in DNABERT_FILES {
        let bytes = read(&dnabert_dir.join(name));
        server.serve(&dnabert_path(name), bytes.clone());
        let mut file = pinned(name, &bytes, lfs);
        if name == "tokenizer_config.json" {
            file["python_only"] = json!(true);
        }
        dnabert_files.push(file);
    }
    let esm_dir = fixture("models/esm2_tiny_fairesm");
    let mut esm_files = Vec::new();
    for (name, folder) in [(ESM_NAME, "models"), (ESM_REGRESSION_NAME, "regression")] {
        let bytes = read(&esm_dir.join(name));
        let path = format!("/fair-esm/{folder}/{name}");
        server.serve(&path, bytes.clone());
        let mut file = pinned(name, &bytes, false);
        file["url"] = json!(format!("https://dl.fbaipublicfiles.com{path}"));
        esm_files.push(file);
    }
    let classifier = |length: usize| {
        let bytes = read(&fixture(&format!("e2e/a{length}/classifier.pth")));
        let name = format!("{length}_model.pth");
        let path = format!("{CLASSIFIER_PATH}/{name}");
        server.serve(&path, bytes.clone());
        json!({
            "id": format!("classifier-{length}"),
            "title": format!("VirNucPro classifier for {length} bp ({name})"),
            "role": format!("classifier{length}"),
            "sources": [{
                "name": "github",
                "store": { "kind": "virnucpro", "folder": "classifiers" },
                "use_file": name,
                // Like the real ones: a git blob id, no published size.
                "files": [{ "name": name, "url": format!("https://raw.githubusercontent.com{path}"),
                            "checksum": format!("git-sha1:{}", git_sha1_of(&bytes)) }]
            }]
        })
    };
    let catalogue = json!({ "entries": [
        {
            "id": "dnabert-s", "title": "DNABERT-S (tiny)", "role": "dnabert",
            "sources": [{ "name": "hugging-face",
                          "store": { "kind": "hf-repo", "repo": "zhihan1996/DNABERT-S", "revision": DNABERT_REVISION },
                          "files": dnabert_files }]
        },
        {
            "id": "esm2-3b", "title": "ESM-2 (tiny)", "role": "esm",
            "sources": [{ "name": "fair-esm", "store": { "kind": "torch-checkpoints" },
                          "use_file": ESM_NAME, "files": esm_files }]
        },
        classifier(300),
        classifier(500),
    ]});
    TinyModels { catalogue }
}
