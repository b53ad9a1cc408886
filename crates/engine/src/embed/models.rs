//! The two encoders of the pipeline behind the runner's traits: DNABERT-S for the
//! nucleotide side, ESM-2 for the protein side.
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Serialize;
use tch::Device;
use virnucpro_core::features::FeatureKind;

use super::worker::device_label;
use super::{EmbedError, EmbedJob, Encode, EncoderFactory, Precision, PrecisionExt, Tokenize};
use crate::dnabert::DnaBertS;
use crate::esm2::{Alphabet, Esm2};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    DnabertS,
    Esm2,
}

impl ModelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DnabertS => "dnabert-s",
            Self::Esm2 => "esm2",
        }
    }

    /// What the model's embeddings are of.
    pub fn feature_kind(self) -> FeatureKind {
        match self {
            Self::DnabertS => FeatureKind::Nucleotide,
            Self::Esm2 => FeatureKind::Protein,
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ModelKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "dnabert-s" | "dnabert_s" | "dnabert" => Ok(Self::DnabertS),
            "esm2" | "esm-2" | "esm" => Ok(Self::Esm2),
            other => Err(format!("unknown model {other:?} (dnabert-s or esm2)")),
        }
    }
}

/// A model ready to run: its tokenizer (shared), a factory for per-device copies, and the
/// identity recorded in feature files.
pub struct ModelSetup {
    pub kind: ModelKind,
    pub tokenizer: Box<dyn Tokenize>,
    pub factory: Box<dyn EncoderFactory>,
    /// Width of an embedding, from the checked headers (known before the model is loaded,
    /// so a run can check it against the classifier up front).
    pub dim: Option<usize>,
    /// `{kind} {name} {precision}`, e.g. `esm2 esm2_t36_3B_UR50D fp32`: outputs made with
    /// another model or precision are not reused.
    pub model_id: String,
}

fn load_error(device: Device) -> impl Fn(String) -> EmbedError {
    move |message| EmbedError::Load {
        device: device_label(device),
        message,
    }
}

impl ModelSetup {
    /// A job embedding `inputs` into `out_dir` with this model.
    pub fn job(&self, inputs: Vec<PathBuf>, out_dir: PathBuf) -> EmbedJob<'_> {
        EmbedJob {
            inputs,
            out_dir,
            kind: self.kind.feature_kind(),
            model: self.model_id.clone(),
            tokenizer: self.tokenizer.as_ref(),
            factory: self.factory.as_ref(),
        }
    }
}

/// Check that `weights` can be opened (headers only; each device worker reads the
/// weights itself) and build the tokenizer.
pub fn setup_model(
    kind: ModelKind,
    weights: &Path,
    precision: Precision,
) -> Result<ModelSetup, EmbedError> {
    let model_id = format!("{kind} {} {precision}", model_name(weights));
    let path = weights.to_path_buf();
    let dtype = precision.kind();
    let early = EmbedError::Unusable;
    // Headers only: the model's kind, keys and configuration are checked here, so that a
    // DNABERT-S folder given as ESM-2 is refused before any work, not on each device.
    let (dim, tokenizer, factory): (Option<usize>, Box<dyn Tokenize>, Box<dyn EncoderFactory>) =
        match kind {
            ModelKind::DnabertS => {
                let (tokenizer, hidden) =
                    DnaBertS::check(weights).map_err(|e| early(e.to_string()))?;
                let factory = move |device: Device| -> Result<Box<dyn Encode>, EmbedError> {
                    let model = DnaBertS::load(&path, dtype, device)
                        .map_err(|e| load_error(device)(e.to_string()))?;
                    Ok(Box::new(model))
                };
                (width(hidden), Box::new(tokenizer), Box::new(factory))
            }
            ModelKind::Esm2 => {
                let config = Esm2::check(weights).map_err(|e| early(e.to_string()))?;
                let factory = move |device: Device| -> Result<Box<dyn Encode>, EmbedError> {
                    let model = Esm2::load(&path, dtype, device)
                        .map_err(|e| load_error(device)(e.to_string()))?;
                    Ok(Box::new(model))
                };
                (
                    width(config.hidden),
                    Box::new(Alphabet::new()),
                    Box::new(factory),
                )
            }
        };
    Ok(ModelSetup {
        kind,
        dim,
        tokenizer,
        factory,
        model_id,
    })
}

/// An embedding width from a model's hidden size (a negative one would have failed the
/// checks).
fn width(hidden: i64) -> Option<usize> {
    usize::try_from(hidden).ok()
}

/// The folder holding config.json and tokenizer.json: the path itself, or a weight file's
/// folder.
fn model_dir(weights: &Path) -> PathBuf {
    if weights.is_dir() {
        return weights.to_path_buf();
    }
    match weights.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A readable model name: the file stem, or the folder name; for a Hugging Face cache
/// snapshot (`models--org--name/snapshots/<rev>`) the repository name.
fn model_name(weights: &Path) -> String {
    let dir = model_dir(weights);
    let snapshots = dir.parent();
    if snapshots
        .and_then(Path::file_name)
        .is_some_and(|n| n == "snapshots")
    {
        if let Some(repo) = snapshots.and_then(Path::parent).and_then(Path::file_name) {
            let repo = repo.to_string_lossy();
            return repo.rsplit("--").next().unwrap_or(&repo).to_owned();
        }
    }
    let named = if weights.is_dir() {
        weights.file_name()
    } else {
        weights.file_stem()
    };
    named
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into())
}
