//! The commands of docs/desktop-api.md: thin wrappers that check the scope, move slow work
//! off the main thread, and call the modules that do the work.
//!
//! Every command takes its arguments in snake_case (`rename_all`), as the contract says.
//! Commands that touch many files or load models are `async` and run on the blocking pool;
//! the others are quick and run on the main thread, which also serializes preset changes.
use std::path::PathBuf;

use serde::Deserialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime, State};
use tauri_plugin_dialog::{DialogExt, FilePath};

use crate::api::{
    Comparison, FailureGroup, FetchEvent, FrameRow, GpuRuntimeStatus, ImportReport, InputScan,
    InstalledModels, ListedPreset, ModelCheck, ModelJobKind, ModelList, ModelRole, ModelStatus,
    Preset, Results, ResumeInfo, RunResult, RunSettings, SamplesTable, SetAside, ShellEvent,
    SystemInfo,
};
use crate::error::{CommandError, CommandResult, ErrorKind};
use crate::gpu_runtime::GpuRuntimes;
use crate::model_store::{ModelStore, Models};
use crate::state::AppState;
use crate::timestamp::now;
use crate::{
    compare, failures, models, paths, presets, results, resume, run, scan, settings, system,
};

/// Run `work` on the blocking pool and wait for it without holding up the main thread.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> CommandResult<T> + Send + 'static,
) -> CommandResult<T> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| CommandError::new(ErrorKind::Engine, format!("internal error: {e}")))?
}

#[tauri::command(rename_all = "snake_case")]
pub async fn system_info() -> CommandResult<SystemInfo> {
    blocking(|| Ok(system::system_info())).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn pick_folders(
    app: AppHandle,
    state: State<'_, AppState>,
    title: String,
) -> CommandResult<Vec<PathBuf>> {
    let picked =
        blocking(move || Ok(app.dialog().file().set_title(title).blocking_pick_folders())).await?;
    let folders: Vec<PathBuf> = picked
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| p.into_path().ok())
        .collect();
    state.scope.allow_all(&folders);
    Ok(folders)
}

/// A file the user picked (`None`: cancelled) joins the scope.
fn chosen(state: &AppState, picked: Option<FilePath>) -> Option<PathBuf> {
    let file = picked.and_then(|p| p.into_path().ok())?;
    state.scope.allow(&file);
    Some(file)
}

#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
pub struct FileFilter {
    pub name: String,
    pub extensions: Vec<String>,
}

#[tauri::command(rename_all = "snake_case")]
pub async fn pick_file(
    app: AppHandle,
    state: State<'_, AppState>,
    title: String,
    filters: Vec<FileFilter>,
) -> CommandResult<Option<PathBuf>> {
    let picked = blocking(move || {
        let mut dialog = app.dialog().file().set_title(title);
        for filter in &filters {
            let extensions: Vec<&str> = filter.extensions.iter().map(String::as_str).collect();
            dialog = dialog.add_filter(&filter.name, &extensions);
        }
        Ok(dialog.blocking_pick_file())
    })
    .await?;
    Ok(chosen(&state, picked))
}

#[tauri::command(rename_all = "snake_case")]
pub async fn pick_save_file(
    app: AppHandle,
    state: State<'_, AppState>,
    title: String,
    default_name: String,
    directory: Option<PathBuf>,
) -> CommandResult<Option<PathBuf>> {
    // Opens where the exported data lives (the output folder), if the user chose it.
    let directory = directory.filter(|dir| state.scope.check(dir).is_ok() && dir.is_dir());
    let picked = blocking(move || {
        let dialog = app
            .dialog()
            .file()
            .set_title(title)
            .set_file_name(default_name);
        Ok(match directory {
            Some(dir) => dialog.set_directory(dir),
            None => dialog,
        }
        .blocking_save_file())
    })
    .await?;
    Ok(chosen(&state, picked))
}

