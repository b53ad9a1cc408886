//! What a run is, and its validation before any work: every problem is listed at once, so
//! a user fixes them in one go rather than one per attempt.
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use virnucpro_core::atomic::AtomicFile;
use virnucpro_core::fasta::{discover_inputs, InputError, InputFile};

use crate::classifier::MlpClassifier;
use crate::devices::{parse_devices, DeviceId};
use crate::embed::{setup_model, ModelKind, ModelSetup, Precision};

/// Read lengths the released classifiers exist for.
pub const LENGTHS: [usize; 2] = [300, 500];
/// Frame pairs per shard in the original tool.
pub const DEFAULT_SHARD_SIZE: usize = 10_000;

/// One prediction run, as the user asked for it.
#[derive(Debug, Clone, Serialize)]
pub struct RunSpec {
    /// FASTA/FASTQ files or folders of them.
    pub inputs: Vec<PathBuf>,
    /// DNABERT-S: a Hugging Face folder (weights, config.json, tokenizer.json).
    pub dnabert: PathBuf,
    /// ESM-2: a fair-esm `.pt`, a Hugging Face folder or a weight file.
    pub esm: PathBuf,
    /// The MLP classifier (`300_model.pth`, `500_model.pth`).
    pub classifier: PathBuf,
    /// Expected read length, 300 or 500 (chunk size; must match the classifier).
    pub length: usize,
    /// `--devices` syntax: `auto`, `cpu`, `0`, `0,1`, ...
    pub devices: String,
    /// Threads for prepare and merge; `None` = all cores.
    pub threads: Option<usize>,
    pub precision: Precision,
    /// Padded tokens per embedding batch; `None` = chosen per device.
    pub batch_tokens: Option<usize>,
    /// Frame pairs per shard: the unit of resume. 10 000 as in the original.
    pub shard_size: usize,
    pub out_dir: PathBuf,
}

impl RunSpec {
    /// A spec with the defaults for everything but the paths and length.
    pub fn new(
        inputs: Vec<PathBuf>,
        dnabert: PathBuf,
        esm: PathBuf,
        classifier: PathBuf,
        length: usize,
        out_dir: PathBuf,
    ) -> Self {
        Self {
            inputs,
            dnabert,
            esm,
            classifier,
            length,
            devices: "auto".into(),
            threads: None,
            precision: Precision::Fp32,
            batch_tokens: None,
            shard_size: DEFAULT_SHARD_SIZE,
            out_dir,
        }
    }
}

/// What is wrong with a setting; decides the exit code of the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// A value that cannot work (a length of 400, 0 threads, fp16 on the CPU).
    Invalid,
    /// A path that does not exist or cannot be read.
    Missing,
    /// A file that exists but is not what it should be (not FASTA, not a model).
    BadFile,
    /// The output folder cannot be written.
    Unwritable,
}

/// One problem with a run's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecProblem {
    /// The setting, as the command line names it (`--esm`, `INPUT`).
    pub setting: &'static str,
    pub kind: ProblemKind,
    pub message: String,
}

impl fmt::Display for SpecProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.setting, self.message)
    }
}

/// A spec that passed validation, with everything resolved and loaded once.
pub struct ValidatedRun {
    pub spec: RunSpec,
    pub inputs: Vec<InputFile>,
    pub devices: Vec<DeviceId>,
    pub dnabert: ModelSetup,
    pub esm: ModelSetup,
    pub classifier: MlpClassifier,
}

impl fmt::Debug for ValidatedRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidatedRun")
            .field("spec", &self.spec)
            .field("inputs", &self.inputs)
            .field("devices", &self.devices)
            .finish_non_exhaustive()
    }
}

struct Problems(Vec<SpecProblem>);

impl Problems {
    fn add(&mut self, setting: &'static str, kind: ProblemKind, message: impl Into<String>) {
        self.0.push(SpecProblem {
            setting,
            kind,
            message: message.into(),
        });
    }
}

fn input_problem_kind(err: &InputError) -> ProblemKind {
    match err {
        InputError::Path(_) | InputError::EmptyFolder { .. } => ProblemKind::Missing,
        InputError::NoInputs => ProblemKind::Invalid,
        _ => ProblemKind::BadFile,
    }
}

