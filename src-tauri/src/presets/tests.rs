use std::path::PathBuf;

use tauri_plugin_store::StoreExt;

use super::*;
use crate::api::{PairMode, Precision, SampleSettings};

fn settings(tag: &str) -> RunSettings {
    RunSettings {
        inputs: vec![PathBuf::from(format!("/data/{tag}"))],
        out_dir: PathBuf::from(format!("/runs/{tag}")),
        dnabert: "/m/dnabert".into(),
        esm: "/m/esm.pt".into(),
        classifier: "/m/500_model.pth".into(),
        length: 500,
        devices: vec!["cuda:0".into()],
        threads: Some(4),
        precision: Precision::Bf16,
        batch_tokens: None,
        keep_features: false,
        pairs: PairMode::Auto,
        samples: Vec::new(),
    }
}

fn demo() -> Preset {
    Preset {
        name: DEMO_PRESET.into(),
        settings: settings("demo"),
        updated: "1970-01-01T00:00:00Z".into(),
    }
}

fn names(map: &PresetMap, demo: Option<&Preset>) -> Vec<String> {
    list(map, demo).into_iter().map(|p| p.name).collect()
}

#[test]
fn save_rename_duplicate_delete_and_the_built_in_preset() {
    let mut map = PresetMap::new();
    let demo = demo();
    assert_eq!(names(&map, Some(&demo)), ["Demo"]);
    save(&mut map, "  lab run ", settings("a"), "t1".into()).unwrap();
    let saved = save(&mut map, "Zeta", settings("z"), "t1".into()).unwrap();
    assert_eq!(saved.updated, "t1");
    assert_eq!(names(&map, Some(&demo)), ["Demo", "lab run", "Zeta"]);
    // Saving under a name again overwrites it.
    save(&mut map, "Zeta", settings("z2"), "t2".into()).unwrap();
    assert_eq!(map["Zeta"].settings, settings("z2"));

    let renamed = rename(&mut map, "lab run", "Alpha", "t3".into()).unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.updated.as_str()),
        ("Alpha", "t3")
    );
    assert_eq!(renamed.settings, settings("a"));
    assert_eq!(names(&map, None), ["Alpha", "Zeta"]);
    assert_eq!(
        rename(&mut map, "Alpha", "Zeta", "t".into())
            .unwrap_err()
            .kind,
        ErrorKind::Invalid
    );
    assert_eq!(
        rename(&mut map, "nope", "x", "t".into()).unwrap_err().kind,
        ErrorKind::NotFound
    );
    assert_eq!(
        rename(&mut map, "Demo", "x", "t".into()).unwrap_err().kind,
        ErrorKind::Invalid
    );

    let copy = duplicate(&mut map, Some(&demo), "Demo", "My demo", "t4".into()).unwrap();
    assert_eq!(copy.settings, demo.settings);
    let copy = duplicate(&mut map, Some(&demo), "Zeta", "Zeta 2", "t4".into()).unwrap();
    assert_eq!(copy.settings, settings("z2"));
    assert!(duplicate(&mut map, Some(&demo), "Zeta", "Alpha", "t".into()).is_err());
    assert!(duplicate(&mut map, Some(&demo), "Zeta", "demo", "t".into()).is_err());

    delete(&mut map, "Zeta").unwrap();
    assert_eq!(
        delete(&mut map, "Zeta").unwrap_err().kind,
        ErrorKind::NotFound
    );
    assert_eq!(
        delete(&mut map, "Demo").unwrap_err().kind,
        ErrorKind::Invalid
    );
    assert_eq!(
        names(&map, Some(&demo)),
        ["Alpha", "Demo", "My demo", "Zeta 2"]
    );
    for bad in ["", "   ", "Demo", &"x".repeat(81)] {
        assert!(
            save(&mut map, bad, settings("x"), "t".into()).is_err(),
            "{bad:?}"
        );
    }
}