#[tauri::command(rename_all = "snake_case")]
pub async fn scan_inputs(
    state: State<'_, AppState>,
    inputs: Vec<PathBuf>,
) -> CommandResult<InputScan> {
    state.scope.check_all(&inputs)?;
    blocking(move || Ok(scan::scan(&inputs))).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn check_model(
    state: State<'_, AppState>,
    kind: ModelRole,
    path: PathBuf,
) -> CommandResult<ModelCheck> {
    state.scope.check(&path)?;
    blocking(move || Ok(models::check(kind, &path))).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn validate_settings<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    settings: RunSettings,
) -> CommandResult<crate::api::SettingsCheck> {
    let scope = state.scope.clone();
    // Without the model store (none managed, no catalogue), an empty model field says
    // "not installed".
    let store = app.try_state::<Models>().map(|models| models.get());
    blocking(move || {
        let installed = store
            .and_then(Result::ok)
            .map(|store| store.installed_defaults(settings.length))
            .unwrap_or_default();
        Ok(settings::validate_settings(&settings, &scope, &installed))
    })
    .await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn start_run(
    state: State<'_, AppState>,
    settings: RunSettings,
    restart: bool,
    on_event: Channel<ShellEvent>,
) -> CommandResult<RunResult> {
    state.scope.check_all(settings.paths())?;
    let spec =
        settings::to_spec(&settings).map_err(|e| CommandError::invalid(format!("devices: {e}")))?;
    let samples = settings::samples(&settings);
    let slot = state.runs.begin()?;
    // The manifest records the files read and the budget used; find_resumable compares
    // against the folder and "auto" the user gave. A run goes on without it.
    if let Err(e) = state
        .store()
        .and_then(|store| store.record_given(&settings))
    {
        tracing::warn!("the run's settings were not kept: {}", e.message);
    }
    blocking(move || {
        // Dropped at the end of the run, whatever happens: the slot is free again.
        let slot = slot;
        run::execute(&spec, &samples, restart, &slot.cancel, move |event| {
            // The page may be gone (reloaded); the run goes on and its files are complete.
            if let Err(e) = on_event.send(event) {
                tracing::debug!("run event not delivered: {e}");
            }
        })
    })
    .await
}

#[tauri::command(rename_all = "snake_case")]
pub fn cancel_run(state: State<'_, AppState>) {
    if state.runs.cancel() {
        tracing::info!("run cancelled by the user; it stops at the next batch boundary");
    }
}

/// The earlier run in `out_dir`; `samples`, the names of the samples in the setup screen's
/// settings (absent or empty: none), are looked for in `out_dir/NAME/` first.
#[tauri::command(rename_all = "snake_case")]
pub fn find_resumable(
    state: State<'_, AppState>,
    out_dir: PathBuf,
    samples: Option<Vec<String>>,
) -> CommandResult<Option<ResumeInfo>> {
    state.scope.check(&out_dir)?;
    let given = state
        .store()
        .ok()
        .and_then(|store| store.given_settings(&out_dir));
    let samples = samples.unwrap_or_default();
    let info = resume::find_for(&out_dir, given.as_ref(), &samples);
    // The manifest of a folder the user chose names the files of that run: resuming it
    // needs them.
    if let Some(info) = &info {
        state.scope.allow_all(info.settings.paths());
    }
    Ok(info)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn load_failures(
    state: State<'_, AppState>,
    out_dir: PathBuf,
) -> CommandResult<Vec<FailureGroup>> {
    state.scope.check(&out_dir)?;
    blocking(move || Ok(failures::group(failures::read_failures(&out_dir)?))).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn export_failures(
    state: State<'_, AppState>,
    out_dir: PathBuf,
    dest: PathBuf,
) -> CommandResult<()> {
    state.scope.check_all([&out_dir, &dest])?;
    blocking(move || failures::export(&failures::group(failures::read_failures(&out_dir)?), &dest))
        .await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_aside_damaged(
    state: State<'_, AppState>,
    out_dir: PathBuf,
) -> CommandResult<SetAside> {
    state.scope.check(&out_dir)?;
    blocking(move || failures::set_aside_damaged(&out_dir)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn load_results(state: State<'_, AppState>, out_dir: PathBuf) -> CommandResult<Results> {
    state.scope.check(&out_dir)?;
    let demo = state.demo.as_ref().map(|preset| preset.settings.clone());
    blocking(move || results::load(&out_dir, demo.as_ref())).await
}

/// The table across the samples of the run in `out_dir` (`summary.tsv`).
#[tauri::command(rename_all = "snake_case")]
pub async fn load_samples(
    state: State<'_, AppState>,
    out_dir: PathBuf,
) -> CommandResult<SamplesTable> {
    state.scope.check(&out_dir)?;
    blocking(move || results::load_samples(&out_dir)).await
}

/// Two runs of the same reads compared (`virnucpro compare A B`); both folders must be
/// in the scope (a folder picked with `pick_folders` is).
#[tauri::command(rename_all = "snake_case")]
pub async fn compare_runs(
    state: State<'_, AppState>,
    a: PathBuf,
    b: PathBuf,
) -> CommandResult<Comparison> {
    state.scope.check_all([&a, &b])?;
    blocking(move || compare::compare(&a, &b)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn load_read_frames(
    state: State<'_, AppState>,
    out_dir: PathBuf,
    read_id: String,
) -> CommandResult<Vec<FrameRow>> {
    state.scope.check(&out_dir)?;
    blocking(move || results::load_read_frames(&out_dir, &read_id)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn export_virus_fasta(
    state: State<'_, AppState>,
    out_dir: PathBuf,
    dest: PathBuf,
) -> CommandResult<u64> {
    state.scope.check_all([&out_dir, &dest])?;
    blocking(move || crate::virus_fasta::export(&out_dir, &dest)).await
}

#[tauri::command(rename_all = "snake_case")]
pub fn open_folder(state: State<'_, AppState>, path: PathBuf) -> CommandResult<()> {
    state.scope.check(&path)?;
    paths::open_folder(&path)
}

#[tauri::command(rename_all = "snake_case")]
pub fn list_presets(state: State<'_, AppState>) -> CommandResult<Vec<ListedPreset>> {
    let map = state.store()?.presets();
    let all = presets::list(&map, state.demo.as_ref());
    Ok(all.into_iter().map(presets::listed).collect())
}

/// Only settings whose paths are in the scope are stored: a stored preset's paths are
/// allowed at the next start.
#[tauri::command(rename_all = "snake_case")]
pub fn save_preset(
    state: State<'_, AppState>,
    name: String,
    settings: RunSettings,
) -> CommandResult<Preset> {
    state.scope.check_all(settings.paths())?;
    state
        .store()?
        .update(|map| presets::save(map, &name, settings, now()))
}

#[tauri::command(rename_all = "snake_case")]
pub fn rename_preset(
    state: State<'_, AppState>,
    from: String,
    to: String,
) -> CommandResult<Preset> {
    state
        .store()?
        .update(|map| presets::rename(map, &from, &to, now()))
}

#[tauri::command(rename_all = "snake_case")]
pub fn duplicate_preset(
    state: State<'_, AppState>,
    name: String,
    as_name: String,
) -> CommandResult<Preset> {
    let demo = state.demo.as_ref();
    state
        .store()?
        .update(|map| presets::duplicate(map, demo, &name, &as_name, now()))
}

#[tauri::command(rename_all = "snake_case")]
pub fn delete_preset(state: State<'_, AppState>, name: String) -> CommandResult<()> {
    state.store()?.update(|map| presets::delete(map, &name))
}

#[tauri::command(rename_all = "snake_case")]
pub fn export_preset(state: State<'_, AppState>, name: String, dest: PathBuf) -> CommandResult<()> {
    state.scope.check(&dest)?;
    let map = state.store()?.presets();
    let preset = presets::list(&map, state.demo.as_ref())
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| CommandError::not_found(format!("no preset named \"{name}\"")))?;
    virnucpro_core::atomic::write_atomic(&dest, &presets::export_json(&preset))
        .map_err(CommandError::io_at(&dest))
}

/// The user chose the file, so the paths in it are theirs: they join the scope.
#[tauri::command(rename_all = "snake_case")]
pub fn import_preset(state: State<'_, AppState>, path: PathBuf) -> CommandResult<Preset> {
    state.scope.check(&path)?;
    let json = std::fs::read(&path).map_err(CommandError::io_at(&path))?;
    let preset = state
        .store()?
        .update(|map| presets::import(map, &json, &path, now()))?;
    state.scope.allow_all(preset.settings.paths());
    Ok(preset)
}

#[tauri::command(rename_all = "snake_case")]
pub fn last_settings(state: State<'_, AppState>) -> CommandResult<Option<RunSettings>> {
    Ok(state.store()?.last_settings())
}

#[tauri::command(rename_all = "snake_case")]
pub fn remember_settings(state: State<'_, AppState>, settings: RunSettings) -> CommandResult<()> {
    state.scope.check_all(settings.paths())?;
    state.store()?.remember(&settings)
}

/// The installed models are the app's own files: a run may read them.
fn allow_installed(state: &AppState, store: &ModelStore) {
    state.scope.allow_all(&store.usable_paths());
}

#[tauri::command(rename_all = "snake_case")]
pub async fn list_models(
    state: State<'_, AppState>,
    models: State<'_, Models>,
) -> CommandResult<ModelList> {
    let store = models.get()?;
    let list = blocking(move || Ok(store.list())).await?;
    state.scope.allow_all(
        list.models
            .iter()
            .filter(|m| m.state.is_usable())
            .map(|m| &m.path),
    );
    Ok(list)
}

/// What the Setup screen fills empty model fields with.
#[tauri::command(rename_all = "snake_case")]
pub async fn installed_models_defaults(
    state: State<'_, AppState>,
    models: State<'_, Models>,
    length: usize,
) -> CommandResult<InstalledModels> {
    let store = models.get()?;
    let installed = blocking(move || Ok(store.installed_defaults(length))).await?;
    state.scope.allow_all(
        [&installed.dnabert, &installed.esm, &installed.classifier]
            .into_iter()
            .flatten(),
    );
    Ok(installed)
}

/// Download what is missing of model `id`; `busy` while it is being downloaded or
/// verified. Resolves with its state when done or cancelled (partial then).
#[tauri::command(rename_all = "snake_case")]
pub async fn fetch_model(
    state: State<'_, AppState>,
    models: State<'_, Models>,
    id: String,
    on_event: Channel<FetchEvent>,
) -> CommandResult<ModelStatus> {
    let store = models.get()?;
    let slot = store.begin(&id, ModelJobKind::Fetch)?;
    let worker = store.clone();
    let status = blocking(move || {
        // Dropped at the end, whatever happens: the model is free again.
        let slot = slot;
        worker.fetch(&slot, |event| {
            if let Err(e) = on_event.send(event) {
                tracing::debug!("model event not delivered: {e}");
            }
        })
    })
    .await?;
    allow_installed(&state, &store);
    Ok(status)
}

/// Stop the download or verification of `id` (what was downloaded is kept).
#[tauri::command(rename_all = "snake_case")]
pub fn cancel_fetch(models: State<'_, Models>, id: String) -> CommandResult<()> {
    if models.get()?.cancel(&id) {
        tracing::info!("{id}: cancelled by the user");
    }
    Ok(())
}

/// Hash every installed file of `id` again; `verifying` events name each file.
#[tauri::command(rename_all = "snake_case")]
pub async fn verify_model(
    models: State<'_, Models>,
    id: String,
    on_event: Channel<FetchEvent>,
) -> CommandResult<ModelStatus> {
    let store = models.get()?;
    let slot = store.begin(&id, ModelJobKind::Verify)?;
    blocking(move || {
        let slot = slot;
        store.verify(&slot, |event| {
            if let Err(e) = on_event.send(event) {
                tracing::debug!("model event not delivered: {e}");
            }
        })
    })
    .await
}

/// Copy the catalogue's files found in `path` (a file or a folder the user chose) into
/// the caches.
#[tauri::command(rename_all = "snake_case")]
pub async fn import_models(
    state: State<'_, AppState>,
    models: State<'_, Models>,
    path: PathBuf,
) -> CommandResult<ImportReport> {
    state.scope.check(&path)?;
    let store = models.get()?;
    let worker = store.clone();
    let report = blocking(move || worker.import(&path)).await?;
    allow_installed(&state, &store);
    Ok(report)
}

/// Pick a file (or, with `folder`, a folder) and import it; `null` when cancelled.
#[tauri::command(rename_all = "snake_case")]
pub async fn import_models_dialog(
    app: AppHandle,
    state: State<'_, AppState>,
    models: State<'_, Models>,
    folder: bool,
) -> CommandResult<Option<ImportReport>> {
    let picked = blocking(move || {
        let dialog = app.dialog().file().set_title(if folder {
            "Import models from a folder"
        } else {
            "Import a model file"
        });
        Ok(if folder {
            dialog.blocking_pick_folder()
        } else {
            dialog.blocking_pick_file()
        })
    })
    .await?;
    let Some(path) = chosen(&state, picked) else {
        return Ok(None);
    };
    import_models(state, models, path).await.map(Some)
}

/// Show the folder holding model `id` in the file manager.
#[tauri::command(rename_all = "snake_case")]
pub fn reveal_model(models: State<'_, Models>, id: String) -> CommandResult<()> {
    paths::open_folder(&models.get()?.reveal_target(&id)?)
}

/// The GPU runtime (libtorch's CUDA libraries), the driver, and whether CUDA is used.
#[tauri::command(rename_all = "snake_case")]
pub async fn gpu_runtime_status(
    runtimes: State<'_, GpuRuntimes>,
) -> CommandResult<GpuRuntimeStatus> {
    let runtime = runtimes.inner().clone()?;
    blocking(move || Ok(runtime.status(virnucpro_engine::Backend::detect()))).await
}

/// Download and unpack the GPU runtime (what is missing of it); `busy` while one download
/// is going. Resolves with its state when done or cancelled (partial then).
#[tauri::command(rename_all = "snake_case")]
pub async fn fetch_gpu_runtime(
    runtimes: State<'_, GpuRuntimes>,
    on_event: Channel<FetchEvent>,
) -> CommandResult<GpuRuntimeStatus> {
    let runtime = runtimes.inner().clone()?;
    let slot = runtime.begin()?;
    blocking(move || {
        // Dropped at the end, whatever happens: a download may start again.
        let slot = slot;
        runtime.fetch(&slot, virnucpro_engine::Backend::detect(), |event| {
            if let Err(e) = on_event.send(event) {
                tracing::debug!("gpu runtime event not delivered: {e}");
            }
        })
    })
    .await
}

/// Stop the GPU runtime's download (what was downloaded is kept).
#[tauri::command(rename_all = "snake_case")]
pub fn cancel_gpu_runtime(runtimes: State<'_, GpuRuntimes>) -> CommandResult<()> {
    if runtimes.inner().clone()?.cancel() {
        tracing::info!("gpu-runtime: cancelled by the user");
    }
    Ok(())
}

/// Delete the GPU runtime and its downloaded wheels; `busy` during a download.
#[tauri::command(rename_all = "snake_case")]
pub async fn remove_gpu_runtime(
    runtimes: State<'_, GpuRuntimes>,
) -> CommandResult<GpuRuntimeStatus> {
    let runtime = runtimes.inner().clone()?;
    blocking(move || runtime.remove(virnucpro_engine::Backend::detect())).await
}
