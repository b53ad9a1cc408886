//! What this machine offers a run: cores, the devices, the libtorch build.
use virnucpro_engine::devices::list_devices;
use virnucpro_engine::{Backend, CudaBackend};

use crate::api::SystemInfo;

pub fn system_info() -> SystemInfo {
    let backend = Backend::detect();
    SystemInfo {
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        // The library loaded, whether or not it sees a device.
        cuda_loaded: !matches!(backend.cuda, CudaBackend::Unavailable { .. }),
        devices: list_devices(backend),
        app_version: env!("CARGO_PKG_VERSION").to_owned(),
        libtorch_version: backend.libtorch_version.to_owned(),
        why_not_cuda: backend.cuda.why_not(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_is_always_offered() {
        let info = system_info();
        assert!(info.cores >= 1);
        assert_eq!(info.devices[0].id.to_string(), "cpu");
        assert!(info.libtorch_version.starts_with("2."));
        let json = serde_json::to_value(&info).unwrap();
        assert_eq!(json["devices"][0]["id"], "cpu");
    }
}
