//! Named run settings. The user's presets live in the app's store file (key `presets`,
//! name → preset) next to the last used settings (key `last_settings`); the built-in
//! `Demo` preset is computed at start-up and is never stored, renamed or deleted.
//!
//! The operations are plain functions over the map, so that they are tested without an
//! app; [`PresetStore`] reads and writes the map through tauri-plugin-store (behind
//! [`Storage`], so that the commands do not depend on the runtime type).
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use tauri::Runtime;
use tauri_plugin_store::Store;

use crate::api::{ListedPreset, Preset, RunSettings};
use crate::demo::DEMO_PRESET;
use crate::error::{CommandError, CommandResult, ErrorKind};

pub type PresetMap = BTreeMap<String, Preset>;

const PRESETS_KEY: &str = "presets";
const LAST_SETTINGS_KEY: &str = "last_settings";
/// The settings runs were started with, as the user gave them: one per output folder,
/// the newest last.
const GIVEN_SETTINGS_KEY: &str = "run_settings";
/// Output folders whose given settings are kept; older ones fall back to the manifest.
const MAX_GIVEN_SETTINGS: usize = 50;
const MAX_NAME: usize = 80;

/// A usable name: trimmed, non-empty, not too long, not the built-in preset's.
fn check_name(name: &str) -> CommandResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(CommandError::invalid("a preset needs a name"));
    }
    if name.chars().count() > MAX_NAME {
        return Err(CommandError::invalid(format!(
            "a preset name has at most {MAX_NAME} characters"
        )));
    }
    if name.eq_ignore_ascii_case(DEMO_PRESET) {
        return Err(CommandError::invalid(format!(
            "\"{DEMO_PRESET}\" is the built-in preset; choose another name"
        )));
    }
    Ok(name.to_owned())
}

fn missing(name: &str) -> CommandError {
    CommandError::not_found(format!("no preset named \"{name}\""))
}

/// Every preset sorted by name, the built-in one included.
pub fn list(map: &PresetMap, demo: Option<&Preset>) -> Vec<Preset> {
    let mut all: Vec<Preset> = map.values().cloned().chain(demo.cloned()).collect();
    all.sort_by_key(|p| p.name.to_lowercase());
    all
}

/// `preset` with the inputs (its samples' included) and models it names that are gone
/// (moved or deleted since it was saved), so that the list can say so before the user
/// loads it. The output folder is left out: a run makes it.
pub fn listed(preset: Preset) -> ListedPreset {
    let settings = &preset.settings;
    let missing = settings
        .inputs
        .iter()
        .chain(settings.samples.iter().flat_map(|s| s.inputs.iter()))
        .chain([&settings.dnabert, &settings.esm, &settings.classifier])
        .filter(|path| !path.as_os_str().is_empty() && !path.exists())
        .cloned()
        .collect();
    ListedPreset { preset, missing }
}

/// Save `settings` as `name`, replacing a preset of that name.
pub fn save(
    map: &mut PresetMap,
    name: &str,
    settings: RunSettings,
    now: String,
) -> CommandResult<Preset> {
    let name = check_name(name)?;
    let preset = Preset {
        name: name.clone(),
        settings,
        updated: now,
    };
    map.insert(name, preset.clone());
    Ok(preset)
}

pub fn rename(map: &mut PresetMap, from: &str, to: &str, now: String) -> CommandResult<Preset> {
    if from == DEMO_PRESET {
        return Err(CommandError::invalid(
            "the built-in Demo preset cannot be renamed",
        ));
    }
    let to = check_name(to)?;
    if to != from && map.contains_key(&to) {
        return Err(CommandError::invalid(format!(
            "a preset named \"{to}\" exists already"
        )));
    }
    let mut preset = map.remove(from).ok_or_else(|| missing(from))?;
    preset.name = to.clone();
    preset.updated = now;
    map.insert(to, preset.clone());
    Ok(preset)
}

/// A copy of `name` (the built-in one too) as `as_name`, which must be free.
pub fn duplicate(
    map: &mut PresetMap,
    demo: Option<&Preset>,
    name: &str,
    as_name: &str,
    now: String,
) -> CommandResult<Preset> {
    let source = match demo.filter(|d| d.name == name) {
        Some(demo) => demo.clone(),
        None => map.get(name).cloned().ok_or_else(|| missing(name))?,
    };
    let as_name = check_name(as_name)?;
    if map.contains_key(&as_name) {
        return Err(CommandError::invalid(format!(
            "a preset named \"{as_name}\" exists already"
        )));
    }
    save(map, &as_name, source.settings, now)
}

pub fn delete(map: &mut PresetMap, name: &str) -> CommandResult<()> {
    if name == DEMO_PRESET {
        return Err(CommandError::invalid(
            "the built-in Demo preset cannot be deleted",
        ));
    }
    map.remove(name).map(|_| ()).ok_or_else(|| missing(name))
}

