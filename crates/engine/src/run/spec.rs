//! What a run is, and its validation before any work: every problem is listed at once, so
//! a user fixes them in one go rather than one per attempt.
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use virnucpro_core::atomic::AtomicFile;
use virnucpro_core::fasta::{discover_inputs, InputError, InputFile};
use virnucpro_core::pairs::{input_files, plan_units, Pairing};
use virnucpro_core::threads::{check_threads, cores};

use crate::classifier::MlpClassifier;
use crate::devices::{DeviceChoice, DeviceId};
use crate::embed::{setup_model, ModelKind, ModelSetup, Precision, PrecisionExt};

/// Read lengths the released classifiers exist for.
pub const LENGTHS: [usize; 2] = [300, 500];
/// Embedding widths of the released models (reference: 768 + 2560 = 3328 per row).
const DNABERT_S_WIDTH: usize = 768;
const ESM2_3B_WIDTH: usize = 2560;
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
    /// The devices asked for (`--devices`), resolved against this machine by [`validate`].
    pub devices: DeviceChoice,
    /// Prepare and merge threads both, each unless given on its own below (`--threads`);
    /// 1 to the cores (`core::threads`); `None` = all cores.
    pub threads: Option<usize>,
    /// Threads that cut reads and translate their frames (`--prepare-threads`); `None` =
    /// [`RunSpec::threads`].
    pub prepare_threads: Option<usize>,
    /// Shards merged at once (`--merge-threads`); `None` = [`RunSpec::threads`].
    pub merge_threads: Option<usize>,
    pub precision: Precision,
    /// Padded tokens per embedding batch; `None` = chosen per device.
    pub batch_tokens: Option<usize>,
    /// Frame pairs per shard: the unit of resume. 10 000 as in the original.
    pub shard_size: usize,
    pub out_dir: PathBuf,
    /// Keep each shard's DNABERT-S, ESM-2 and merged feature files (`--keep-features`).
    /// Without it the features go from the encoders through the merge to the classifier in
    /// memory, and a shard leaves only its scores behind.
    pub keep_features: bool,
    /// Refuse to start when the estimated output does not fit on the output folder's disk
    /// (`--no-space-check` turns it off).
    pub space_check: bool,
    /// Which input files are pairs of mates (`--pairs`, `--pair`): by their names
    /// (`Auto`, the default) and as given. An explicit pair's files are inputs of the
    /// run; for runs of samples, pairs are found in each sample by their names.
    pub pairing: Pairing,
    /// Where fetched models and the record of verified files are (`virnucpro_models`):
    /// the manifest says whether each model is the catalogue's. `None`: unknown.
    pub model_cache: Option<virnucpro_models::CacheRoots>,
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
            devices: DeviceChoice::Auto,
            threads: None,
            prepare_threads: None,
            merge_threads: None,
            precision: Precision::Fp32,
            batch_tokens: None,
            shard_size: DEFAULT_SHARD_SIZE,
            out_dir,
            keep_features: false,
            space_check: true,
            pairing: Pairing::default(),
            model_cache: virnucpro_models::CacheRoots::from_env(),
        }
    }
}

impl RunSpec {
    /// Threads of prepare: `--prepare-threads`, else `--threads`, else all cores.
    pub fn prepare_thread_count(&self) -> usize {
        self.prepare_threads.or(self.threads).unwrap_or_else(cores)
    }

    /// Shards merged at once: `--merge-threads`, else `--threads`, else all cores.
    pub fn merge_thread_count(&self) -> usize {
        self.merge_threads.or(self.threads).unwrap_or_else(cores)
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

/// A setting of a run, as [`RunSpec`] has them: what a [`SpecProblem`] is about. The shells
/// map each to their own words (the command line's flag: [`Setting::flag`]; the desktop's
/// field) with an exhaustive match, so a new setting cannot go unnamed. Serialized as the
/// command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Setting {
    #[serde(rename = "INPUT")]
    Inputs,
    #[serde(rename = "--dnabert")]
    Dnabert,
    #[serde(rename = "--esm")]
    Esm,
    #[serde(rename = "--classifier")]
    Classifier,
    #[serde(rename = "--length")]
    Length,
    #[serde(rename = "--devices")]
    Devices,
    /// Prepare and merge threads given as one (`--threads`, which sets both).
    #[serde(rename = "--threads")]
    Threads,
    #[serde(rename = "--prepare-threads")]
    PrepareThreads,
    #[serde(rename = "--merge-threads")]
    MergeThreads,
    #[serde(rename = "--precision")]
    Precision,
    #[serde(rename = "--batch-tokens")]
    BatchTokens,
    #[serde(rename = "--shard-size")]
    ShardSize,
    #[serde(rename = "--out")]
    OutDir,
}

impl Setting {
    /// The setting as the command line names it (`--esm`, `INPUT`).
    pub fn flag(self) -> &'static str {
        match self {
            Self::Inputs => "INPUT",
            Self::Dnabert => "--dnabert",
            Self::Esm => "--esm",
            Self::Classifier => "--classifier",
            Self::Length => "--length",
            Self::Devices => "--devices",
            Self::Threads => "--threads",
            Self::PrepareThreads => "--prepare-threads",
            Self::MergeThreads => "--merge-threads",
            Self::Precision => "--precision",
            Self::BatchTokens => "--batch-tokens",
            Self::ShardSize => "--shard-size",
            Self::OutDir => "--out",
        }
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.flag())
    }
}

