//! "Check model" next to each model field: can the engine open it, and what is it.
use std::path::Path;

use virnucpro_engine::embed::{setup_model, ModelKind, Precision};
use virnucpro_engine::MlpClassifier;

use crate::api::{ModelCheck, ModelRole};

fn storage(path: &Path) -> &'static str {
    if path.is_dir() {
        "Hugging Face folder"
    } else if path.extension().is_some_and(|e| e == "pt") {
        "fair-esm checkpoint"
    } else {
        "weight file"
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
        Ok(format!("{name}, {}{width}", storage(path)))
    };
    match role {
        ModelRole::Dnabert => embedder(ModelKind::DnabertS, "DNABERT-S"),
        ModelRole::Esm => embedder(ModelKind::Esm2, "ESM-2"),
        ModelRole::Classifier => {
            let model = MlpClassifier::load(path, tch::Device::Cpu).map_err(|e| e.to_string())?;
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
        let missing = check(ModelRole::Classifier, Path::new("/no/such/500_model.pth"));
        assert_eq!(
            missing.message.as_deref(),
            Some("/no/such/500_model.pth: no such file or folder")
        );
    }
}
