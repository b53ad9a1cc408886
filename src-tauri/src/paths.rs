//! Where the app keeps its own files: the settings store and the demo's output, in the
//! per-user data folder (`~/.local/share/org.virnucpro.desktop` on Linux, the folder
//! Tauri itself uses for this identifier).
use std::path::{Path, PathBuf};

use directories::ProjectDirs;

use crate::error::{CommandError, CommandResult};

pub const IDENTIFIER: &str = "org.virnucpro.desktop";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPaths {
    pub data_dir: PathBuf,
}

impl AppPaths {
    pub fn new(data_dir: PathBuf) -> Self {
        Self { data_dir }
    }

    /// The per-user data folder; `XDG_DATA_HOME` moves it (tests use that).
    pub fn for_user() -> CommandResult<Self> {
        let dirs = ProjectDirs::from_path(PathBuf::from(IDENTIFIER)).ok_or_else(|| {
            CommandError::not_found("no home folder: cannot place the app's settings")
        })?;
        Ok(Self::new(dirs.data_dir().to_path_buf()))
    }

    /// Presets and the last settings (tauri-plugin-store's JSON file).
    pub fn store_file(&self) -> PathBuf {
        self.data_dir.join("settings.json")
    }

    /// The Demo preset's output folder: writable, unlike bundled resources.
    pub fn demo_output(&self) -> PathBuf {
        self.data_dir.join("demo-output")
    }
}

/// Show `path` in the system's file manager.
pub fn open_folder(path: &Path) -> CommandResult<()> {
    if !path.exists() {
        return Err(CommandError::not_found(format!(
            "{}: no such file or folder",
            path.display()
        )));
    }
    opener::open(path).map_err(|e| {
        CommandError::new(
            crate::error::ErrorKind::Io,
            format!("{}: cannot open: {e}", path.display()),
        )
    })
}
