//! The setup screen's settings as the engine's [`RunSpec`], and the engine's validation
//! problems as problems of the screen's fields.
use std::path::Path;

use virnucpro_engine::devices::{DeviceChoice, DeviceId, DeviceSpecError};
use virnucpro_engine::run::{
    spec_warnings, validate, RunSpec, Setting, SpecProblem, DEFAULT_SHARD_SIZE,
};

use virnucpro_core::pairs::Pairing;
use virnucpro_core::run_folder::samples::{check_samples, Sample};
use virnucpro_models::ModelRole as CatalogueRole;

use crate::api::{Field, FieldProblem, InstalledModels, RunSettings, SettingsCheck};
use crate::scope::Scope;

/// The devices ticked (`DeviceInfo.id` values), as the engine's choice: each an id the
/// engine writes (`cpu`, `cuda:N`), at least one, none twice.
pub fn device_choice(devices: &[String]) -> Result<DeviceChoice, DeviceSpecError> {
    let ids = devices
        .iter()
        .map(|d| d.parse())
        .collect::<Result<Vec<DeviceId>, _>>()?;
    DeviceChoice::list(ids)
}

/// The engine's spec; an error when the device list is not one ([`device_choice`]).
pub fn to_spec(settings: &RunSettings) -> Result<RunSpec, DeviceSpecError> {
    Ok(spec_with(settings, device_choice(&settings.devices)?))
}

/// The samples of the settings as the engine's; empty for a single run.
pub fn samples(settings: &RunSettings) -> Vec<Sample> {
    settings
        .samples
        .iter()
        .map(|s| Sample {
            name: s.name.clone(),
            inputs: s.inputs.clone(),
        })
        .collect()
}

/// The inputs the run reads: the samples' when there are samples (the engine validates
/// them all at once), else `inputs`.
fn run_inputs(settings: &RunSettings) -> Vec<std::path::PathBuf> {
    if settings.samples.is_empty() {
        settings.inputs.clone()
    } else {
        settings
            .samples
            .iter()
            .flat_map(|s| s.inputs.iter().cloned())
            .collect()
    }
}

/// The field that holds the run's inputs: the samples when there are samples.
fn inputs_field(settings: &RunSettings) -> Field {
    if settings.samples.is_empty() {
        Field::Inputs
    } else {
        Field::Samples
    }
}

fn spec_with(settings: &RunSettings, devices: DeviceChoice) -> RunSpec {
    RunSpec {
        inputs: run_inputs(settings),
        dnabert: settings.dnabert.clone(),
        esm: settings.esm.clone(),
        classifier: settings.classifier.clone(),
        length: settings.length,
        devices,
        // The app's one thread setting sizes prepare and merge both.
        threads: settings.threads,
        prepare_threads: None,
        merge_threads: None,
        precision: settings.precision,
        batch_tokens: settings.batch_tokens,
        shard_size: DEFAULT_SHARD_SIZE,
        out_dir: settings.out_dir.clone(),
        keep_features: settings.keep_features,
        space_check: true,
        // By their names or not at all: the app gives no explicit pairs.
        pairing: Pairing {
            mode: settings.pairs,
            explicit: Vec::new(),
        },
        // The caches the Models screen installs into: the manifest says whether each
        // model is the catalogue's.
        model_cache: virnucpro_models::CacheRoots::from_env(),
    }
}

/// The field an engine problem is about. No default arm: a new engine setting must be
/// given its field here.
fn field_of(setting: Setting) -> Field {
    match setting {
        Setting::Inputs => Field::Inputs,
        Setting::OutDir => Field::OutDir,
        Setting::Dnabert => Field::Dnabert,
        Setting::Esm => Field::Esm,
        Setting::Classifier => Field::Classifier,
        Setting::Length => Field::Length,
        Setting::Devices => Field::Devices,
        // The app's one thread setting sizes both (`RunSpec::threads`).
        Setting::Threads | Setting::PrepareThreads | Setting::MergeThreads => Field::Threads,
        Setting::Precision => Field::Precision,
        Setting::BatchTokens => Field::BatchTokens,
        // The app always runs with the default shard size, which the engine accepts; were
        // it ever refused, the shards are cut from the inputs.
        Setting::ShardSize => Field::Inputs,
    }
}

