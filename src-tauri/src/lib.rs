//! VirNucPro Desktop: the Tauri shell between the web UI (`ui/`) and the engine.
//!
//! The UI calls the commands of docs/desktop-api.md ([`commands`]); a run's events reach it
//! through one Channel, thinned by [`throttle`]. The logic lives in small modules that know
//! nothing of Tauri (settings, scope, presets, failures, results, ...), so it is tested
//! without a window; the commands only check the scope and call them.
pub mod api;
mod close;
pub mod commands;
pub mod compare;
pub mod demo;
pub mod error;
pub mod failures;
pub mod gpu_runtime;
pub mod logs;
pub mod model_store;
pub mod models;
pub mod paths;
pub mod presets;
pub mod results;
pub mod resume;
pub mod run;
pub mod scan;
pub mod scope;
pub mod settings;
pub mod state;
pub mod system;
pub mod throttle;
pub use virnucpro_core::timestamp;
mod tsv;
pub mod virus_fasta;

use tauri::ipc::Invoke;
use tauri::{Manager, Runtime, Wry};

/// The commands that work on any runtime (the tests' mock runtime too): all but the file
/// pickers, which need the real one.
pub fn handler<R: Runtime>() -> impl Fn(Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        commands::system_info,
        commands::scan_inputs,
        commands::check_model,
        commands::validate_settings,
        commands::start_run,
        commands::cancel_run,
        commands::find_resumable,
        commands::load_failures,
        commands::export_failures,
        commands::set_aside_damaged,
        commands::load_results,
        commands::load_samples,
        commands::compare_runs,
        commands::load_read_frames,
        commands::export_virus_fasta,
        commands::open_folder,
        commands::list_presets,
        commands::save_preset,
        commands::rename_preset,
        commands::duplicate_preset,
        commands::delete_preset,
        commands::export_preset,
        commands::import_preset,
        commands::last_settings,
        commands::remember_settings,
        commands::list_models,
        commands::installed_models_defaults,
        commands::fetch_model,
        commands::cancel_fetch,
        commands::verify_model,
        commands::import_models,
        commands::reveal_model,
        commands::gpu_runtime_status,
        commands::fetch_gpu_runtime,
        commands::cancel_gpu_runtime,
        commands::remove_gpu_runtime,
    ]
}

const PICKERS: [&str; 4] = [
    "pick_folders",
    "pick_file",
    "pick_save_file",
    "import_models_dialog",
];

fn picker_handler() -> impl Fn(Invoke<Wry>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        commands::pick_folders,
        commands::pick_file,
        commands::pick_save_file,
        commands::import_models_dialog
    ]
}

/// Every command of the contract: the pickers, then the rest.
fn app_handler() -> impl Fn(Invoke<Wry>) -> bool + Send + Sync + 'static {
    let pickers = picker_handler();
    let rest = handler::<Wry>();
    move |invoke| {
        if PICKERS.contains(&invoke.message.command()) {
            pickers(invoke)
        } else {
            rest(invoke)
        }
    }
}

/// Start the app; returns when its window is closed.
pub fn run() {
    logs::init();
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_store::Builder::new().build())
        .setup(|app| {
            let paths = paths::AppPaths::for_user()?;
            let resources = app.path().resource_dir().ok();
            let demo = demo::DemoFiles::find(resources.as_deref());
            match &demo {
                Some(files) => tracing::info!("demo files in {}", files.root.display()),
                None => tracing::warn!("demo files not found: no Demo preset"),
            }
            tracing::info!(
                "VirNucPro Desktop {}; settings in {}; {}",
                env!("CARGO_PKG_VERSION"),
                paths.store_file().display(),
                virnucpro_engine::Backend::detect().describe()
            );
            app.manage(state::AppState::new(app.handle(), paths, demo));
            let models = model_store::Models::from_env();
            if let Ok(store) = models.get() {
                tracing::info!("models in {}", store.roots.hf_hub.display());
            }
            app.manage(models);
            app.manage(gpu_runtime::shared_from_env());
            Ok(())
        })
        .on_window_event(close::on_window_event)
        .invoke_handler(app_handler())
        .run(tauri::generate_context!());
    if let Err(e) = result {
        tracing::error!("the app stopped with an error: {e}");
        std::process::exit(1);
    }
}
