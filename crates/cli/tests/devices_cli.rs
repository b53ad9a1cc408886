//! `virnucpro devices` with the real backend: on a machine without a GPU, the CPU alone.
use assert_cmd::Command;
use predicates::prelude::*;

fn devices() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_virnucpro"));
    cmd.arg("devices").env_remove("RUST_LOG");
    cmd
}

#[test]
fn json_has_the_backend_and_the_cpu_first() {
    let output = devices().arg("--json").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

    let backend = &json["backend"];
    assert!(backend["libtorch"].as_str().unwrap().starts_with("2.13."));
    assert!(["loaded", "no-device", "unavailable"].contains(&backend["cuda"].as_str().unwrap()));
    let cuda = backend["cuda_devices"].as_u64().unwrap();

    let listed = json["devices"].as_array().unwrap();
    assert_eq!(listed.len() as u64, 1 + cuda);
    let cpu = &listed[0];
    assert_eq!(cpu["id"], "cpu");
    assert_eq!(cpu["slow"], true);
    assert!(!cpu["name"].as_str().unwrap().is_empty());
    assert!(cpu["total_memory"].as_u64().is_some_and(|b| b > 0));
    assert_eq!(cpu["utilization_percent"], serde_json::Value::Null);
    for (i, gpu) in listed.iter().skip(1).enumerate() {
        assert_eq!(gpu["id"], format!("cuda:{i}"));
        assert_eq!(gpu["slow"], false);
    }
}

#[test]
fn the_table_names_the_backend_and_marks_the_cpu_slow() {
    devices()
        .assert()
        .success()
        .stdout(predicate::str::starts_with("backend: libtorch 2.13."))
        .stdout(predicate::str::contains("ID"))
        .stdout(predicate::str::is_match(r"(?m)^cpu +.+ slow$").unwrap());
}
