//! `--devices` values: `cpu`, `auto`, `0`, `0,1`, `cuda:0,cuda:1`.
use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use thiserror::Error;

use super::{cuda_device_count, DeviceId};
use crate::backend::Backend;

const FORMS: &str = "use cpu, auto, a CUDA index such as 0, cuda:N, or a list such as 0,1";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum DeviceSpecError {
    #[error("no device given: {FORMS}")]
    Empty,
    #[error("'{spec}' has an empty entry: {FORMS}")]
    EmptyEntry { spec: String },
    #[error("'{item}' is not a device: {FORMS}")]
    Invalid { item: String },
    #[error("'auto' stands alone; it cannot be part of a list")]
    AutoInList,
    #[error("{device} is named more than once")]
    Duplicate { device: DeviceId },
    #[error("{device} does not exist: {}", available_text(*available))]
    NoSuchDevice { device: DeviceId, available: usize },
    #[error("{device} is not a device VirNucPro can run on (only cpu and cuda:N)")]
    Unsupported { device: String },
}

fn available_text(available: usize) -> String {
    match available {
        0 => "no CUDA device is available here".to_string(),
        1 => "this machine has 1 CUDA device (cuda:0)".to_string(),
        n => format!(
            "this machine has {n} CUDA devices (cuda:0 to cuda:{})",
            n - 1
        ),
    }
}

/// One entry: `cpu`, `N` or `cuda:N` (any case). Whether it exists is not checked here.
impl FromStr for DeviceId {
    type Err = DeviceSpecError;

    fn from_str(item: &str) -> Result<Self, Self::Err> {
        let invalid = || DeviceSpecError::Invalid {
            item: item.to_string(),
        };
        let lower = item.trim().to_ascii_lowercase();
        if lower == "cpu" {
            return Ok(DeviceId::Cpu);
        }
        let digits = lower.strip_prefix("cuda:").unwrap_or(&lower);
        // `usize::from_str` also takes "+1"; only plain digits are an index.
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        digits.parse().map(DeviceId::Cuda).map_err(|_| invalid())
    }
}

/// The devices a run or `embed` is asked to use: `--devices` parsed once, at the edge (the
/// command line's argument parser, the desktop's device list), and resolved against this
/// machine's CUDA devices when the work is set up ([`DeviceChoice::resolve`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DeviceChoice {
    /// Every CUDA device, else the CPU.
    Auto,
    /// These devices in this order, each named once (never empty).
    List(Vec<DeviceId>),
}

impl DeviceChoice {
    /// These devices, checked for what the syntax rules (not empty, each named once).
    pub fn list(devices: Vec<DeviceId>) -> Result<Self, DeviceSpecError> {
        if devices.is_empty() {
            return Err(DeviceSpecError::Empty);
        }
        let mut seen = HashSet::new();
        if let Some(&device) = devices.iter().find(|d| !seen.insert(**d)) {
            return Err(DeviceSpecError::Duplicate { device });
        }
        Ok(Self::List(devices))
    }

    /// The devices, checked against the CUDA devices of this process's backend.
    pub fn resolve(&self) -> Result<Vec<DeviceId>, DeviceSpecError> {
        self.resolve_for(cuda_device_count(Backend::detect()))
    }

    /// The devices on a machine with `cuda_available` CUDA devices: `auto` is all of them
    /// (the CPU when there are none); each CUDA device named must exist.
    pub fn resolve_for(&self, cuda_available: usize) -> Result<Vec<DeviceId>, DeviceSpecError> {
        match self {
            Self::Auto => Ok(match cuda_available {
                0 => vec![DeviceId::Cpu],
                n => (0..n).map(DeviceId::Cuda).collect(),
            }),
            Self::List(devices) => {
                let missing = devices
                    .iter()
                    .find(|d| matches!(d, DeviceId::Cuda(i) if *i >= cuda_available));
                match missing {
                    Some(&device) => Err(DeviceSpecError::NoSuchDevice {
                        device,
                        available: cuda_available,
                    }),
                    None => Ok(devices.clone()),
                }
            }
        }
    }
}

/// `auto`, or the list as `--devices` takes it (`cpu`, `cuda:0,cuda:1`).
impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto => f.write_str("auto"),
            Self::List(devices) => {
                for (i, device) in devices.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{device}")?;
                }
                Ok(())
            }
        }
    }
}

/// As the string users type, so that it can be fed back to `--devices`.
impl Serialize for DeviceChoice {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The `--devices` syntax: `cpu`, `auto`, `0`, `cuda:1`, `0,1` (any case, spaces allowed).
/// Whether the CUDA devices exist is checked by [`DeviceChoice::resolve`].
impl FromStr for DeviceChoice {
    type Err = DeviceSpecError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Err(DeviceSpecError::Empty);
        }
        if spec.eq_ignore_ascii_case("auto") {
            return Ok(Self::Auto);
        }
        let mut seen = HashSet::new();
        let mut devices = Vec::new();
        for item in spec.split(',').map(str::trim) {
            if item.is_empty() {
                return Err(DeviceSpecError::EmptyEntry {
                    spec: spec.to_string(),
                });
            }
            if item.eq_ignore_ascii_case("auto") {
                return Err(DeviceSpecError::AutoInList);
            }
            let device: DeviceId = item.parse()?;
            if !seen.insert(device) {
                return Err(DeviceSpecError::Duplicate { device });
            }
            devices.push(device);
        }
        Ok(Self::List(devices))
    }
}

/// The devices of `spec`, checked against the CUDA devices of this process's backend.
pub fn parse_devices(spec: &str) -> Result<Vec<DeviceId>, DeviceSpecError> {
    parse_devices_for(spec, cuda_device_count(Backend::detect()))
}