/// One problem with a run's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecProblem {
    /// The setting it is about; printed as the command line names it (`--esm`, `INPUT`).
    pub setting: Setting,
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
    /// What may be a mistake but can run ([`spec_warnings`]); the run reports each.
    pub warnings: Vec<SpecProblem>,
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
    fn add(&mut self, setting: Setting, kind: ProblemKind, message: impl Into<String>) {
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
    let inputs = check_inputs(&mut problems, spec);
    check_numbers(&mut problems, spec);
    let devices = check_devices(&mut problems, spec);
    let dnabert = model(
        &mut problems,
        Setting::Dnabert,
        ModelKind::DnabertS,
        &spec.dnabert,
        spec.precision,
    );
    let esm = model(
        &mut problems,
        Setting::Esm,
        ModelKind::Esm2,
        &spec.esm,
        spec.precision,
    );
    let classifier = if exists(&mut problems, Setting::Classifier, &spec.classifier) {
        MlpClassifier::load(&spec.classifier, DeviceId::Cpu)
            .map_err(|e| problems.add(Setting::Classifier, ProblemKind::BadFile, e.to_string()))
            .ok()
    } else {
        None
    };
    if let (Some(d), Some(e), Some(c)) = (&dnabert, &esm, &classifier) {
        check_widths(&mut problems, spec, d, e, c);
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
            warnings: spec_warnings(spec),
        }),
        _ => Err(problems.0),
    }
}

/// The input files, each path checked on its own so that every bad path is named, not only
/// the first.
fn check_inputs(problems: &mut Problems, spec: &RunSpec) -> Vec<InputFile> {
    let mut inputs = Vec::new();
    if spec.inputs.is_empty() && spec.pairing.explicit.is_empty() {
        problems.add(
            Setting::Inputs,
            ProblemKind::Invalid,
            "no input files given",
        );
    }
    for path in &spec.inputs {
        match discover_inputs(std::slice::from_ref(path), Some(&spec.out_dir)) {
            Ok(files) => inputs.extend(files),
            Err(e) => problems.add(Setting::Inputs, input_problem_kind(&e), e.to_string()),
        }
    }
    check_pairs(problems, spec, inputs)
}

/// The inputs with the explicit pairs' files (those not among them are inputs too), in
/// the order prepare lists them, once the pairs are checked (`--pair`).
fn check_pairs(problems: &mut Problems, spec: &RunSpec, inputs: Vec<InputFile>) -> Vec<InputFile> {
    // Called first: any problem is one of the inputs, already said.
    if spec.pairing.explicit.is_empty() || !problems.0.is_empty() {
        return inputs;
    }
    let listed = match input_files(&spec.inputs, &spec.pairing, Some(&spec.out_dir)) {
        Ok(listed) => listed,
        Err(e) => {
            let message = format!("--pair: {e}");
            problems.add(Setting::Inputs, input_problem_kind(&e), message);
            return inputs;
        }
    };
    let paths: Vec<PathBuf> = listed.iter().map(|f| f.path.clone()).collect();
    if let Err(e) = plan_units(&paths, &spec.pairing) {
        problems.add(Setting::Inputs, ProblemKind::Invalid, e.to_string());
    }
    listed
}

/// The read length, the thread counts, the batch budget and the shard size.
fn check_numbers(problems: &mut Problems, spec: &RunSpec) {
    if !LENGTHS.contains(&spec.length) {
        problems.add(
            Setting::Length,
            ProblemKind::Invalid,
            format!(
                "{} is not a read length the classifiers exist for (300 or 500)",
                spec.length
            ),
        );
    }
    let threads = [
        (Setting::Threads, spec.threads),
        (Setting::PrepareThreads, spec.prepare_threads),
        (Setting::MergeThreads, spec.merge_threads),
    ];
    for (setting, given) in threads {
        if let Some(Err(e)) = given.map(|n| check_threads(n, cores())) {
            problems.add(setting, ProblemKind::Invalid, e.to_string());
        }
    }
    if spec.batch_tokens == Some(0) {
        problems.add(
            Setting::BatchTokens,
            ProblemKind::Invalid,
            "must be at least 1",
        );
    }
    if spec.shard_size == 0 {
        problems.add(
            Setting::ShardSize,
            ProblemKind::Invalid,
            "must be at least 1",
        );
    }
}

