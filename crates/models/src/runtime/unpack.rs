//! The shared libraries of the downloaded wheels, unpacked into a temporary folder beside
//! the runtime's place and renamed into place when all are there: a runtime folder is
//! whole or absent.
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path};

use virnucpro_core::CancelToken;

use super::install::{wheel_path, RuntimeError, RUNTIME};
use super::{InstalledRecord, RuntimeManifest, RuntimePaths, Wheel, RECORD_FILE};
use crate::fetch::FetchEvent;

pub(super) fn unpack_all(
    manifest: &RuntimeManifest,
    paths: &RuntimePaths,
    dir: &Path,
    cancel: &CancelToken,
    on_event: &mut dyn FnMut(&FetchEvent),
) -> Result<(), RuntimeError> {
    std::fs::create_dir_all(&paths.install).map_err(RuntimeError::io(&paths.install))?;
    let temp = tempfile::Builder::new()
        .prefix(".unpacking-")
        .tempdir_in(&paths.install)
        .map_err(RuntimeError::io(&paths.install))?;
    let mut bytes = 0;
    for wheel in &manifest.wheels {
        if cancel.is_cancelled() {
            return Err(RuntimeError::Cancelled);
        }
        on_event(&FetchEvent::Unpacking {
            model: RUNTIME.into(),
            file: wheel.filename.clone(),
        });
        bytes += unpack_wheel(&wheel_path(paths, wheel), wheel, temp.path())?;
    }
    let record = InstalledRecord {
        libtorch: manifest.libtorch.clone(),
        cuda: manifest.cuda.clone(),
        bytes,
        wheels: manifest
            .wheels
            .iter()
            .map(|w| format!("{}=={}", w.project, w.version))
            .collect(),
    };
    let record_path = temp.path().join(RECORD_FILE);
    let text = serde_json::to_vec_pretty(&record).unwrap_or_default();
    std::fs::write(&record_path, text).map_err(RuntimeError::io(&record_path))?;
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(RuntimeError::io(dir))?;
    }
    let temp = temp.keep();
    std::fs::rename(&temp, dir).map_err(RuntimeError::io(dir))?;
    File::open(&paths.install)
        .and_then(|d| d.sync_all())
        .map_err(RuntimeError::io(&paths.install))
}

/// Unpack the wanted members of one wheel into `into`; their bytes.
fn unpack_wheel(path: &Path, wheel: &Wheel, into: &Path) -> Result<u64, RuntimeError> {
    let bad = |reason: String| RuntimeError::BadWheel {
        path: path.to_path_buf(),
        reason,
    };
    let file = File::open(path).map_err(RuntimeError::io(path))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| bad(e.to_string()))?;
    let mut bytes = 0;
    let mut found = 0;
    for index in 0..archive.len() {
        let mut member = archive.by_index(index).map_err(|e| bad(e.to_string()))?;
        let name = member.name().to_string();
        if !wheel.wants(&name) || member.is_dir() {
            continue;
        }
        let relative = Path::new(&name);
        // The rules only name plain relative paths; a member that is not one is refused.
        if !relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
        {
            return Err(bad(format!("member {name:?} is not a plain relative path")));
        }
        let target = into.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(RuntimeError::io(parent))?;
        }
        let mut out = File::create(&target).map_err(RuntimeError::io(&target))?;
        bytes += std::io::copy(&mut member, &mut out).map_err(|e| bad(format!("{name}: {e}")))?;
        out.flush()
            .and_then(|()| out.sync_all())
            .map_err(RuntimeError::io(&target))?;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755))
            .map_err(RuntimeError::io(&target))?;
        found += 1;
    }
    if found == 0 {
        return Err(bad(format!("none of {:?} is in it", wheel.extract)));
    }
    Ok(bytes)
}