/// The devices of `spec` on a machine with `cuda_available` CUDA devices: `auto` is all of
/// them (the CPU when there are none); each device may be named once and must exist.
pub fn parse_devices_for(
    spec: &str,
    cuda_available: usize,
) -> Result<Vec<DeviceId>, DeviceSpecError> {
    spec.parse::<DeviceChoice>()?.resolve_for(cuda_available)
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeviceId::{Cpu, Cuda};

    #[test]
    fn single_devices_and_lists_parse() {
        assert_eq!(parse_devices_for("cpu", 0), Ok(vec![Cpu]));
        assert_eq!(parse_devices_for(" CPU ", 2), Ok(vec![Cpu]));
        assert_eq!(parse_devices_for("0", 1), Ok(vec![Cuda(0)]));
        assert_eq!(parse_devices_for("0,1", 2), Ok(vec![Cuda(0), Cuda(1)]));
        assert_eq!(
            parse_devices_for("cuda:1, cuda:0", 2),
            Ok(vec![Cuda(1), Cuda(0)])
        );
        assert_eq!(parse_devices_for("CUDA:3", 4), Ok(vec![Cuda(3)]));
        assert_eq!(parse_devices_for("cpu,0", 1), Ok(vec![Cpu, Cuda(0)]));
    }

    #[test]
    fn auto_is_every_gpu_else_the_cpu() {
        assert_eq!(parse_devices_for("auto", 0), Ok(vec![Cpu]));
        assert_eq!(parse_devices_for("auto", 1), Ok(vec![Cuda(0)]));
        assert_eq!(
            parse_devices_for("AUTO", 3),
            Ok(vec![Cuda(0), Cuda(1), Cuda(2)])
        );
        assert_eq!(
            parse_devices_for("auto,0", 2),
            Err(DeviceSpecError::AutoInList)
        );
    }

    #[test]
    fn duplicates_are_refused_in_any_spelling() {
        assert_eq!(
            parse_devices_for("0,cuda:0", 2),
            Err(DeviceSpecError::Duplicate { device: Cuda(0) })
        );
        assert_eq!(
            parse_devices_for("cpu,CPU", 0),
            Err(DeviceSpecError::Duplicate { device: Cpu })
        );
    }

    #[test]
    fn missing_cuda_devices_are_named_with_what_exists() {
        let err = parse_devices_for("0", 0).unwrap_err();
        assert_eq!(
            err,
            DeviceSpecError::NoSuchDevice {
                device: Cuda(0),
                available: 0
            }
        );
        assert_eq!(
            err.to_string(),
            "cuda:0 does not exist: no CUDA device is available here"
        );
        let err = parse_devices_for("0,2", 2).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cuda:2 does not exist: this machine has 2 CUDA devices (cuda:0 to cuda:1)"
        );
        assert!(parse_devices_for("cuda:1", 1)
            .unwrap_err()
            .to_string()
            .contains("1 CUDA device (cuda:0)"));
    }

    #[test]
    fn malformed_specs_are_refused() {
        assert_eq!(parse_devices_for("", 1), Err(DeviceSpecError::Empty));
        assert_eq!(parse_devices_for("  ", 1), Err(DeviceSpecError::Empty));
        for bad in [
            "gpu",
            "cuda",
            "cuda:",
            "-1",
            "+1",
            "1.0",
            "cuda:x",
            "cuda0",
            "99999999999999999999999",
        ] {
            assert_eq!(
                parse_devices_for(bad, 8),
                Err(DeviceSpecError::Invalid {
                    item: bad.to_string()
                }),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_devices_for("0,,1", 2),
            Err(DeviceSpecError::EmptyEntry { .. })
        ));
        assert!(matches!(
            parse_devices_for("0,", 2),
            Err(DeviceSpecError::EmptyEntry { .. })
        ));
    }

    #[test]
    fn a_choice_is_parsed_once_and_resolved_on_this_machine() {
        let choice: DeviceChoice = " cuda:1, CPU ".parse().unwrap();
        assert_eq!(choice, DeviceChoice::List(vec![Cuda(1), Cpu]));
        assert_eq!(choice.to_string(), "cuda:1,cpu");
        assert_eq!(serde_json::to_string(&choice).unwrap(), r#""cuda:1,cpu""#);
        assert_eq!(choice.resolve_for(2), Ok(vec![Cuda(1), Cpu]));
        assert_eq!(
            choice.resolve_for(1),
            Err(DeviceSpecError::NoSuchDevice {
                device: Cuda(1),
                available: 1
            })
        );
        let auto: DeviceChoice = "Auto".parse().unwrap();
        assert_eq!(auto, DeviceChoice::Auto);
        assert_eq!(auto.to_string(), "auto");
        assert_eq!(auto.resolve_for(2), Ok(vec![Cuda(0), Cuda(1)]));
        // Every list the desktop builds goes through the same rules.
        assert_eq!(DeviceChoice::list(vec![]), Err(DeviceSpecError::Empty));
        assert_eq!(
            DeviceChoice::list(vec![Cuda(0), Cuda(0)]),
            Err(DeviceSpecError::Duplicate { device: Cuda(0) })
        );
        assert_eq!(
            DeviceChoice::list(vec![Cpu]),
            Ok(DeviceChoice::List(vec![Cpu]))
        );
    }

    #[test]
    fn the_process_backend_accepts_cpu_and_auto() {
        assert_eq!(parse_devices("cpu"), Ok(vec![Cpu]));
        let auto = parse_devices("auto").unwrap();
        assert!(!auto.is_empty());
    }
}
