//! What the commands share: the scope, the run slot, the app's folders, the presets file
//! and the Demo preset.
use tauri::{AppHandle, Runtime};
use tauri_plugin_store::StoreExt;

use crate::api::Preset;
use crate::demo::{DemoFiles, DEMO_PRESET};
use crate::error::{CommandError, CommandResult, ErrorKind};
use crate::paths::AppPaths;
use crate::presets::PresetStore;
use crate::run::RunManager;
use crate::scope::Scope;

pub struct AppState {
    pub scope: Scope,
    pub runs: RunManager,
    pub paths: AppPaths,
    /// `None` when the demo files cannot be found (a broken install): no Demo preset then.
    pub demo: Option<Preset>,
    store: Result<PresetStore, CommandError>,
}

impl AppState {
    /// The state for an app whose data lives in `paths`, with the demo files `demo`. The
    /// demo files, the demo's output folder, and every path of the stored presets and last
    /// settings are allowed: the user chose them earlier.
    pub fn new<R: Runtime>(app: &AppHandle<R>, paths: AppPaths, demo: Option<DemoFiles>) -> Self {
        let scope = Scope::new();
        let demo = demo.map(|files| {
            scope.allow(&files.root);
            scope.allow(&paths.demo_output());
            Preset {
                name: DEMO_PRESET.to_owned(),
                settings: files.settings(paths.demo_output()),
                updated: files.updated(),
            }
        });
        let file = paths.store_file();
        let store = app
            .store(&file)
            .map(|store| PresetStore::new(store))
            .map_err(|e| CommandError::new(ErrorKind::Io, format!("{}: {e}", file.display())));
        match &store {
            Ok(store) => {
                for preset in store.presets().values() {
                    scope.allow_all(preset.settings.paths());
                }
                if let Some(last) = store.last_settings() {
                    scope.allow_all(last.paths());
                }
            }
            Err(e) => tracing::warn!("presets unavailable: {e}"),
        }
        Self {
            scope,
            runs: RunManager::new(),
            paths,
            demo,
            store,
        }
    }

    /// The presets and last settings file.
    pub fn store(&self) -> CommandResult<&PresetStore> {
        self.store.as_ref().map_err(Clone::clone)
    }
}
