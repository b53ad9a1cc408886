//! "Check model" next to each model field: can the engine open it, and what is it.
use std::path::Path;

use virnucpro_core::file_kind::FileKind;
use virnucpro_engine::embed::{setup_model, ModelKind, Precision};
use virnucpro_engine::{DeviceId, MlpClassifier};

use crate::api::{ModelCheck, ModelRole};

/// How the model is stored, in the user's words: a folder, or the file's kind as core's
/// one detector tells it from the content (never from the extension).
fn storage(role: ModelRole, path: &Path) -> &'static str {
    if path.is_dir() {
        return "Hugging Face folder";
    }
    match FileKind::of_file(path) {
        Ok(FileKind::Safetensors { .. }) => "safetensors file",
        Ok(FileKind::TorchZip) if role == ModelRole::Esm => "fair-esm checkpoint",
        _ => "PyTorch checkpoint",
    }
}

fn describe(role: ModelRole, path: &Path) -> Result<String, String> {
    if !path.exists() {
        return Err(format!("{}: no such file or folder", path.display()));
    }
    let embedder = |kind: ModelKind, name: &str| {
        // Headers and tokenizer only: the weights are read by each device worker later.
        let setup = setup_model(kind, path, Precision::Fp32).map_err(|e| e.to_string())?;
        let width = setup
            .dim
            .map_or(String::new(), |d| format!(", {d}-wide embeddings"));
        Ok(format!("{name}, {}{width}", storage(role, path)))
    };
    match role {
        ModelRole::Dnabert => embedder(ModelKind::DnabertS, "DNABERT-S"),
        ModelRole::Esm => embedder(ModelKind::Esm2, "ESM-2"),
        ModelRole::Classifier => {
            let model = MlpClassifier::load(path, DeviceId::Cpu).map_err(|e| e.to_string())?;
            Ok(format!(
                "MLP classifier, {} → {} → 2",
                model.input_dim(),
                model.hidden_dim()
            ))
        }
    }
}

pub fn check(role: ModelRole, path: &Path) -> ModelCheck {
    match describe(role, path) {
        Ok(summary) => ModelCheck {
            ok: true,
            kind: role,
            summary,
            message: None,
        },
        Err(message) => ModelCheck {
            ok: false,
            kind: role,
            summary: String::new(),
            message: Some(message),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::DemoFiles;

    #[test]
    fn the_demo_models_check_out_and_a_wrong_file_does_not() {
        let demo = DemoFiles::find(None).unwrap().settings("/out".into());
        let dnabert = check(ModelRole::Dnabert, &demo.dnabert);
        assert!(dnabert.ok, "{dnabert:?}");
        assert_eq!(
            dnabert.summary,
            "DNABERT-S, Hugging Face folder, 96-wide embeddings"
        );
        let esm = check(ModelRole::Esm, &demo.esm);
        assert_eq!(
            esm.summary,
            "ESM-2, fair-esm checkpoint, 64-wide embeddings"
        );
        let classifier = check(ModelRole::Classifier, &demo.classifier);
        assert_eq!(classifier.summary, "MLP classifier, 160 → 16 → 2");

        let wrong = check(ModelRole::Esm, &demo.inputs[0]);
        assert!(!wrong.ok);
        assert!(wrong.message.unwrap().contains("sample_reads.fa"));
        let not_a_model = check(ModelRole::Classifier, &demo.inputs[0]);
        let message = not_a_model.message.unwrap();
        assert!(
            message.contains("sample_reads.fa: this is not a PyTorch model file"),
            "{message}"
        );
        let missing = check(ModelRole::Classifier, Path::new("/no/such/500_model.pth"));
        assert_eq!(
            missing.message.as_deref(),
            Some("/no/such/500_model.pth: no such file or folder")
        );
    }

    /// A model of the other kind is refused by its own check, which says what it is (it
    /// was taken for an ESM-2 model and failed later as a width mismatch on the classifier).
    #[test]
    fn a_dnabert_folder_is_no_esm_model() {
        let demo = DemoFiles::find(None).unwrap().settings("/out".into());
        let esm = check(ModelRole::Esm, &demo.dnabert);
        assert!(!esm.ok, "{esm:?}");
        assert_eq!(esm.kind, ModelRole::Esm);
        let message = esm.message.unwrap();
        assert!(message.contains("not an ESM-2 checkpoint"), "{message}");
        assert!(message.contains("model_type \"bert\""), "{message}");
    }

    /// A safetensors file whose header length ends in 0x80, written by Python's
    /// `safetensors`, passes the check (it was taken for a pre-1.6 torch pickle), and a
    /// real pre-1.6 classifier pickle is named as one, with the advice.
    #[test]
    fn the_check_tells_file_kinds_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let src = virnucpro_testkit::fixture("models/esm2_tiny_hf");
        for name in ["config.json", "vocab.txt", "tokenizer_config.json"] {
            std::fs::copy(src.join(name), dir.path().join(name)).unwrap();
        }
        let weights = dir.path().join("model.safetensors");
        std::fs::copy(
            virnucpro_testkit::format_fixture("esm2_tiny_hdr80.safetensors"),
            &weights,
        )
        .unwrap();
        for (path, summary) in [
            (dir.path(), "ESM-2, Hugging Face folder, 64-wide embeddings"),
            (
                weights.as_path(),
                "ESM-2, safetensors file, 64-wide embeddings",
            ),
        ] {
            let esm = check(ModelRole::Esm, path);
            assert!(esm.ok, "{esm:?}");
            assert_eq!(esm.summary, summary);
        }
        let legacy = virnucpro_testkit::format_fixture("classifier_500_tiny_legacy.pth");
        let classifier = check(ModelRole::Classifier, &legacy);
        let message = classifier.message.unwrap();
        assert!(
            message.contains("this is not a PyTorch model file"),
            "{message}"
        );
        assert!(
            message.contains("re-save it with a recent PyTorch"),
            "{message}"
        );
    }
}