fn problem(field: Field, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field,
        message: message.into(),
    }
}

/// What an empty model field says: the model is not installed (and where to get it), or,
/// when it is (the Setup screen fills empty fields with it), to choose it.
fn missing_model(role: Option<CatalogueRole>, installed: bool, choose: &str) -> String {
    match role {
        Some(role) if !installed => {
            let name = match role {
                CatalogueRole::Classifier300 | CatalogueRole::Classifier500 => {
                    format!("The {role}")
                }
                _ => role.to_string(),
            };
            format!("{name} is not installed: open Models to download it, or {choose}")
        }
        _ => choose.to_string(),
    }
}

/// What the shell itself knows is wrong without asking the engine: unchosen paths, paths
/// outside the scope, no device. Fields with such a problem get no engine message too.
fn shell_problems(
    settings: &RunSettings,
    scope: &Scope,
    installed: &InstalledModels,
) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    if settings.samples.is_empty() && settings.inputs.is_empty() {
        problems.push(problem(
            Field::Inputs,
            "choose at least one FASTA file or folder",
        ));
    }

    if settings.out_dir.as_os_str().is_empty() {
        problems.push(problem(Field::OutDir, "choose an output folder"));
    } else if let Err(e) = scope.check(&settings.out_dir) {
        problems.push(problem(Field::OutDir, e.message));
    }
    let models: [(Field, &Path, Option<CatalogueRole>, bool, &str); 3] = [
        (
            Field::Dnabert,
            &settings.dnabert,
            Some(CatalogueRole::Dnabert),
            installed.dnabert.is_some(),
            "choose the DNABERT-S model folder",
        ),
        (
            Field::Esm,
            &settings.esm,
            Some(CatalogueRole::Esm),
            installed.esm.is_some(),
            "choose the ESM-2 model (.pt file or folder)",
        ),
        (
            Field::Classifier,
            &settings.classifier,
            CatalogueRole::classifier_for(settings.length),
            installed.classifier.is_some(),
            "choose the classifier (.pth)",
        ),
    ];
    for (field, path, role, installed, choose) in models {
        if path.as_os_str().is_empty() {
            problems.push(problem(field, missing_model(role, installed, choose)));
        } else if let Err(e) = scope.check(path) {
            problems.push(problem(field, e.message));
        }
    }
    if let Some(e) = run_inputs(settings)
        .iter()
        .find_map(|p| scope.check(p).err())
    {
        problems.push(problem(inputs_field(settings), e.message));
    }
    if settings.devices.is_empty() {
        problems.push(problem(Field::Devices, "choose at least one device"));
    } else if let Err(e) = device_choice(&settings.devices) {
        problems.push(problem(Field::Devices, e.to_string()));
    }
    problems
}

/// An engine problem on its field; with samples, the inputs are the samples'.
fn engine_problem(settings: &RunSettings, p: &SpecProblem) -> FieldProblem {
    let field = match field_of(p.setting) {
        Field::Inputs => inputs_field(settings),
        field => field,
    };
    problem(field, p.message.clone())
}