#[test]
fn export_then_import_gives_the_same_settings_under_a_free_name() {
    let mut map = PresetMap::new();
    let preset = save(&mut map, "Field trip", settings("f"), "t1".into()).unwrap();
    let json = export_json(&preset);
    let source = Path::new("/exports/field.json");
    let imported = import(&mut map, &json, source, "t2".into()).unwrap();
    assert_eq!(imported.name, "Field trip (2)", "the name was taken");
    assert_eq!(imported.settings, preset.settings);
    assert_eq!(imported.updated, "t2");
    let again = import(&mut map, &json, source, "t3".into()).unwrap();
    assert_eq!(again.name, "Field trip (3)");
    let demo_json = export_json(&demo());
    assert_eq!(
        import(&mut map, &demo_json, source, "t".into())
            .unwrap()
            .name,
        "Imported"
    );
    let err = import(&mut map, b"{\"name\": 3}", source, "t".into()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert!(err
        .message
        .starts_with("/exports/field.json: not a VirNucPro preset"));
}

fn app() -> tauri::App<tauri::test::MockRuntime> {
    tauri::test::mock_builder()
        .plugin(tauri_plugin_store::Builder::new().build())
        .build(tauri::test::mock_context(tauri::test::noop_assets()))
        .expect("a mock app")
}

#[test]
fn presets_and_last_settings_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("settings.json");
    {
        let app = app();
        let store = PresetStore::new(app.store(&file).unwrap());
        assert_eq!(store.presets(), PresetMap::new());
        assert_eq!(store.last_settings(), None);
        store
            .update(|map| save(map, "Kept", settings("k"), "t1".into()))
            .unwrap();
        store
            .update(|map| save(map, "Renamed", settings("r"), "t1".into()))
            .unwrap();
        store
            .update(|map| rename(map, "Renamed", "New name", "t2".into()))
            .unwrap();
        // A failed change writes nothing.
        assert!(store.update(|map| delete(map, "nope")).is_err());
        store.remember(&settings("last")).unwrap();
    }
    let app = app();
    let store = PresetStore::new(app.store(&file).unwrap());
    let presets = store.presets();
    assert_eq!(presets.keys().collect::<Vec<_>>(), ["Kept", "New name"]);
    assert_eq!(presets["New name"].settings, settings("r"));
    assert_eq!(presets["New name"].updated, "t2");
    assert_eq!(store.last_settings(), Some(settings("last")));
}

#[test]
fn the_settings_a_run_was_given_are_kept_per_output_folder() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("settings.json");
    {
        let app = app();
        let store = PresetStore::new(app.store(&file).unwrap());
        assert_eq!(store.given_settings(Path::new("/runs/a")), None);
        store.record_given(&settings("a")).unwrap();
        let mut again = settings("a");
        again.batch_tokens = Some(4096);
        store.record_given(&again).unwrap();
        store.record_given(&settings("b")).unwrap();
    }
    let app = app();
    let store = PresetStore::new(app.store(&file).unwrap());
    let mut latest = settings("a");
    latest.batch_tokens = Some(4096);
    assert_eq!(store.given_settings(Path::new("/runs/a")), Some(latest));
    assert_eq!(
        store.given_settings(Path::new("/runs/b")),
        Some(settings("b"))
    );
    // Only the latest folders are kept.
    for n in 0..MAX_GIVEN_SETTINGS {
        store.record_given(&settings(&format!("n{n}"))).unwrap();
    }
    assert_eq!(store.given_settings(Path::new("/runs/a")), None);
    assert_eq!(
        store.given_settings(Path::new("/runs/n0")),
        Some(settings("n0"))
    );
}

#[test]
fn a_listed_preset_names_its_inputs_and_models_that_are_gone() {
    let dir = tempfile::tempdir().unwrap();
    let reads = dir.path().join("reads");
    let model = dir.path().join("500_model.pth");
    std::fs::create_dir(&reads).unwrap();
    std::fs::write(&model, b"weights").unwrap();
    let mut kept = settings("kept");
    kept.inputs = vec![reads.clone()];
    kept.dnabert = dir.path().to_path_buf();
    kept.esm = model.clone();
    kept.classifier = model.clone();
    // The output folder does not exist yet: a run makes it.
    kept.out_dir = dir.path().join("not yet");
    let preset = |settings: RunSettings| Preset {
        name: "p".into(),
        settings,
        updated: "t".into(),
    };
    assert_eq!(listed(preset(kept.clone())).missing, Vec::<PathBuf>::new());

    let mut gone = kept.clone();
    gone.inputs.push(dir.path().join("moved away"));
    gone.classifier = dir.path().join("300_model.pth");
    let listing = listed(preset(gone.clone()));
    assert_eq!(
        listing.missing,
        [
            dir.path().join("moved away"),
            dir.path().join("300_model.pth")
        ]
    );
    assert_eq!(listing.preset.settings, gone);
    let json = serde_json::to_value(&listing).unwrap();
    assert_eq!(json["name"], "p", "the preset's fields, flattened: {json}");
    assert_eq!(json["missing"].as_array().map(Vec::len), Some(2));
}

/// A preset of samples: its samples' inputs are its inputs, checked like the others.
#[test]
fn a_listed_preset_of_samples_names_its_samples_inputs_that_are_gone() {
    let dir = tempfile::tempdir().unwrap();
    let reads = dir.path().join("reads");
    std::fs::create_dir(&reads).unwrap();
    let mut samples = settings("samples");
    samples.inputs = Vec::new();
    samples.dnabert = dir.path().to_path_buf();
    samples.esm = reads.clone();
    samples.classifier = reads.clone();
    samples.samples = vec![
        SampleSettings {
            name: "gut".into(),
            inputs: vec![reads.clone(), dir.path().join("gut.fq")],
        },
        SampleSettings {
            name: "soil".into(),
            inputs: vec![dir.path().join("soil")],
        },
    ];
    let listing = listed(Preset {
        name: "p".into(),
        settings: samples,
        updated: "t".into(),
    });
    assert_eq!(
        listing.missing,
        [dir.path().join("gut.fq"), dir.path().join("soil")]
    );
}
