//! Where models are installed: the caches the Python tools use, found from the same
//! environment variables, or one folder the user chose.
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// The three folders models go to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CacheRoots {
    /// The Hugging Face hub cache, holding `models--ORG--NAME/` folders.
    pub hf_hub: PathBuf,
    /// torch hub's checkpoint folder, where fair-esm keeps `esm2_t*.pt`.
    pub torch_checkpoints: PathBuf,
    /// VirNucPro's own folder: the classifiers and the record of verified files.
    pub virnucpro: PathBuf,
}

/// Environment variable for VirNucPro's own model folder.
pub const VIRNUCPRO_CACHE_VAR: &str = "VIRNUCPRO_CACHE";

impl CacheRoots {
    /// The caches as `huggingface_hub` and `torch.hub` resolve them in this environment.
    /// `None` only when neither `HOME` nor the variables are set.
    pub fn from_env() -> Option<CacheRoots> {
        CacheRoots::from_vars(|name| std::env::var_os(name))
    }

    /// The caches for environment variables given by `var`:
    /// - HF: `HF_HUB_CACHE`, else the older `HUGGINGFACE_HUB_CACHE`, else `$HF_HOME/hub`,
    ///   else `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`;
    /// - torch: `$TORCH_HOME/hub/checkpoints`, `TORCH_HOME` defaulting to
    ///   `$XDG_CACHE_HOME/torch`, else `~/.cache/torch`;
    /// - VirNucPro: `VIRNUCPRO_CACHE`, else `$XDG_CACHE_HOME/virnucpro`, else
    ///   `~/.cache/virnucpro`.
    ///
    /// Like Python, a leading `~` in a value is the home folder; empty values count as unset.
    pub fn from_vars(var: impl Fn(&str) -> Option<OsString>) -> Option<CacheRoots> {
        let parts = RootParts::from_vars(var);
        Some(CacheRoots {
            hf_hub: parts.hf_hub?,
            torch_checkpoints: parts.torch_checkpoints?,
            virnucpro: parts.virnucpro?,
        })
    }

    /// Everything under one chosen folder, laid out as `XDG_CACHE_HOME=folder` would:
    /// `folder/huggingface/hub`, `folder/torch/hub/checkpoints`, `folder/virnucpro`. The
    /// Python tools see the same copy when run with `XDG_CACHE_HOME` set to it.
    pub fn in_folder(folder: &Path) -> CacheRoots {
        CacheRoots {
            hf_hub: folder.join("huggingface").join("hub"),
            torch_checkpoints: folder.join("torch").join("hub").join("checkpoints"),
            virnucpro: folder.join("virnucpro"),
        }
    }
}

/// Each root on its own: discovery looks in whichever of them is known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RootParts {
    pub hf_hub: Option<PathBuf>,
    pub torch_checkpoints: Option<PathBuf>,
    pub virnucpro: Option<PathBuf>,
}

impl RootParts {
    /// See [`CacheRoots::from_vars`].
    pub fn from_vars(var: impl Fn(&str) -> Option<OsString>) -> RootParts {
        let home = var("HOME").filter(|v| !v.is_empty()).map(PathBuf::from);
        let path = |name: &str| {
            var(name)
                .filter(|v| !v.is_empty())
                .map(|v| expand_home(PathBuf::from(v), home.as_deref()))
        };
        let cache = path("XDG_CACHE_HOME").or_else(|| home.as_ref().map(|h| h.join(".cache")));
        let hf_hub = path("HF_HUB_CACHE")
            .or_else(|| path("HUGGINGFACE_HUB_CACHE"))
            .or_else(|| path("HF_HOME").map(|p| p.join("hub")))
            .or_else(|| cache.as_ref().map(|c| c.join("huggingface").join("hub")));
        let torch_home = path("TORCH_HOME").or_else(|| cache.as_ref().map(|c| c.join("torch")));
        let virnucpro =
            path(VIRNUCPRO_CACHE_VAR).or_else(|| cache.as_ref().map(|c| c.join("virnucpro")));
        RootParts {
            hf_hub,
            torch_checkpoints: torch_home.map(|t| t.join("hub").join("checkpoints")),
            virnucpro,
        }
    }
}

fn expand_home(path: PathBuf, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix("~"), home) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parts(vars: &[(&str, &str)]) -> RootParts {
        let vars: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        RootParts::from_vars(|name| vars.get(name).cloned())
    }

    fn some(path: &str) -> Option<PathBuf> {
        Some(PathBuf::from(path))
    }

    #[test]
    fn defaults_are_under_the_home_cache() {
        let r = parts(&[("HOME", "/home/u")]);
        assert_eq!(r.hf_hub, some("/home/u/.cache/huggingface/hub"));
        assert_eq!(
            r.torch_checkpoints,
            some("/home/u/.cache/torch/hub/checkpoints")
        );
        assert_eq!(r.virnucpro, some("/home/u/.cache/virnucpro"));
    }

    #[test]
    fn xdg_cache_home_moves_all_three_like_a_chosen_folder() {
        let r = parts(&[("HOME", "/home/u"), ("XDG_CACHE_HOME", "/c")]);
        let chosen = CacheRoots::in_folder(Path::new("/c"));
        assert_eq!(r.hf_hub.as_ref(), Some(&chosen.hf_hub));
        assert_eq!(
            r.torch_checkpoints.as_ref(),
            Some(&chosen.torch_checkpoints)
        );
        assert_eq!(r.virnucpro.as_ref(), Some(&chosen.virnucpro));
    }

    #[test]
    fn hf_variables_take_precedence_in_huggingface_hub_order() {
        let all = [
            ("HOME", "/home/u"),
            ("HF_HOME", "/hf"),
            ("HUGGINGFACE_HUB_CACHE", "/legacy"),
            ("HF_HUB_CACHE", "/hub"),
        ];
        assert_eq!(parts(&all).hf_hub, some("/hub"));
        assert_eq!(parts(&all[..3]).hf_hub, some("/legacy"));
        assert_eq!(parts(&all[..2]).hf_hub, some("/hf/hub"));
        let empty_is_unset = parts(&[
            ("HOME", "/home/u"),
            ("HF_HUB_CACHE", ""),
            ("HF_HOME", "/hf"),
        ]);
        assert_eq!(empty_is_unset.hf_hub, some("/hf/hub"));
    }

    #[test]
    fn torch_home_virnucpro_cache_and_tilde() {
        let r = parts(&[
            ("HOME", "/home/u"),
            ("TORCH_HOME", "~/t"),
            ("VIRNUCPRO_CACHE", "~/v"),
        ]);
        assert_eq!(r.torch_checkpoints, some("/home/u/t/hub/checkpoints"));
        assert_eq!(r.virnucpro, some("/home/u/v"));
    }

    #[test]
    fn without_home_only_explicit_variables_count() {
        assert_eq!(parts(&[]), RootParts::default());
        assert_eq!(CacheRoots::from_vars(|_| None), None);
        let r = parts(&[("TORCH_HOME", "/t")]);
        assert_eq!(r.torch_checkpoints, some("/t/hub/checkpoints"));
        assert_eq!(r.hf_hub, None);
    }
}
