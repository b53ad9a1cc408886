//! Where the Python tools leave model weights, from the same environment variables.
use std::ffi::OsString;
use std::path::PathBuf;

use crate::roots::RootParts;

/// The folders `discover` looks in. Built from the environment by [`SearchRoots::from_env`],
/// or directly (tests point it at temporary folders without touching the process env).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchRoots {
    /// The Hugging Face hub cache, holding `models--ORG--NAME/` folders.
    pub hf_hub: Option<PathBuf>,
    /// torch hub's checkpoint folder, where fair-esm saves `esm2_t*.pt`.
    pub torch_hub: Option<PathBuf>,
    /// Folders the user names, scanned one level deep.
    pub extra: Vec<PathBuf>,
}

impl SearchRoots {
    /// The caches as `huggingface_hub` and `torch.hub` resolve them in this environment.
    pub fn from_env() -> SearchRoots {
        SearchRoots::from_vars(|name| std::env::var_os(name))
    }

    /// The caches for environment variables given by `var`:
    /// - HF: `HF_HUB_CACHE`, else the older `HUGGINGFACE_HUB_CACHE`, else `$HF_HOME/hub`,
    ///   else `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`;
    /// - torch: `$TORCH_HOME/hub/checkpoints`, `TORCH_HOME` defaulting to
    ///   `$XDG_CACHE_HOME/torch`, else `~/.cache/torch`.
    ///
    /// Like Python, a leading `~` in a value is the home folder; empty values count as unset.
    pub fn from_vars(var: impl Fn(&str) -> Option<OsString>) -> SearchRoots {
        // One reading of the variables for discovery and downloads (virnucpro-models).
        let parts = RootParts::from_vars(var);
        SearchRoots {
            hf_hub: parts.hf_hub,
            torch_hub: parts.torch_checkpoints,
            extra: Vec::new(),
        }
    }

    /// The same roots, plus folders to scan.
    pub fn with_extra(mut self, folders: impl IntoIterator<Item = PathBuf>) -> SearchRoots {
        self.extra.extend(folders);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn roots(vars: &[(&str, &str)]) -> SearchRoots {
        let vars: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        SearchRoots::from_vars(|name| vars.get(name).cloned())
    }

    fn some(path: &str) -> Option<PathBuf> {
        Some(PathBuf::from(path))
    }

    #[test]
    fn defaults_are_under_the_home_cache() {
        let r = roots(&[("HOME", "/home/u")]);
        assert_eq!(r.hf_hub, some("/home/u/.cache/huggingface/hub"));
        assert_eq!(r.torch_hub, some("/home/u/.cache/torch/hub/checkpoints"));
        assert!(r.extra.is_empty());
    }

    // The variables' order and `~` are tested where they are read: virnucpro-models'
    // `roots` (`RootParts::from_vars`); here only that discovery takes its two caches.

    #[test]
    fn extra_folders_are_appended() {
        let r = SearchRoots::default().with_extra([PathBuf::from("/a"), PathBuf::from("/b")]);
        assert_eq!(r.extra, vec![PathBuf::from("/a"), PathBuf::from("/b")]);
    }
}
