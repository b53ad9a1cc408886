//! The devices the models can run on: the CPU always, plus the CUDA devices libtorch sees.
//!
//! Names, memory and load of GPUs come from NVML (tch has no memory statistics, see
//! ../shared/docs/libtorch.md); without NVML a GPU is still listed, with unknown details.
use std::fmt;

use serde::{Serialize, Serializer};

use crate::backend::{Backend, CudaBackend};

mod cpu;
mod nvml;
mod spec;

pub use nvml::driver_versions;
pub use spec::{parse_devices, parse_devices_for, DeviceChoice, DeviceSpecError};

/// One device a model can run on, named as users write it: `cpu` or `cuda:N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(type = "string"))]
pub enum DeviceId {
    Cpu,
    /// A CUDA device by libtorch's index (after `CUDA_VISIBLE_DEVICES`).
    Cuda(usize),
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceId::Cpu => f.write_str("cpu"),
            DeviceId::Cuda(index) => write!(f, "cuda:{index}"),
        }
    }
}

// As the string users type (`"cuda:0"`), so that JSON output can be fed back to `--devices`.
impl Serialize for DeviceId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl From<DeviceId> for tch::Device {
    fn from(id: DeviceId) -> Self {
        match id {
            DeviceId::Cpu => tch::Device::Cpu,
            DeviceId::Cuda(index) => tch::Device::Cuda(index),
        }
    }
}

impl TryFrom<tch::Device> for DeviceId {
    type Error = DeviceSpecError;

    fn try_from(device: tch::Device) -> Result<Self, Self::Error> {
        match device {
            tch::Device::Cpu => Ok(DeviceId::Cpu),
            tch::Device::Cuda(index) => Ok(DeviceId::Cuda(index)),
            other => Err(DeviceSpecError::Unsupported {
                device: format!("{other:?}"),
            }),
        }
    }
}

/// What a device picker shows about one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeviceInfo {
    pub id: DeviceId,
    /// The CPU model and thread count, or the GPU name (`CUDA device N` without NVML).
    pub name: String,
    /// Bytes: installed RAM for the CPU, GPU memory for a GPU; `None` when unknown.
    pub total_memory: Option<u64>,
    /// Bytes available now (`MemAvailable` for the CPU); `None` when unknown.
    pub free_memory: Option<u64>,
    /// GPU busy time over the last sample period; `None` for the CPU or without NVML.
    pub utilization_percent: Option<u32>,
    /// The CPU: it works, but ESM-2 3B on it is far slower than on any GPU.
    pub slow: bool,
}

/// The threads libtorch runs a model on the CPU with, for the rest of this process
/// (`virnucpro embed --torch-threads`); the count is checked by `core::threads` first.
pub fn set_cpu_threads(threads: usize) {
    tch::set_num_threads(i32::try_from(threads).unwrap_or(i32::MAX));
}

/// CUDA devices libtorch can use: 0 unless the CUDA backend loaded and sees a device.
pub fn cuda_device_count(backend: &Backend) -> usize {
    match backend.cuda {
        CudaBackend::Loaded { devices } => devices,
        CudaBackend::NoDevice | CudaBackend::Unavailable { .. } => 0,
    }
}

/// The CPU first, then every CUDA device of the backend. Never fails: what cannot be
/// found out (no NVML, no /proc) is left `None`.
pub fn list_devices(backend: &Backend) -> Vec<DeviceInfo> {
    let mut devices = vec![cpu::cpu_device()];
    let cuda = cuda_device_count(backend);
    if cuda > 0 {
        devices.extend(nvml::cuda_devices(cuda));
    }
    devices
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_ids_convert_to_and_from_tch() {
        for id in [DeviceId::Cpu, DeviceId::Cuda(0), DeviceId::Cuda(3)] {
            let device: tch::Device = id.into();
            assert_eq!(DeviceId::try_from(device), Ok(id));
        }
        assert_eq!(tch::Device::from(DeviceId::Cuda(1)), tch::Device::Cuda(1));
        assert!(matches!(
            DeviceId::try_from(tch::Device::Mps),
            Err(DeviceSpecError::Unsupported { .. })
        ));
    }

    #[test]
    fn device_ids_print_and_serialize_as_users_write_them() {
        assert_eq!(DeviceId::Cpu.to_string(), "cpu");
        assert_eq!(DeviceId::Cuda(2).to_string(), "cuda:2");
        let json = serde_json::to_string(&[DeviceId::Cpu, DeviceId::Cuda(1)]).unwrap();
        assert_eq!(json, r#"["cpu","cuda:1"]"#);
    }

    #[test]
    fn a_cpu_only_backend_lists_just_the_cpu() {
        let backend = Backend {
            libtorch_version: crate::backend::LIBTORCH_VERSION,
            cuda: CudaBackend::Unavailable {
                reason: "test".into(),
            },
        };
        let devices = list_devices(&backend);
        assert_eq!(devices.len(), 1);
        let cpu = &devices[0];
        assert_eq!(cpu.id, DeviceId::Cpu);
        assert!(cpu.slow);
        assert!(!cpu.name.is_empty());
        assert_eq!(cpu.utilization_percent, None);
        if cfg!(target_os = "linux") {
            let total = cpu.total_memory.expect("MemTotal from /proc/meminfo");
            assert!(total > 0);
            assert!(cpu.free_memory.is_some_and(|free| free <= total));
        }
    }

    #[test]
    fn the_detected_backend_lists_the_cpu_first() {
        let devices = list_devices(Backend::detect());
        assert_eq!(devices[0].id, DeviceId::Cpu);
        assert_eq!(devices.len(), 1 + cuda_device_count(Backend::detect()));
    }

    #[test]
    fn a_device_info_serializes_with_every_field() {
        let info = DeviceInfo {
            id: DeviceId::Cuda(0),
            name: "NVIDIA H200".into(),
            total_memory: Some(150_000_000_000),
            free_memory: None,
            utilization_percent: Some(7),
            slow: false,
        };
        let json: serde_json::Value = serde_json::to_value(&info).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "id": "cuda:0", "name": "NVIDIA H200", "total_memory": 150_000_000_000u64,
                "free_memory": null, "utilization_percent": 7, "slow": false
            })
        );
    }
}
