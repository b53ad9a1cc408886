//! `virnucpro devices`: what the models could run on here.
use std::process::ExitCode;

use virnucpro_engine::backend::{Backend, CudaBackend};
use virnucpro_engine::devices::{list_devices, DeviceInfo};

use crate::{exit, units};

#[derive(clap::Args)]
pub struct DevicesArgs {
    /// Print the backend and devices as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &DevicesArgs) -> anyhow::Result<ExitCode> {
    let backend = Backend::detect();
    let devices = list_devices(backend);
    if args.json {
        let json = serde_json::json!({
            "backend": backend_json(backend),
            "devices": devices,
        });
        virnucpro_cli::outln!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        virnucpro_cli::outln!("backend: {}", backend.describe());
        if let Some(why) = backend.cuda.why_not() {
            virnucpro_cli::outln!("why not CUDA: {why}");
        }
        virnucpro_cli::outln!();
        print_table(&devices);
    }
    Ok(ExitCode::from(exit::OK))
}

fn backend_json(backend: &Backend) -> serde_json::Value {
    let (cuda, reason) = match &backend.cuda {
        CudaBackend::Loaded { .. } => ("loaded", None),
        CudaBackend::NoDevice => ("no-device", None),
        CudaBackend::Unavailable { reason } => ("unavailable", Some(reason.as_str())),
    };
    serde_json::json!({
        "libtorch": backend.libtorch_version,
        "cuda": cuda,
        "cuda_devices": virnucpro_engine::devices::cuda_device_count(backend),
        "cuda_unavailable_reason": reason,
        "why_not_cuda": backend.cuda.why_not(),
        "description": backend.describe(),
    })
}

fn print_table(devices: &[DeviceInfo]) {
    let unknown = || "-".to_string();
    let rows: Vec<[String; 6]> = devices
        .iter()
        .map(|d| {
            [
                d.id.to_string(),
                d.name.clone(),
                d.total_memory.map_or_else(unknown, units::bytes),
                d.free_memory.map_or_else(unknown, units::bytes),
                d.utilization_percent
                    .map_or_else(unknown, |p| format!("{p}%")),
                if d.slow { "slow" } else { "" }.to_string(),
            ]
        })
        .collect();
    let header = ["ID", "NAME", "MEMORY", "FREE", "BUSY", ""].map(String::from);
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String; 6]| {
        cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect::<Vec<_>>()
            .join("  ")
    };
    virnucpro_cli::outln!("{}", line(&header).trim_end());
    for row in &rows {
        virnucpro_cli::outln!("{}", line(row).trim_end());
    }
    if devices.iter().all(|d| d.slow) {
        virnucpro_cli::outln!();
        virnucpro_cli::outln!(
            "No GPU: embedding would run on the CPU, which is slow for ESM-2 3B."
        );
    }
}
