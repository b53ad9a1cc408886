//! Is the NVIDIA driver new enough for the runtime's CUDA? The version comes from NVML
//! (the engine asks it); the decision is here, where it can be tested with any value.
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum DriverCheck {
    /// New enough.
    Ok { found: String, required: u32 },
    /// Too old: CUDA would fail to start on every GPU.
    TooOld { found: String, required: u32 },
    /// No NVIDIA driver (or NVML) here: the runtime loads, but no GPU can be used until
    /// a driver is installed.
    NoDriver { required: u32 },
    /// A version string NVML gave that does not start with a number.
    Unreadable { found: String, required: u32 },
}

impl DriverCheck {
    /// Whether to refuse downloading the runtime.
    pub fn blocks_install(&self) -> bool {
        matches!(self, DriverCheck::TooOld { .. })
    }

    pub fn message(&self, cuda: &str) -> String {
        match self {
            DriverCheck::Ok { found, .. } => format!("NVIDIA driver {found}: new enough for CUDA {cuda}"),
            DriverCheck::TooOld { found, required } => format!(
                "NVIDIA driver {found} is too old for CUDA {cuda}, which needs driver {required} or newer: \
                 update the driver first"
            ),
            DriverCheck::NoDriver { required } => format!(
                "no NVIDIA driver found: the GPU runtime can be installed, but CUDA {cuda} needs driver \
                 {required} or newer to use a GPU"
            ),
            DriverCheck::Unreadable { found, required } => format!(
                "cannot read the NVIDIA driver version {found:?}; CUDA {cuda} needs driver {required} or newer"
            ),
        }
    }
}

/// Compare a driver version (`"580.65.06"`) with the oldest major version `required`.
pub fn check_driver(found: Option<&str>, required: u32) -> DriverCheck {
    let Some(found) = found.map(str::trim) else {
        return DriverCheck::NoDriver { required };
    };
    let major = found.split('.').next().and_then(|m| m.parse::<u32>().ok());
    let found = found.to_string();
    match major {
        Some(major) if major >= required => DriverCheck::Ok { found, required },
        Some(_) => DriverCheck::TooOld { found, required },
        None => DriverCheck::Unreadable { found, required },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_versions_around_the_boundary() {
        assert!(matches!(
            check_driver(Some("580.65.06"), 580),
            DriverCheck::Ok { .. }
        ));
        assert!(matches!(
            check_driver(Some("590.1"), 580),
            DriverCheck::Ok { .. }
        ));
        let old = check_driver(Some("575.57.08"), 580);
        assert!(old.blocks_install());
        let message = old.message("13.0");
        assert!(
            message.contains("575.57.08") && message.contains("580") && message.contains("13.0"),
            "{message}"
        );
        assert!(matches!(
            check_driver(Some("99"), 580),
            DriverCheck::TooOld { .. }
        ));
        assert_eq!(
            check_driver(None, 580),
            DriverCheck::NoDriver { required: 580 }
        );
        assert!(!check_driver(None, 580).blocks_install());
        assert!(matches!(
            check_driver(Some("beta"), 580),
            DriverCheck::Unreadable { .. }
        ));
    }
}
