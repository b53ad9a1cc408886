//! GPU names, memory and load from NVML, matched to libtorch's CUDA indexes.
//!
//! NVML numbers GPUs by PCI bus order and ignores `CUDA_VISIBLE_DEVICES`; CUDA numbers them
//! after that variable (and, by default, fastest first). Matching by index would show
//! another GPU's memory, so we match by PCI bus ID, and guess only where it cannot differ.
use std::ffi::{c_char, c_int, CStr};

use nvml_wrapper::Nvml;

use super::{DeviceId, DeviceInfo};

/// GPU details known from NVML.
#[derive(Debug, Default)]
struct Details {
    name: Option<String>,
    total: Option<u64>,
    free: Option<u64>,
    utilization: Option<u32>,
}

pub(super) fn cuda_devices(count: usize) -> Vec<DeviceInfo> {
    let nvml = open();
    (0..count)
        .map(|index| {
            let details = nvml
                .as_ref()
                .map(|nvml| details(nvml, index, count))
                .unwrap_or_default();
            DeviceInfo {
                id: DeviceId::Cuda(index),
                name: details
                    .name
                    .unwrap_or_else(|| format!("CUDA device {index}")),
                total_memory: details.total,
                free_memory: details.free,
                utilization_percent: details.utilization,
                slow: false,
            }
        })
        .collect()
}

/// NVML, or `None` where libnvidia-ml.so is missing or the driver refuses: the device list
/// then just lacks details, which is no reason to fail.
fn open() -> Option<Nvml> {
    match Nvml::init() {
        Ok(nvml) => Some(nvml),
        Err(err) => {
            tracing::debug!(%err, "NVML not available; GPU names and memory unknown");
            None
        }
    }
}

fn details(nvml: &Nvml, cuda_index: usize, cuda_count: usize) -> Details {
    let device = match cuda_pci_bus_id(cuda_index) {
        Some(bus_id) => nvml.device_by_pci_bus_id(bus_id.as_str()),
        None if same_numbering(nvml, cuda_count) => match u32::try_from(cuda_index) {
            Ok(index) => nvml.device_by_index(index),
            Err(_) => return Details::default(),
        },
        None => return Details::default(),
    };
    let device = match device {
        Ok(device) => device,
        Err(err) => {
            tracing::debug!(cuda_index, %err, "no NVML device for this CUDA device");
            return Details::default();
        }
    };
    let memory = device.memory_info().ok();
    Details {
        name: device.name().ok(),
        total: memory.as_ref().map(|m| m.total),
        free: memory.as_ref().map(|m| m.free),
        utilization: device.utilization_rates().ok().map(|u| u.gpu),
    }
}

/// The NVIDIA driver, from NVML: `(driver version, highest CUDA version it supports)`,
/// e.g. `("570.86.15", "12.8")`; `None` without NVML (no driver, no GPU).
pub fn driver_versions() -> Option<(Option<String>, Option<String>)> {
    let nvml = open()?;
    let driver = nvml.sys_driver_version().ok();
    let cuda = nvml.sys_cuda_driver_version().ok().map(|v| {
        format!(
            "{}.{}",
            nvml_wrapper::cuda_driver_version_major(v),
            nvml_wrapper::cuda_driver_version_minor(v)
        )
    });
    Some((driver, cuda))
}

/// Whether CUDA index `i` is NVML index `i`: only when no device is hidden from CUDA.
/// (With mixed GPU models CUDA's default fastest-first order could still differ; this is
/// only the fallback for when the PCI bus ID cannot be had.)
fn same_numbering(nvml: &Nvml, cuda_count: usize) -> bool {
    std::env::var_os("CUDA_VISIBLE_DEVICES").is_none()
        && nvml
            .device_count()
            .is_ok_and(|n| usize::try_from(n).is_ok_and(|n| n == cuda_count))
}

/// The PCI bus ID (`0000:3b:00.0`) of a CUDA device, from the CUDA runtime libtorch already
/// loaded; `None` without a runtime or a device.
pub(super) fn cuda_pci_bus_id(cuda_index: usize) -> Option<String> {
    type GetPciBusId = unsafe extern "C" fn(*mut c_char, c_int, c_int) -> c_int;
    let index = c_int::try_from(cuda_index).ok()?;
    // The CUDA docs ask for at least 13 bytes; room to spare.
    let mut buffer: [c_char; 64] = [0; 64];
    let length = c_int::try_from(buffer.len()).ok()?;
    // SAFETY: `this()` looks only at libraries already loaded (libcudart comes with
    // libtorch); the symbol has the documented C signature of cudaDeviceGetPCIBusId, which
    // writes a NUL-terminated string of at most `length` bytes and returns 0 on success.
    unsafe {
        let this = libloading::os::unix::Library::this();
        let get = this.get::<GetPciBusId>(b"cudaDeviceGetPCIBusId\0").ok()?;
        if get(buffer.as_mut_ptr(), length, index) != 0 {
            return None;
        }
        buffer[buffer.len() - 1] = 0;
        CStr::from_ptr(buffer.as_ptr())
            .to_str()
            .ok()
            .map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nvml_without_a_driver_is_just_absent() {
        // On a machine without libnvidia-ml.so this is None; with one, Some: never a panic.
        let _ = open();
    }

    #[test]
    fn no_bus_id_without_a_cuda_device() {
        if tch::Cuda::device_count() == 0 {
            assert_eq!(cuda_pci_bus_id(0), None);
        }
        assert_eq!(cuda_pci_bus_id(usize::MAX), None);
    }

    #[test]
    fn devices_without_nvml_details_are_still_listed() {
        let devices: Vec<DeviceInfo> = (0..2)
            .map(|index| DeviceInfo {
                id: DeviceId::Cuda(index),
                name: format!("CUDA device {index}"),
                total_memory: None,
                free_memory: None,
                utilization_percent: None,
                slow: false,
            })
            .collect();
        if open().is_none() {
            assert_eq!(cuda_devices(2), devices);
        }
    }
}