/// Every problem of `settings`, by field (none when the run can start), and the engine's
/// warnings about settings that can run. `installed`: the models in the caches, for what
/// an empty model field says.
///
/// The engine validates a copy in which the paths the shell already flagged are replaced
/// (no inputs; a temporary folder as output; empty model paths), so that it never opens a
/// path outside the scope; its messages about those fields are dropped.
pub fn validate_settings(
    settings: &RunSettings,
    scope: &Scope,
    installed: &InstalledModels,
) -> SettingsCheck {
    let mut problems = shell_problems(settings, scope, installed);
    let flagged: Vec<Field> = problems.iter().map(|p| p.field).collect();
    // Names and empty samples, in core's words, before the engine is asked (it reports
    // them on its inputs setting, and would stop at them); the samples' files are still
    // checked by the engine.
    problems.extend(
        check_samples(&samples(settings))
            .iter()
            .map(|e| problem(Field::Samples, e.to_string())),
    );
    // A device list the shell refused is flagged; the engine checks the rest as on auto.
    let devices = device_choice(&settings.devices).unwrap_or(DeviceChoice::Auto);
    let mut spec = spec_with(settings, devices);
    for field in &flagged {
        match field {
            Field::Inputs | Field::Samples => spec.inputs.clear(),
            Field::OutDir => spec.out_dir = std::env::temp_dir(),
            Field::Dnabert => spec.dnabert.clear(),
            Field::Esm => spec.esm.clear(),
            Field::Classifier => spec.classifier.clear(),
            _ => {}
        }
    }
    if let Err(engine) = validate(&spec) {
        problems.extend(
            engine
                .iter()
                .map(|p| engine_problem(settings, p))
                .filter(|p| !flagged.contains(&p.field)),
        );
    }
    // Warnings come from the settings alone, whatever else is wrong, except on a field
    // that already has a problem (its error says more).
    let warnings = spec_warnings(&spec)
        .iter()
        .map(|w| engine_problem(settings, w))
        .filter(|w| problems.iter().all(|p| p.field != w.field))
        .collect();
    SettingsCheck { problems, warnings }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::DemoFiles;

    /// The demo settings with every demo file and a fresh output folder in scope.
    fn demo() -> (RunSettings, Scope, tempfile::TempDir) {
        let out = tempfile::tempdir().unwrap();
        let demo = DemoFiles::find(None).expect("demo/ of the repository");
        let scope = Scope::new();
        scope.allow(&demo.root);
        scope.allow(out.path());
        (demo.settings(out.path().join("run")), scope, out)
    }

    /// Nothing in the model caches.
    fn none() -> InstalledModels {
        InstalledModels::default()
    }

    fn fields(problems: &[FieldProblem]) -> Vec<Field> {
        problems.iter().map(|p| p.field).collect()
    }

    #[test]
    fn the_demo_settings_are_runnable() {
        let (settings, scope, _out) = demo();
        let check = validate_settings(&settings, &scope, &none());
        assert_eq!(check.problems, []);
        assert_eq!(check.warnings, []);
        let spec = to_spec(&settings).unwrap();
        assert_eq!(spec.devices, DeviceChoice::List(vec![DeviceId::Cpu]));
        assert_eq!(spec.shard_size, DEFAULT_SHARD_SIZE);
        assert_eq!(
            spec.pairing,
            Pairing::default(),
            "pairs found by their names"
        );
    }

    /// The Paired reads choice is the spec's pairing mode, without explicit pairs.
    #[test]
    fn paired_reads_off_reads_every_file_on_its_own() {
        let (settings, _scope, _out) = demo();
        let settings = RunSettings {
            pairs: crate::api::PairMode::Off,
            ..settings
        };
        let spec = to_spec(&settings).unwrap();
        assert_eq!(spec.pairing, Pairing::off());
    }

    #[test]
    fn empty_settings_ask_for_every_choice() {
        let mut settings = RunSettings {
            inputs: Vec::new(),
            out_dir: "".into(),
            dnabert: "".into(),
            esm: "".into(),
            classifier: "".into(),
            length: 500,
            devices: Vec::new(),
            threads: None,
            precision: crate::api::Precision::Fp32,
            batch_tokens: None,
            keep_features: false,
            pairs: crate::api::PairMode::Auto,
            samples: Vec::new(),
        };
        // Every model installed: the Setup screen fills empty fields with them, and an
        // empty one only asks to choose.
        let all = InstalledModels {
            dnabert: Some("/c/dnabert".into()),
            esm: Some("/c/esm.pt".into()),
            classifier: Some("/c/500_model.pth".into()),
        };
        let problems = validate_settings(&settings, &Scope::new(), &all).problems;
        assert_eq!(
            fields(&problems),
            [
                Field::Inputs,
                Field::OutDir,
                Field::Dnabert,
                Field::Esm,
                Field::Classifier,
                Field::Devices
            ],
            "one problem per field, the shell's own: {problems:?}"
        );
        assert!(problems.iter().all(|p| p.message.starts_with("choose")));

        // None installed: each model field names its model and points to the Models screen.
        let problems = validate_settings(&settings, &Scope::new(), &none()).problems;
        let messages: Vec<&str> = problems[2..5].iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "DNABERT-S is not installed: open Models to download it, or choose the DNABERT-S model folder",
                "ESM-2 is not installed: open Models to download it, or choose the ESM-2 model (.pt file or folder)",
                "The 500 bp classifier is not installed: open Models to download it, or choose the classifier (.pth)",
            ]
        );
        settings.length = 300;
        let problems = validate_settings(&settings, &Scope::new(), &none()).problems;
        assert!(problems[4]
            .message
            .starts_with("The 300 bp classifier is not installed"));
    }

    #[test]
    fn engine_problems_land_on_their_fields() {
        let (mut settings, scope, _out) = demo();
        settings.length = 400;
        settings.threads = Some(0);
        settings.batch_tokens = Some(0);
        settings.precision = crate::api::Precision::Fp16;
        let problems = validate_settings(&settings, &scope, &none()).problems;
        assert_eq!(
            fields(&problems),
            [
                Field::Length,
                Field::Threads,
                Field::BatchTokens,
                Field::Precision
            ],
            "{problems:?}"
        );
        assert!(problems[0].message.contains("400"));

        let (mut settings, scope, _out) = demo();
        // A FASTA file is no classifier; a GPU that is not there is no device.
        settings.classifier = settings.inputs[0].clone();
        settings.devices = vec!["cuda:7".into()];
        let problems = validate_settings(&settings, &scope, &none()).problems;
        assert_eq!(
            fields(&problems),
            [Field::Devices, Field::Classifier],
            "{problems:?}"
        );
        assert!(problems[0].message.contains("cuda:7"), "{problems:?}");
    }

    /// The device list is parsed once, into the engine's choice: an id the engine does not
    /// write, or one ticked twice, is the Devices field's problem in the engine's words, and
    /// a run is refused before it starts.
    #[test]
    fn a_device_list_the_engine_cannot_take_is_a_devices_problem() {
        let (mut settings, scope, _out) = demo();
        settings.devices = vec!["gpu0".into()];
        let problems = validate_settings(&settings, &scope, &none()).problems;
        assert_eq!(fields(&problems), [Field::Devices], "{problems:?}");
        assert!(
            problems[0].message.starts_with("'gpu0' is not a device"),
            "{problems:?}"
        );
        assert!(to_spec(&settings).is_err());
        settings.devices = vec!["cpu".into(), "cpu".into()];
        let problems = validate_settings(&settings, &scope, &none()).problems;
        assert_eq!(fields(&problems), [Field::Devices], "{problems:?}");
        assert_eq!(problems[0].message, "cpu is named more than once");
    }

    /// The DNABERT-S folder chosen as ESM-2 is refused on the ESM field, by its kind, and
    /// the classifier (whose width no longer matches) gets no message of its own.
    #[test]
    fn a_model_of_the_wrong_kind_is_a_problem_of_its_own_field() {
        let (mut settings, scope, _out) = demo();
        settings.esm = settings.dnabert.clone();
        let problems = validate_settings(&settings, &scope, &none()).problems;
        assert_eq!(fields(&problems), [Field::Esm], "{problems:?}");
        assert!(
            problems[0].message.contains("not an ESM-2 checkpoint"),
            "{problems:?}"
        );
        assert!(
            problems[0].message.contains("model_type \"bert\""),
            "{problems:?}"
        );
    }

    /// A classifier named for the other read length is a warning at the classifier, in
    /// the engine's words, and does not stop the run.
    #[test]
    fn a_classifier_named_for_the_other_length_is_a_warning() {
        let (mut settings, scope, _out) = demo();
        // The tiny demo classifier fits either length; its name says 500.
        settings.length = 300;
        let check = validate_settings(&settings, &scope, &none());
        assert_eq!(check.problems, [], "{check:?}");
        assert_eq!(fields(&check.warnings), [Field::Classifier], "{check:?}");
        let message = &check.warnings[0].message;
        assert!(
            message.contains(
                "looks like the classifier for 500 bp reads, but the read length is 300 bp"
            ),
            "{message}"
        );
        // The warning does not wait for the other settings to be right.
        settings.threads = Some(0);
        let check = validate_settings(&settings, &scope, &none());
        assert_eq!(fields(&check.problems), [Field::Threads], "{check:?}");
        assert_eq!(fields(&check.warnings), [Field::Classifier], "{check:?}");
        settings.threads = None;
        settings.length = 500;
        assert_eq!(validate_settings(&settings, &scope, &none()).warnings, []);
    }

    #[test]
    fn paths_outside_the_scope_are_refused_and_never_opened() {
        let (mut settings, scope, _out) = demo();
        let elsewhere = tempfile::tempdir().unwrap();
        let model = elsewhere.path().join("500_model.pth");
        std::fs::write(&model, b"not a model").unwrap();
        settings.classifier = model;
        settings.inputs.push(elsewhere.path().to_path_buf());
        let problems = validate_settings(&settings, &scope, &none()).problems;
        assert_eq!(fields(&problems), [Field::Classifier, Field::Inputs]);
        for p in &problems {
            assert!(
                p.message.contains("not a file or folder you chose"),
                "{p:?}"
            );
        }
    }

    fn sample(name: &str, inputs: &[std::path::PathBuf]) -> crate::api::SampleSettings {
        crate::api::SampleSettings {
            name: name.into(),
            inputs: inputs.to_vec(),
        }
    }

    /// With samples, the run reads the samples' inputs (`inputs` is not used): the engine
    /// validates them all at once and gets the samples as they were given.
    #[test]
    fn samples_are_the_run_s_inputs() {
        let (mut settings, scope, _out) = demo();
        let reads = settings.inputs.clone();
        settings.inputs.clear();
        settings.samples = vec![sample("gut_1", &reads), sample("skin.2", &reads)];
        let check = validate_settings(&settings, &scope, &none());
        assert_eq!(check.problems, [], "{check:?}");
        let spec = to_spec(&settings).unwrap();
        assert_eq!(spec.inputs, [reads.clone(), reads.clone()].concat());
        let engine = samples(&settings);
        assert_eq!(engine.len(), 2);
        assert_eq!(
            (engine[1].name.as_str(), &engine[1].inputs),
            ("skin.2", &reads)
        );
        assert_eq!(samples(&demo().0), []);
    }

    /// Bad names, names given twice and empty samples are the Samples field's problems in
    /// core's words; a sample's missing file is the engine's problem, on Samples too, and so
    /// is a sample's file outside the scope (never opened).
    #[test]
    fn samples_problems_land_on_the_samples_field() {
        let (mut settings, scope, out) = demo();
        let reads = settings.inputs.clone();
        settings.samples = vec![
            sample("a b", &reads),
            sample("x", &reads),
            sample("x", &reads),
            sample("empty", &[]),
        ];
        let problems = validate_settings(&settings, &scope, &none()).problems;
        assert_eq!(fields(&problems), [Field::Samples; 3], "{problems:?}");
        let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert!(
            messages[0].starts_with("sample name \"a b\": ' ' is not allowed"),
            "{messages:?}"
        );
        assert_eq!(messages[1], "sample \"x\" is given twice");
        assert_eq!(messages[2], "sample \"empty\" has no input files");

        let gone = out.path().join("gone.fa");
        settings.samples = vec![
            sample("a", &reads),
            sample("b", std::slice::from_ref(&gone)),
        ];
        let problems = validate_settings(&settings, &scope, &none()).problems;
        assert_eq!(fields(&problems), [Field::Samples], "{problems:?}");
        assert!(problems[0].message.contains("gone.fa"), "{problems:?}");

        let elsewhere = tempfile::tempdir().unwrap();
        settings.samples = vec![sample("a", &reads), sample("b", &[elsewhere.path().into()])];
        let problems = validate_settings(&settings, &scope, &none()).problems;
        assert_eq!(fields(&problems), [Field::Samples], "{problems:?}");
        assert!(
            problems[0]
                .message
                .contains("not a file or folder you chose"),
            "{problems:?}"
        );
    }
}
