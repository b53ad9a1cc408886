//! What a run settles before its stages start: the run folder opened (and emptied on a
//! restart), the inputs and models fingerprinted against the earlier manifest, and the
//! first manifest, with the plan of what earlier work is reused.
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use virnucpro_core::events::StagePlan;
use virnucpro_core::prepare::chunked_file_name;
use virnucpro_models::{provenance, Catalogue, ModelRole, Provenance};

use super::cleanup::{remove_leftovers, remove_results};
use virnucpro_core::run_folder::files::{content_id, fingerprint_model, FileEntry};
use virnucpro_core::run_folder::layout::RunLayout;
use virnucpro_core::run_folder::manifest::{
    self, ModelRecord, Models, RunManifest, Settings, Software,
};
use virnucpro_core::run_folder::plan;

use super::prepared::PreparedRecord;
// The free-space check, declared here as start's one user (it belongs in `run/mod.rs`).
use super::software::DetectSoftware;
use super::{classify_device, io_error, RunError, RunOptions, RunSpec, ValidatedRun};
use virnucpro_core::run_folder::lock::{describe_this_process, lock_run_folder, RunLock};
use virnucpro_core::run_folder::reports_stamp::{self, ReportsStamp};

/// The run folder, created if missing and locked for this run (a second run on it is
/// refused, naming this one); on a restart without its earlier results, and in any case
/// without the leftovers of an interrupted write.
pub(super) fn open_folder(
    out_dir: &Path,
    options: RunOptions,
) -> Result<(RunLayout, RunLock), RunError> {
    let layout = RunLayout::new(out_dir);
    std::fs::create_dir_all(&layout.root).map_err(io_error(&layout.root))?;
    let lock = lock_run_folder(&layout.root, &describe_this_process(&program_name()))?;
    if options.restart {
        remove_results(&layout)?;
    }
    remove_leftovers(&layout);
    Ok((layout, lock))
}

/// This program's name as it was started (`virnucpro`, `virnucpro-desktop`), for the lock's
/// holder: the name in argv[0], which `virnucpro` keeps when it hands a run to
/// `virnucpro-torch`; the executable's file name where argv[0] has none.
pub(super) fn program_name() -> String {
    let file_name = |p: &std::path::Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    std::env::args_os()
        .next()
        .and_then(|arg0| file_name(std::path::Path::new(&arg0)))
        .or_else(|| std::env::current_exe().ok().and_then(|p| file_name(&p)))
        .unwrap_or_else(|| "virnucpro".to_owned())
}

/// The files the earlier manifest fingerprinted (inputs and models), so that unchanged
/// ones are not hashed again.
pub(super) fn known_files(previous: Option<&RunManifest>) -> Vec<FileEntry> {
    previous
        .iter()
        .flat_map(|m| {
            m.inputs.iter().chain(
                [&m.models.dnabert, &m.models.esm, &m.models.classifier]
                    .into_iter()
                    .flat_map(|r| r.files.iter()),
            )
        })
        .cloned()
        .collect()
}

/// The run's input files, fingerprinted; first, the run must fit on its folder's disk
/// (`space`), before the inputs are hashed.
pub(super) fn input_entries(
    run: &ValidatedRun,
    known: &[FileEntry],
) -> Result<Vec<FileEntry>, RunError> {
    super::space::check_space(run)?;
    run.inputs
        .iter()
        .map(|i| FileEntry::of(&i.path, known).map_err(io_error(&i.path)))
        .collect()
}

/// The three models' records. Each model id gets its files' content id, which makes
/// features of other weights under the same name stale; the run's embedding models take
/// the new ids.
pub(super) fn model_records(
    run: &mut ValidatedRun,
    known: &[FileEntry],
) -> Result<Models, RunError> {
    let spec = &run.spec;
    // Read once for the three models.
    let catalogue = Catalogue::from_env().unwrap_or_else(|err| {
        tracing::warn!(%err, "using the built-in model catalogue");
        Catalogue::builtin()
    });
    let model_record = |path: &Path, model_id: &str, role: ModelRole| {
        let files = fingerprint_model(path, known).map_err(io_error(path))?;
        // The content id makes features of other weights under the same name stale.
        let model_id = format!("{model_id} #{}", content_id(&files));
        Ok::<_, RunError>(ModelRecord {
            path: path.to_path_buf(),
            model_id,
            files,
            provenance: model_provenance(&catalogue, spec, role, path),
        })
    };
    let dnabert = model_record(&spec.dnabert, &run.dnabert.model_id, ModelRole::Dnabert)?;
    let esm = model_record(&spec.esm, &run.esm.model_id, ModelRole::Esm)?;
    let classifier_role =
        ModelRole::classifier_for(spec.length).unwrap_or(ModelRole::Classifier500);
    let classifier = model_record(&spec.classifier, "classifier", classifier_role)?;
    run.dnabert.model_id = dnabert.model_id.clone();
    run.esm.model_id = esm.model_id.clone();
    Ok(Models {
        dnabert,
        esm,
        classifier,
    })
}

/// Whether a model given to the run is the catalogue's (recorded checks only: nothing is
/// hashed at the start of a run).
fn model_provenance(
    catalogue: &Catalogue,
    spec: &RunSpec,
    role: ModelRole,
    path: &Path,
) -> Provenance {
    match &spec.model_cache {
        Some(roots) => provenance(catalogue, roots, role, path),
        None => Provenance::Unverified,
    }
}

/// Earlier reports that may be kept, checked against this run's classifier, device and
/// read length; candidates only on top of the same prepare.
pub(super) fn reusable_reports(
    layout: &RunLayout,
    prepared: &Result<PreparedRecord, String>,
    run: &ValidatedRun,
    classifier_id: &str,
) -> Option<ReportsStamp> {
    let length = run.spec.length;
    prepared.as_ref().ok().and_then(|_| {
        reports_stamp::reusable(
            layout,
            &reports_stamp::Wanted {
                classifier: classifier_id,
                device: &classify_device(run).to_string(),
                length,
                chunked: &layout.prepared().join(chunked_file_name(length)),
            },
        )
    })
}

/// The plan: what of the folder's earlier work this run reuses, and why.
pub(super) fn make_plan(
    layout: &RunLayout,
    prepared: &Result<PreparedRecord, String>,
    previous: Option<&RunManifest>,
    models: &Models,
    (reports_reusable, keep_features): (bool, bool),
) -> Vec<StagePlan> {
    plan::make_plan(&plan::PlanInput {
        prepared,
        previous,
        dnabert_id: &models.dnabert.model_id,
        esm_id: &models.esm.model_id,
        classifier_id: &models.classifier.model_id,
        reports_reusable,
        features_dir: &layout.features(),
        merged_dir: &layout.merged(),
        scores_dir: &layout.scores(),
        keep_features,
    })
}

/// The manifest as the run starts: `running`, with its inputs, models, settings and plan.
pub(super) fn first_manifest(
    inputs: Vec<FileEntry>,
    models: Models,
    plan: Vec<StagePlan>,
    settings: Settings,
) -> RunManifest {
    RunManifest {
        manifest_version: manifest::MANIFEST_VERSION,
        state: manifest::RunState::Running,
        started_unix: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        software: Software::detect(),
        inputs,
        models,
        settings,
        plan,
        stages: Vec::new(),
        failures: Vec::new(),
        error: None,
        summary: None,
        reports: None,
        devices: Vec::new(),
    }
}