/// Check every setting; on success, the models are set up (headers read, tokenizers
/// built) and the classifier is loaded, so that a bad model stops the run before hours of
/// work rather than after.
pub fn validate(spec: &RunSpec) -> Result<ValidatedRun, Vec<SpecProblem>> {
    let mut problems = Problems(Vec::new());
    let mut inputs = Vec::new();
    if spec.inputs.is_empty() {
        problems.add("INPUT", ProblemKind::Invalid, "no input files given");
    }
    // One path at a time, so that every bad path is named, not only the first.
    for path in &spec.inputs {
        match discover_inputs(std::slice::from_ref(path), Some(&spec.out_dir)) {
            Ok(files) => inputs.extend(files),
            Err(e) => problems.add("INPUT", input_problem_kind(&e), e.to_string()),
        }
    }
    if !LENGTHS.contains(&spec.length) {
        problems.add(
            "--length",
            ProblemKind::Invalid,
            format!(
                "{} is not a read length the classifiers exist for (300 or 500)",
                spec.length
            ),
        );
    }
    if spec.threads == Some(0) {
        problems.add("--threads", ProblemKind::Invalid, "must be at least 1");
    }
    if spec.batch_tokens == Some(0) {
        problems.add("--batch-tokens", ProblemKind::Invalid, "must be at least 1");
    }
    if spec.shard_size == 0 {
        problems.add("--shard-size", ProblemKind::Invalid, "must be at least 1");
    }
    let devices = match parse_devices(&spec.devices) {
        Ok(devices) => {
            for &device in &devices {
                if let Err(e) = spec.precision.check_device(device.into()) {
                    problems.add("--precision", ProblemKind::Invalid, e.to_string());
                    break;
                }
            }
            devices
        }
        Err(e) => {
            problems.add("--devices", ProblemKind::Invalid, e.to_string());
            Vec::new()
        }
    };
    let dnabert = model(
        &mut problems,
        "--dnabert",
        ModelKind::DnabertS,
        &spec.dnabert,
        spec.precision,
    );
    let esm = model(
        &mut problems,
        "--esm",
        ModelKind::Esm2,
        &spec.esm,
        spec.precision,
    );
    let classifier = if exists(&mut problems, "--classifier", &spec.classifier) {
        MlpClassifier::load(&spec.classifier, tch::Device::Cpu)
            .map_err(|e| problems.add("--classifier", ProblemKind::BadFile, e.to_string()))
            .ok()
    } else {
        None
    };
    if let (Some(d), Some(e), Some(c)) = (&dnabert, &esm, &classifier) {
        if let (Some(dna_dim), Some(protein_dim)) = (d.dim, e.dim) {
            if dna_dim + protein_dim != c.input_dim() {
                problems.add(
                    "--classifier",
                    ProblemKind::Invalid,
                    format!(
                        "{} takes rows of {} values, but DNABERT-S ({dna_dim}) + ESM-2 ({protein_dim}) give {}",
                        spec.classifier.display(),
                        c.input_dim(),
                        dna_dim + protein_dim
                    ),
                );
            }
        }
    }
    check_output(&mut problems, &spec.out_dir);
    match (dnabert, esm, classifier) {
        (Some(dnabert), Some(esm), Some(classifier)) if problems.0.is_empty() => Ok(ValidatedRun {
            spec: spec.clone(),
            inputs,
            devices,
            dnabert,
            esm,
            classifier,
        }),
        _ => Err(problems.0),
    }
}

fn exists(problems: &mut Problems, setting: &'static str, path: &Path) -> bool {
    match std::fs::metadata(path) {
        Ok(_) => true,
        Err(e) => {
            let message = if e.kind() == std::io::ErrorKind::NotFound {
                format!("{}: no such file or folder", path.display())
            } else {
                format!("{}: cannot read: {e}", path.display())
            };
            problems.add(setting, ProblemKind::Missing, message);
            false
        }
    }
}

fn model(
    problems: &mut Problems,
    setting: &'static str,
    kind: ModelKind,
    path: &Path,
    precision: Precision,
) -> Option<ModelSetup> {
    if !exists(problems, setting, path) {
        return None;
    }
    setup_model(kind, path, precision)
        .map_err(|e| problems.add(setting, ProblemKind::BadFile, e.to_string()))
        .ok()
}

/// The output folder must be a folder we can write in, or creatable (its nearest existing
/// ancestor writable). Nothing is left behind by the check.
fn check_output(problems: &mut Problems, out: &Path) {
    let mut probe = out.to_path_buf();
    loop {
        match std::fs::metadata(&probe) {
            Ok(meta) if meta.is_dir() => break,
            Ok(_) => {
                problems.add(
                    "--out",
                    ProblemKind::Unwritable,
                    format!("{}: not a folder", probe.display()),
                );
                return;
            }
            Err(_) => match probe.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => probe = parent.to_path_buf(),
                _ => {
                    probe = PathBuf::from(".");
                    break;
                }
            },
        }
    }
    if let Err(e) = AtomicFile::create(&probe.join(".virnucpro-write-test")) {
        problems.add(
            "--out",
            ProblemKind::Unwritable,
            format!("{}: cannot write here: {e}", probe.display()),
        );
    }
}
