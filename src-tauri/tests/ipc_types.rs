//! The UI's IPC types (`ui/src/api/generated/`) are generated from the Rust types that
//! cross the IPC (ts-rs, respecting their serde attributes); this test fails when the
//! committed files differ from what the Rust types generate now.
//!
//! Regenerate them with `make ipc-types` (that is, this test with
//! `VIRNUCPRO_WRITE_IPC_TYPES=1`), then commit `ui/src/api/generated/`.
use std::any::TypeId;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use ts_rs::{Config, TypeVisitor, TS};
use virnucpro_desktop::api;
use virnucpro_desktop::error::CommandError;

/// Set to write the generated files instead of comparing them.
const WRITE_VAR: &str = "VIRNUCPRO_WRITE_IPC_TYPES";
const REGENERATE: &str =
    "make ipc-types (VIRNUCPRO_WRITE_IPC_TYPES=1 cargo test -p virnucpro-desktop --test ipc_types)";

fn generated_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/api/generated")
}

/// ts-rs's settings: `u64` is a JSON number (serde_json writes it as one).
fn config() -> Config {
    Config::new().with_large_int("number")
}

/// Every exportable type reachable from the roots, by file name, with its text.
#[derive(Default)]
struct Files {
    seen: HashSet<TypeId>,
    files: BTreeMap<PathBuf, (String, &'static str)>,
}

impl Files {
    fn add<T: TS + 'static + ?Sized>(&mut self) {
        let Some(path) = T::output_path() else {
            return; // a primitive or a container: its parts are visited instead
        };
        if !self.seen.insert(TypeId::of::<T>()) {
            return;
        }
        let cfg = config();
        let text = T::export_to_string(&cfg)
            .unwrap_or_else(|e| panic!("{}: {e}", std::any::type_name::<T>()));
        let rust = std::any::type_name::<T>();
        if let Some((_, other)) = self.files.insert(path.clone(), (text, rust)) {
            panic!(
                "{rust} and {other} both generate {}: give one a #[ts(rename = ..)]",
                path.display()
            );
        }
        T::visit_dependencies(self);
    }
}

impl TypeVisitor for Files {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        self.add::<T>();
    }
}

/// The types the commands take and return and the events their Channels carry
/// (docs/desktop-api.md); what they contain comes with them.
fn generate() -> BTreeMap<PathBuf, String> {
    let mut files = Files::default();
    files.add::<api::SystemInfo>();
    files.add::<api::RunSettings>();
    files.add::<api::InputScan>();
    files.add::<api::SettingsCheck>();
    files.add::<api::ModelCheck>();
    files.add::<api::Preset>();
    files.add::<api::ListedPreset>();
    files.add::<api::ResumeInfo>();
    files.add::<api::FailureGroup>();
    files.add::<api::SetAside>();
    files.add::<api::Results>();
    files.add::<api::RunResult>();
    files.add::<api::SamplesTable>();
    files.add::<api::Comparison>();
    files.add::<api::FrameRow>();
    files.add::<api::ShellEvent>();
    files.add::<api::ModelList>();
    files.add::<virnucpro_models::FileState>();
    files.add::<api::InstalledModels>();
    files.add::<api::ImportReport>();
    files.add::<api::FetchEvent>();
    files.add::<api::GpuRuntimeStatus>();
    files.add::<virnucpro_core::events::RunSummary>();
    files.add::<virnucpro_desktop::commands::FileFilter>();
    files.add::<CommandError>();
    files
        .files
        .into_iter()
        .map(|(path, (text, _))| (path, text))
        .collect()
}

fn committed(dir: &Path) -> BTreeMap<PathBuf, String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .map(|entry| entry.expect("list ui/src/api/generated").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "ts"))
        .map(|path| {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (PathBuf::from(path.file_name().expect("a file name")), text)
        })
        .collect()
}

fn write(dir: &Path, files: &BTreeMap<PathBuf, String>) {
    for old in committed(dir).keys() {
        std::fs::remove_file(dir.join(old)).expect("remove an old generated file");
    }
    std::fs::create_dir_all(dir).expect("create ui/src/api/generated");
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("write a generated file");
    }
}

/// What differs between the generated and the committed files, one line per file.
fn differences(
    generated: &BTreeMap<PathBuf, String>,
    committed: &BTreeMap<PathBuf, String>,
) -> Vec<String> {
    let names: BTreeSet<&PathBuf> = generated.keys().chain(committed.keys()).collect();
    names
        .into_iter()
        .filter_map(|name| {
            let shown = name.display();
            match (generated.get(name), committed.get(name)) {
                (Some(_), None) => Some(format!("{shown}: generated, missing from the folder")),
                (None, Some(_)) => Some(format!("{shown}: in the folder, no Rust type makes it")),
                (Some(new), Some(old)) if new != old => {
                    let line = new
                        .lines()
                        .zip(old.lines())
                        .position(|(a, b)| a != b)
                        .unwrap_or_else(|| new.lines().count().min(old.lines().count()));
                    Some(format!("{shown}: differs from line {}", line + 1))
                }
                _ => None,
            }
        })
        .collect()
}

#[test]
fn the_ui_ipc_types_are_the_generated_ones() {
    let dir = generated_dir();
    let generated = generate();
    if std::env::var_os(WRITE_VAR).is_some() {
        write(&dir, &generated);
        eprintln!("wrote {} files to {}", generated.len(), dir.display());
        return;
    }
    let drift = differences(&generated, &committed(&dir));
    assert!(
        drift.is_empty(),
        "ui/src/api/generated/ is out of date with the Rust IPC types:\n  {}\nregenerate it with: {REGENERATE}",
        drift.join("\n  ")
    );
}

#[test]
fn drift_is_reported_by_file() {
    let a = BTreeMap::from([
        (PathBuf::from("A.ts"), "x\ny\n".to_owned()),
        (PathBuf::from("B.ts"), "b\n".to_owned()),
    ]);
    let mut b = a.clone();
    assert!(differences(&a, &b).is_empty());
    b.insert(PathBuf::from("A.ts"), "x\nz\n".to_owned());
    b.remove(&PathBuf::from("B.ts"));
    b.insert(PathBuf::from("C.ts"), "c\n".to_owned());
    assert_eq!(
        differences(&a, &b),
        [
            "A.ts: differs from line 2",
            "B.ts: generated, missing from the folder",
            "C.ts: in the folder, no Rust type makes it",
        ]
    );
}
