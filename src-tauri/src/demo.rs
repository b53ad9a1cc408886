//! The built-in `Demo` preset: the sample reads and the RANDOM tiny models of `demo/`
//! (demo/models/README.md), so a first launch can run end to end without any download.
//!
//! A packaged app carries them as bundled resources (`bundle.resources` in
//! tauri.conf.json); a development build also finds them in the repository's `demo/`.
use std::path::{Path, PathBuf};

use crate::api::{Precision, RunSettings};

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
        }
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
        assert_eq!(settings.classifier, bundled.root.join(CLASSIFIER));
        assert_eq!(settings.devices, ["cpu"]);
    }
}
