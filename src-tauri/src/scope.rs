//! The paths the web view may make the shell touch: those the user chose (pickers, saved
//! or imported presets, the last settings) and the demo files. Everything else is
//! `not_allowed`, so a compromised page cannot read or write arbitrary files.
//!
//! Paths are compared after resolving links and `.`/`..` (of the part that exists), so
//! `chosen/../../etc` or a link out of a chosen folder does not pass.
use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::error::{CommandError, CommandResult, ErrorKind};

/// Shared: clones see and extend the same set.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    roots: Arc<Mutex<BTreeSet<PathBuf>>>,
}

impl Scope {
    pub fn new() -> Self {
        Self::default()
    }

    /// Allow `path` and everything below it. Relative paths are ignored: nothing the
    /// pickers return is relative, and a relative root would depend on the working folder.
    pub fn allow(&self, path: &Path) {
        if let Some(root) = resolve(path) {
            self.lock().insert(root);
        }
    }

    pub fn allow_all<'a>(&self, paths: impl IntoIterator<Item = &'a PathBuf>) {
        for path in paths {
            self.allow(path);
        }
    }

    pub fn is_allowed(&self, path: &Path) -> bool {
        let Some(path) = resolve(path) else {
            return false;
        };
        self.lock().iter().any(|root| path.starts_with(root))
    }

    /// `Ok` when `path` may be used, else a `not_allowed` error naming it.
    pub fn check(&self, path: &Path) -> CommandResult<()> {
        if self.is_allowed(path) {
            Ok(())
        } else {
            Err(CommandError::new(
                ErrorKind::NotAllowed,
                format!(
                    "{}: not a file or folder you chose; pick it with the file dialog first",
                    path.display()
                ),
            ))
        }
    }

    pub fn check_all<'a>(&self, paths: impl IntoIterator<Item = &'a PathBuf>) -> CommandResult<()> {
        paths.into_iter().try_for_each(|p| self.check(p))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<PathBuf>> {
        // The set is valid after any panic (inserts are atomic), so poisoning is ignored.
        self.roots.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// `path` with its longest existing prefix canonicalized and the rest appended; `None` for
/// relative paths and for a `..` in the part that does not exist (it cannot be resolved).
fn resolve(path: &Path) -> Option<PathBuf> {
    if !path.is_absolute() {
        return None;
    }
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    let base = loop {
        if let Ok(canonical) = std::fs::canonicalize(&existing) {
            break canonical;
        }
        rest.push(existing.file_name()?.to_os_string());
        // A path ending in `..` has no file name: `?` above gives up on it.
        existing = existing.parent()?.to_path_buf();
    };
    let mut resolved = base;
    for part in rest.iter().rev() {
        match Path::new(part).components().next() {
            Some(Component::Normal(_)) => resolved.push(part),
            _ => return None,
        }
    }
    Some(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_chosen_paths_and_what_is_below_them_pass() {
        let dir = tempfile::tempdir().unwrap();
        let chosen = dir.path().join("chosen");
        let other = dir.path().join("other");
        std::fs::create_dir_all(&chosen).unwrap();
        std::fs::create_dir_all(&other).unwrap();
        let scope = Scope::new();
        assert!(!scope.is_allowed(&chosen), "nothing is allowed at first");
        scope.allow(&chosen);
        assert!(scope.is_allowed(&chosen));
        assert!(scope.is_allowed(&chosen.join("reads.fa")));
        assert!(scope.is_allowed(&chosen.join("new/run")), "not yet created");
        assert!(!scope.is_allowed(&other));
        assert!(!scope.is_allowed(dir.path()));
        assert!(!scope.is_allowed(&chosen.join("../other")));
        assert!(!scope.is_allowed(&chosen.join("missing/../../other")));
        assert!(!scope.is_allowed(Path::new("relative/chosen")));
        let err = scope.check(&other).unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotAllowed);
        assert!(err.message.contains("other"), "{}", err.message);
    }

    #[test]
    fn a_link_out_of_a_chosen_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let chosen = dir.path().join("chosen");
        let secret = dir.path().join("secret");
        std::fs::create_dir_all(&chosen).unwrap();
        std::fs::create_dir_all(&secret).unwrap();
        std::os::unix::fs::symlink(&secret, chosen.join("link")).unwrap();
        let scope = Scope::new();
        scope.allow(&chosen);
        assert!(!scope.is_allowed(&chosen.join("link")));
        assert!(!scope.is_allowed(&chosen.join("link/file")));
        // A chosen link is its target: choosing it allows the target.
        scope.allow(&chosen.join("link"));
        assert!(scope.is_allowed(&secret.join("file")));
    }
}
