//! The address each file is fetched from: the catalogue's, moved to `HF_ENDPOINT` for hub
//! files, or to an institute mirror that serves every file under the same path.
use crate::catalogue::{CatalogueFile, CatalogueSource, Store};

/// `huggingface_hub`'s default endpoint.
pub const HF_DEFAULT_ENDPOINT: &str = "https://huggingface.co";
/// A mirror for every file: `{base}{path of the original URL}`.
pub const BASE_URL_VAR: &str = "VIRNUCPRO_MODEL_BASE_URL";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Where hub files come from (`HF_ENDPOINT`).
    pub hf_endpoint: String,
    /// When set, every file comes from here, at its original URL's path.
    pub base_url: Option<String>,
}

impl Default for Endpoints {
    fn default() -> Self {
        Endpoints {
            hf_endpoint: HF_DEFAULT_ENDPOINT.to_string(),
            base_url: None,
        }
    }
}

impl Endpoints {
    /// `HF_ENDPOINT` and `VIRNUCPRO_MODEL_BASE_URL` from the environment.
    pub fn from_env() -> Endpoints {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Endpoints {
            hf_endpoint: var("HF_ENDPOINT").unwrap_or_else(|| HF_DEFAULT_ENDPOINT.to_string()),
            base_url: var(BASE_URL_VAR),
        }
    }

    /// The URL to fetch `file` from.
    pub fn url(&self, source: &CatalogueSource, file: &CatalogueFile) -> String {
        let original = match (&source.store, &file.url) {
            (_, Some(url)) => url.clone(),
            (Store::HfRepo { repo, revision }, None) => {
                let endpoint = self.hf_endpoint.trim_end_matches('/');
                format!("{endpoint}/{repo}/resolve/{revision}/{}", file.name)
            }
            // `Catalogue::validate` refuses other files without a URL.
            (_, None) => String::new(),
        };
        match &self.base_url {
            Some(base) => format!("{}{}", base.trim_end_matches('/'), url_path(&original)),
            None => original,
        }
    }
}

/// The path (and query) of a URL: what follows `scheme://host[:port]`.
fn url_path(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    after_scheme
        .find('/')
        .map_or("/", |slash| &after_scheme[slash..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Catalogue;

    #[test]
    fn hub_files_follow_hf_endpoint_and_a_mirror_takes_every_path() {
        let catalogue = Catalogue::builtin();
        let dnabert = &catalogue.entry("dnabert-s").unwrap().sources[0];
        let esm = &catalogue.entry("esm2-3b").unwrap().sources[0];
        let plain = Endpoints::default();
        assert_eq!(
            plain.url(dnabert, &dnabert.files[0]),
            "https://huggingface.co/zhihan1996/DNABERT-S/resolve/00e47f96cdea35e4b6f5df89e5419cbe47d490c6/config.json"
        );
        let hf_mirror = Endpoints {
            hf_endpoint: "https://hf-mirror.example/".into(),
            base_url: None,
        };
        assert!(hf_mirror
            .url(dnabert, &dnabert.files[0])
            .starts_with("https://hf-mirror.example/zhihan1996/DNABERT-S/resolve/"));
        assert_eq!(
            hf_mirror.url(esm, &esm.files[0]),
            "https://dl.fbaipublicfiles.com/fair-esm/models/esm2_t36_3B_UR50D.pt"
        );
        let institute = Endpoints {
            base_url: Some("http://127.0.0.1:8000/".into()),
            ..Endpoints::default()
        };
        assert_eq!(
            institute.url(esm, &esm.files[0]),
            "http://127.0.0.1:8000/fair-esm/models/esm2_t36_3B_UR50D.pt"
        );
        assert!(institute
            .url(dnabert, &dnabert.files[0])
            .starts_with("http://127.0.0.1:8000/zhihan1996/DNABERT-S/resolve/"));
    }
}
