//! The CPU entry: model name and RAM from /proc (Linux), threads from the scheduler.
use super::{DeviceId, DeviceInfo};

pub(super) fn cpu_device() -> DeviceInfo {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| model_name(&text))
        .unwrap_or_else(|| "CPU".to_string());
    // available_parallelism honours affinity masks and cgroup quotas, unlike the core count
    // in /proc/cpuinfo: it is what a job on a shared cluster node may really use.
    let name = match std::thread::available_parallelism() {
        Ok(threads) => format!("{model} ({threads} threads)"),
        Err(_) => model,
    };
    let memory = std::fs::read_to_string("/proc/meminfo")
        .map(|text| Meminfo::parse(&text))
        .unwrap_or_default();
    DeviceInfo {
        id: DeviceId::Cpu,
        name,
        total_memory: memory.total,
        free_memory: memory.available,
        utilization_percent: None,
        slow: true,
    }
}

/// The first `model name` of /proc/cpuinfo (x86); ARM kernels may have none.
fn model_name(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        let value = value.trim();
        (key.trim() == "model name" && !value.is_empty()).then(|| value.to_string())
    })
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Meminfo {
    total: Option<u64>,
    available: Option<u64>,
}

impl Meminfo {
    /// `MemTotal` and `MemAvailable` in bytes (/proc/meminfo says `kB`, meaning KiB).
    fn parse(text: &str) -> Meminfo {
        let field = |name: &str| {
            text.lines().find_map(|line| {
                let rest = line.strip_prefix(name)?.strip_prefix(':')?;
                let kib: u64 = rest.trim().strip_suffix("kB")?.trim().parse().ok()?;
                kib.checked_mul(1024)
            })
        };
        Meminfo {
            total: field("MemTotal"),
            available: field("MemAvailable"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_name_comes_from_the_first_processor() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n\nprocessor\t: 1\nmodel name\t: other\n";
        assert_eq!(
            model_name(cpuinfo).as_deref(),
            Some("Intel(R) Xeon(R) CPU @ 2.20GHz")
        );
        assert_eq!(model_name("processor\t: 0\nBogoMIPS\t: 50.00\n"), None);
        assert_eq!(model_name("model name\t:\n"), None);
    }

    #[test]
    fn meminfo_is_read_in_bytes() {
        let text = "MemTotal:       16310312 kB\nMemFree:         1000000 kB\nMemAvailable:   12000000 kB\n";
        assert_eq!(
            Meminfo::parse(text),
            Meminfo {
                total: Some(16_310_312 * 1024),
                available: Some(12_000_000 * 1024),
            }
        );
        // Old kernels have no MemAvailable; garbage is unknown, not zero.
        assert_eq!(
            Meminfo::parse("MemTotal: 10 kB\nMemAvailable: lots kB\n"),
            Meminfo {
                total: Some(10_240),
                available: None,
            }
        );
    }
}