/// A preset from an exported file, under a free name (`Name (2)` when `Name` is taken).
pub fn import(
    map: &mut PresetMap,
    json: &[u8],
    source: &Path,
    now: String,
) -> CommandResult<Preset> {
    let preset: Preset = serde_json::from_slice(json).map_err(|e| {
        CommandError::invalid(format!("{}: not a VirNucPro preset: {e}", source.display()))
    })?;
    let base = check_name(&preset.name).unwrap_or_else(|_| "Imported".to_owned());
    let mut name = base.clone();
    let mut n = 1;
    while map.contains_key(&name) {
        n += 1;
        name = format!("{base} ({n})");
    }
    save(map, &name, preset.settings, now)
}

/// The file `export_preset` writes: the preset as pretty JSON.
pub fn export_json(preset: &Preset) -> Vec<u8> {
    // Serializing plain structs of strings and numbers cannot fail.
    serde_json::to_vec_pretty(preset).unwrap_or_default()
}

/// A JSON key-value file: what [`PresetStore`] needs of tauri-plugin-store's `Store`.
pub trait Storage: Send + Sync {
    fn get(&self, key: &str) -> Option<serde_json::Value>;
    fn set(&self, key: &str, value: serde_json::Value);
    /// Write the file now.
    fn save(&self) -> Result<(), String>;
}

impl<R: Runtime> Storage for Store<R> {
    fn get(&self, key: &str) -> Option<serde_json::Value> {
        Store::get(self, key)
    }

    fn set(&self, key: &str, value: serde_json::Value) {
        Store::set(self, key, value);
    }

    fn save(&self) -> Result<(), String> {
        Store::save(self).map_err(|e| e.to_string())
    }
}

/// The presets and last settings in the app's store file.
#[derive(Clone)]
pub struct PresetStore {
    store: Arc<dyn Storage>,
}

fn to_json(value: &impl serde::Serialize) -> CommandResult<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| CommandError::invalid(e.to_string()))
}

fn store_error(err: String) -> CommandError {
    CommandError::new(ErrorKind::Io, format!("the settings file: {err}"))
}

impl PresetStore {
    pub fn new(store: Arc<dyn Storage>) -> Self {
        Self { store }
    }

    /// The stored presets; an entry that does not parse (a hand-edited file) is skipped
    /// with a warning rather than losing the others.
    pub fn presets(&self) -> PresetMap {
        let Some(serde_json::Value::Object(entries)) = self.store.get(PRESETS_KEY) else {
            return PresetMap::new();
        };
        entries
            .into_iter()
            .filter_map(
                |(name, value)| match serde_json::from_value::<Preset>(value) {
                    Ok(preset) => Some((name, preset)),
                    Err(e) => {
                        tracing::warn!("ignoring the stored preset \"{name}\": {e}");
                        None
                    }
                },
            )
            .collect()
    }

    /// Store `map` and write the file now (not on the store's debounce timer), so that a
    /// crash right after the click keeps the change.
    pub fn set_presets(&self, map: &PresetMap) -> CommandResult<()> {
        self.store.set(PRESETS_KEY, to_json(map)?);
        self.store.save().map_err(store_error)
    }

    /// Change the stored presets with `change`; written only when it succeeds.
    pub fn update<T>(
        &self,
        change: impl FnOnce(&mut PresetMap) -> CommandResult<T>,
    ) -> CommandResult<T> {
        let mut map = self.presets();
        let value = change(&mut map)?;
        self.set_presets(&map)?;
        Ok(value)
    }

    pub fn last_settings(&self) -> Option<RunSettings> {
        serde_json::from_value(self.store.get(LAST_SETTINGS_KEY)?).ok()
    }

    pub fn remember(&self, settings: &RunSettings) -> CommandResult<()> {
        self.store.set(LAST_SETTINGS_KEY, to_json(settings)?);
        self.store.save().map_err(store_error)
    }

    fn given_list(&self) -> Vec<RunSettings> {
        self.store
            .get(GIVEN_SETTINGS_KEY)
            .and_then(|value| serde_json::from_value(value).ok())
            .unwrap_or_default()
    }

    /// The settings the latest run in `out_dir` was started with, as the user gave them.
    pub fn given_settings(&self, out_dir: &Path) -> Option<RunSettings> {
        self.given_list()
            .into_iter()
            .rfind(|settings| settings.out_dir == out_dir)
    }

    /// Keep `settings` as the ones the run in its output folder was started with: the
    /// engine's manifest records the files read and the budget used, not the folder or
    /// "auto" the user chose (see [`crate::resume::find_as_given`]).
    pub fn record_given(&self, settings: &RunSettings) -> CommandResult<()> {
        let mut list = self.given_list();
        list.retain(|kept| kept.out_dir != settings.out_dir);
        list.push(settings.clone());
        let excess = list.len().saturating_sub(MAX_GIVEN_SETTINGS);
        list.drain(..excess);
        self.store.set(GIVEN_SETTINGS_KEY, to_json(&list)?);
        self.store.save().map_err(store_error)
    }
}

#[cfg(test)]
mod tests;