/// The devices this machine has of those asked for, and whether the precision suits them.
fn check_devices(problems: &mut Problems, spec: &RunSpec) -> Vec<DeviceId> {
    match spec.devices.resolve() {
        Ok(devices) => {
            for &device in &devices {
                if let Err(e) = spec.precision.check_device(device.into()) {
                    problems.add(Setting::Precision, ProblemKind::Invalid, e.to_string());
                    break;
                }
            }
            devices
        }
        Err(e) => {
            problems.add(Setting::Devices, ProblemKind::Invalid, e.to_string());
            Vec::new()
        }
    }
}

/// What may be a mistake in settings that can run: a classifier whose file name says it is
/// for the other read length (`500_model.pth` with `--length 300`; the released files are
/// named so). The name is only a hint, so this warns rather than refuses.
pub fn spec_warnings(spec: &RunSpec) -> Vec<SpecProblem> {
    let named = spec
        .classifier
        .file_name()
        .map(|n| length_in_name(&n.to_string_lossy()))
        .unwrap_or_default();
    match named {
        Some(named) if named != spec.length => vec![SpecProblem {
            setting: Setting::Classifier,
            kind: ProblemKind::Invalid,
            message: format!(
                "{} looks like the classifier for {named} bp reads, but the read length is {} bp; \
                 check that the two belong together",
                spec.classifier.display(),
                spec.length
            ),
        }],
        _ => Vec::new(),
    }
}

/// The one read length (300 or 500) a file name names as a separate number, if exactly one.
fn length_in_name(name: &str) -> Option<usize> {
    let mut named = name
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|token| token.parse::<usize>().ok())
        .filter(|n| LENGTHS.contains(n));
    let first = named.next()?;
    named.all(|n| n == first).then_some(first)
}

/// The classifier must take rows as wide as the two embeddings together.
fn check_widths(
    problems: &mut Problems,
    spec: &RunSpec,
    dnabert: &ModelSetup,
    esm: &ModelSetup,
    classifier: &MlpClassifier,
) {
    let (Some(dna_dim), Some(protein_dim)) = (dnabert.dim, esm.dim) else {
        return;
    };
    if dna_dim + protein_dim != classifier.input_dim() {
        problems.add(
            width_culprit(dna_dim, protein_dim),
            ProblemKind::Invalid,
            format!(
                "{} takes rows of {} values, but DNABERT-S ({dna_dim}) + ESM-2 ({protein_dim}) give {}",
                spec.classifier.display(),
                classifier.input_dim(),
                dna_dim + protein_dim
            ),
        );
    }
}

/// The setting a width mismatch is put on: the model whose width is not the real one
/// while the other's is (an ESM-2 650M beside the real DNABERT-S and classifier), else the
/// classifier, which is what the widths are measured against.
fn width_culprit(dna_dim: usize, protein_dim: usize) -> Setting {
    match (dna_dim == DNABERT_S_WIDTH, protein_dim == ESM2_3B_WIDTH) {
        (true, false) => Setting::Esm,
        (false, true) => Setting::Dnabert,
        _ => Setting::Classifier,
    }
}

fn exists(problems: &mut Problems, setting: Setting, path: &Path) -> bool {
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
    setting: Setting,
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
                    Setting::OutDir,
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
            Setting::OutDir,
            ProblemKind::Unwritable,
            format!("{}: cannot write here: {e}", probe.display()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_read_length_a_classifier_file_is_named_for() {
        assert_eq!(length_in_name("500_model.pth"), Some(500));
        assert_eq!(length_in_name("300_model.pth"), Some(300));
        assert_eq!(length_in_name("classifier_500_tiny.pth"), Some(500));
        assert_eq!(length_in_name("model_v300-500.pth"), None);
        assert_eq!(length_in_name("5000_model.pth"), None);
        assert_eq!(length_in_name("mlp_3328x512_cpu.pth"), None);
        assert_eq!(length_in_name("model.pth"), None);
    }

    /// The IPC and `--json` output name a setting as the command line does.
    #[test]
    fn a_setting_serializes_as_its_flag() {
        use Setting::*;
        for setting in [
            Inputs,
            Dnabert,
            Esm,
            Classifier,
            Length,
            Devices,
            Threads,
            PrepareThreads,
            MergeThreads,
            Precision,
            BatchTokens,
            ShardSize,
            OutDir,
        ] {
            let json = serde_json::to_value(setting).unwrap();
            assert_eq!(json, setting.flag(), "{setting:?}");
            assert_eq!(setting.to_string(), setting.flag());
        }
    }

    #[test]
    fn a_width_mismatch_is_put_on_the_model_that_is_not_the_real_width() {
        assert_eq!(width_culprit(768, 1280), Setting::Esm);
        assert_eq!(width_culprit(512, 2560), Setting::Dnabert);
        assert_eq!(width_culprit(96, 64), Setting::Classifier);
        assert_eq!(width_culprit(768, 2560), Setting::Classifier);
    }
}
