//! The built-in `Demo` preset: the sample reads and the RANDOM tiny models of `demo/`
//! (demo/models/README.md), so a first launch can run end to end without any download.
//!
//! A packaged app carries them as bundled resources (`bundle.resources` in
//! tauri.conf.json); a development build also finds them in the repository's `demo/`.
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use virnucpro_core::run_folder::files::{fingerprint_model, FileEntry};
use virnucpro_core::run_folder::manifest::Models;

use crate::api::{PairMode, Precision, RunSettings};

pub const DEMO_PRESET: &str = "Demo";
const SAMPLE_READS: &str = "sample_reads.fa";
const DNABERT: &str = "models/dnabert_s_tiny";
const ESM: &str = "models/esm2_tiny/esm2_t2_tiny_fixture.pt";
const CLASSIFIER: &str = "models/classifier_500_tiny.pth";

/// The folder holding the demo files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoFiles {
    pub root: PathBuf,
}

impl DemoFiles {
    /// The bundled `demo/` under the app's resource folder, else (in debug builds only, so a
    /// shipped app never reads its build machine's checkout) the repository's `demo/`.
    pub fn find(resource_dir: Option<&Path>) -> Option<Self> {
        let bundled = resource_dir.map(|dir| dir.join("demo"));
        let repo = cfg!(debug_assertions).then(repo_demo_dir);
        bundled
            .into_iter()
            .chain(repo)
            .find(|dir| Self::complete(dir))
            .map(|dir| Self {
                root: std::fs::canonicalize(&dir).unwrap_or(dir),
            })
    }

    fn complete(dir: &Path) -> bool {
        [SAMPLE_READS, DNABERT, ESM, CLASSIFIER]
            .iter()
            .all(|f| dir.join(f).exists())
    }

    /// When the demo files last changed (were installed, or updated with the app): the
    /// built-in preset's "Updated" date. Now, if the file system keeps no times.
    pub fn updated(&self) -> String {
        let newest = [SAMPLE_READS, DNABERT, ESM, CLASSIFIER]
            .iter()
            .filter_map(|file| {
                std::fs::metadata(self.root.join(file))
                    .ok()?
                    .modified()
                    .ok()
            })
            .max();
        match newest.and_then(|time| time.duration_since(UNIX_EPOCH).ok()) {
            Some(since_epoch) => crate::timestamp::rfc3339(since_epoch.as_secs()),
            None => crate::timestamp::now(),
        }
    }

    /// The demo run: the sample reads on the CPU, results into `out_dir`.
    pub fn settings(&self, out_dir: PathBuf) -> RunSettings {
        RunSettings {
            inputs: vec![self.root.join(SAMPLE_READS)],
            out_dir,
            dnabert: self.root.join(DNABERT),
            esm: self.root.join(ESM),
            classifier: self.root.join(CLASSIFIER),
            length: 500,
            devices: vec!["cpu".into()],
            threads: None,
            precision: Precision::Fp32,
            batch_tokens: None,
            keep_features: false,
            pairs: PairMode::Auto,
            samples: Vec::new(),
        }
    }
}

/// Whether a run with `used` models used any of the demo's (`demo`: the Demo preset's
/// settings). Their weights are random, so such a run's calls and scores mean nothing, and
/// the results must say so. A model counts as the demo's when it names the same files (a
/// run may record them unresolved, `demo/../demo/models/…`, or relative to where the CLI
/// ran) or holds the same content (the manifest's XXH3 of each file: a copy elsewhere).
pub fn uses_demo_models(demo: &RunSettings, used: &Models) -> bool {
    let file = |path: &Path| std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    [
        (&demo.dnabert, &used.dnabert),
        (&demo.esm, &used.esm),
        (&demo.classifier, &used.classifier),
    ]
    .iter()
    .any(|(demo_path, record)| {
        file(demo_path) == file(&record.path) || same_content(demo_path, &record.files)
    })
}

/// Whether `recorded` (a manifest's model files) are the files of `model`, by content.
fn same_content(model: &Path, recorded: &[FileEntry]) -> bool {
    let hashes = |entries: &[FileEntry]| {
        let mut hashes: Vec<String> = entries.iter().map(|e| e.xxh3.clone()).collect();
        hashes.sort();
        hashes
    };
    match fingerprint_model(model, &[]) {
        Ok(files) => !recorded.is_empty() && hashes(&files) == hashes(recorded),
        Err(_) => false,
    }
}

/// `demo/` of the repository this crate was built from.
pub fn repo_demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_files_come_first_and_the_repository_is_the_fallback() {
        let resources = tempfile::tempdir().unwrap();
        let repo = DemoFiles::find(Some(resources.path())).expect("the repository's demo/");
        assert!(repo.root.ends_with("demo"), "{:?}", repo.root);
        assert!(repo.settings("/out".into()).inputs[0].is_file());

        for file in [SAMPLE_READS, DNABERT, ESM, CLASSIFIER] {
            let path = resources.path().join("demo").join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, b"").unwrap();
        }
        let bundled = DemoFiles::find(Some(resources.path())).unwrap();
        assert!(bundled
            .root
            .starts_with(std::fs::canonicalize(resources.path()).unwrap()));
        let settings = bundled.settings("/out".into());
        // The built-in preset is as new as its files, not 1970.
        let reads = std::fs::File::options()
            .write(true)
            .open(bundled.root.join(SAMPLE_READS))
            .unwrap();
        let when = UNIX_EPOCH + std::time::Duration::from_secs(1_795_900_000);
        reads.set_modified(when).unwrap();
        for file in [DNABERT, ESM, CLASSIFIER] {
            std::fs::File::options()
                .write(true)
                .open(bundled.root.join(file))
                .unwrap()
                .set_modified(when - std::time::Duration::from_secs(86_400))
                .unwrap();
        }
        assert_eq!(bundled.updated(), crate::timestamp::rfc3339(1_795_900_000));
        assert_eq!(settings.classifier, bundled.root.join(CLASSIFIER));
        assert_eq!(settings.devices, ["cpu"]);
    }

    /// A copy of a demo model elsewhere, recorded under a path that names no demo file
    /// (as a CLI run from another folder records it), is known by its content.
    #[test]
    fn a_copy_of_a_demo_model_is_known_by_its_content() {
        use virnucpro_core::run_folder::manifest::ModelRecord;
        let demo = DemoFiles::find(None).unwrap().settings("/out".into());
        let copies = tempfile::tempdir().unwrap();
        let copy = copies.path().join("500_model.pth");
        std::fs::copy(&demo.classifier, &copy).unwrap();
        let record = |path: &Path| ModelRecord {
            path: PathBuf::from("models").join(path.file_name().unwrap()),
            model_id: "m".into(),
            files: fingerprint_model(path, &[]).unwrap(),
            provenance: virnucpro_models::Provenance::Unverified,
        };
        let elsewhere = copies.path().join("other.pth");
        std::fs::write(&elsewhere, b"other weights").unwrap();
        let other = record(&elsewhere);
        let used = |classifier: ModelRecord| Models {
            dnabert: other.clone(),
            esm: other.clone(),
            classifier,
        };
        assert!(uses_demo_models(&demo, &used(record(&copy))));
        assert!(!uses_demo_models(&demo, &used(other.clone())));
        // A record without file hashes (an older manifest) is judged by its path alone.
        let unhashed = ModelRecord {
            files: Vec::new(),
            ..record(&copy)
        };
        assert!(!uses_demo_models(&demo, &used(unhashed)));
    }
}
