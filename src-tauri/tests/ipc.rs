//! Commands through Tauri's IPC on the mock runtime: argument names (snake_case), payload
//! shapes and errors exactly as the web view sees them.
use std::path::Path;

use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{
    get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY,
};
use tauri::webview::InvokeRequest;
use tauri::{Manager, WebviewWindow, WebviewWindowBuilder};
use virnucpro_desktop::demo::DemoFiles;
use virnucpro_desktop::paths::AppPaths;
use virnucpro_desktop::state::AppState;

struct Ui {
    _app: tauri::App<MockRuntime>,
    webview: WebviewWindow<MockRuntime>,
}

fn start(data_dir: &Path) -> Ui {
    let app = mock_builder()
        .plugin(tauri_plugin_store::Builder::new().build())
        .invoke_handler(virnucpro_desktop::handler())
        .build(mock_context(noop_assets()))
        .expect("a mock app");
    let state = AppState::new(
        app.handle(),
        AppPaths::new(data_dir.to_path_buf()),
        DemoFiles::find(None),
    );
    app.manage(state);
    let webview = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("a mock window");
    Ui { _app: app, webview }
}

impl Ui {
    fn invoke(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        get_ipc_response(
            &self.webview,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                // What the custom protocol serves the UI from on Linux (tauri.md).
                url: "tauri://localhost".parse().expect("a URL"),
                body: InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|body| body.deserialize::<Value>().expect("JSON"))
    }
}

fn demo_preset(ui: &Ui) -> Value {
    let presets = ui.invoke("list_presets", json!({})).unwrap();
    presets
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Demo")
        .cloned()
        .expect("the built-in Demo preset")
}

#[test]
fn presets_validation_and_the_scope_through_ipc() {
    let data = tempfile::tempdir().unwrap();
    let ui = start(data.path());
    let demo = demo_preset(&ui);
    let settings = demo["settings"].clone();
    assert_eq!(settings["devices"], json!(["cpu"]));
    assert_eq!(settings["out_dir"], json!(data.path().join("demo-output")));
    assert_eq!(
        ui.invoke("validate_settings", json!({ "settings": settings })),
        Ok(json!({ "problems": [], "warnings": [] }))
    );

    let saved = ui
        .invoke(
            "save_preset",
            json!({ "name": "Mine", "settings": settings }),
        )
        .unwrap();
    assert_eq!(saved["name"], "Mine");
    let copy = ui
        .invoke(
            "duplicate_preset",
            json!({ "name": "Mine", "as_name": "Copy" }),
        )
        .unwrap();
    assert_eq!(copy["settings"], settings);
    let names: Vec<Value> = ui
        .invoke("list_presets", json!({}))
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    assert_eq!(names, [json!("Copy"), json!("Demo"), json!("Mine")]);

    // Paths the user never chose are refused, with the contract's error shape.
    let mut elsewhere = settings.clone();
    elsewhere["inputs"] = json!(["/etc/passwd"]);
    let err = ui
        .invoke(
            "save_preset",
            json!({ "name": "Bad", "settings": elsewhere }),
        )
        .unwrap_err();
    assert_eq!(err["kind"], "not_allowed");
    assert!(err["message"]
        .as_str()
        .unwrap()
        .starts_with("/etc/passwd: "));
    let err = ui
        .invoke("load_failures", json!({ "out_dir": "/etc" }))
        .unwrap_err();
    assert_eq!(err["kind"], "not_allowed");
    let err = ui
        .invoke(
            "load_read_frames",
            json!({ "out_dir": "/etc", "read_id": "r1" }),
        )
        .unwrap_err();
    assert_eq!(err["kind"], "not_allowed");
    let err = ui
        .invoke("import_preset", json!({ "path": "/etc/hostname" }))
        .unwrap_err();
    assert_eq!(err["kind"], "not_allowed");
    let err = ui
        .invoke("delete_preset", json!({ "name": "Demo" }))
        .unwrap_err();
    assert_eq!(err["kind"], "invalid");

    assert_eq!(ui.invoke("last_settings", json!({})), Ok(Value::Null));
    ui.invoke("remember_settings", json!({ "settings": settings }))
        .unwrap();
    drop(ui);

    // A restart keeps presets and last settings.
    let ui = start(data.path());
    assert_eq!(ui.invoke("last_settings", json!({})), Ok(settings.clone()));
    assert_eq!(
        ui.invoke("list_presets", json!({}))
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn a_demo_run_through_ipc_resolves_with_its_summary() {
    let data = tempfile::tempdir().unwrap();
    let ui = start(data.path());
    let settings = demo_preset(&ui)["settings"].clone();
    let out_dir = settings["out_dir"].clone();
    assert_eq!(
        ui.invoke("find_resumable", json!({ "out_dir": out_dir })),
        Ok(Value::Null)
    );
    let summary = ui
        .invoke(
            "start_run",
            json!({ "settings": settings, "restart": false, "on_event": "__CHANNEL__:7" }),
        )
        .expect("the demo run");
    assert_eq!(summary["status"], "ok");
    assert_eq!(summary["reads"], 120);
    let resumable = ui
        .invoke("find_resumable", json!({ "out_dir": out_dir }))
        .unwrap();
    assert_eq!(resumable["state"], "ok");
    assert_eq!(
        resumable["stages_done"],
        json!(["prepare", "embed_dna", "embed_protein", "merge", "classify"])
    );
    assert_eq!(resumable["samples"], json!([]));
    // Samples in the setup's settings are looked for in their folders first: none has a
    // manifest, so the folder's own run; then one that has.
    let asked = json!({ "out_dir": out_dir, "samples": ["gut"] });
    assert_eq!(ui.invoke("find_resumable", asked.clone()), Ok(resumable));
    let out = Path::new(out_dir.as_str().unwrap());
    std::fs::create_dir(out.join("gut")).unwrap();
    std::fs::copy(
        out.join("run-manifest.json"),
        out.join("gut/run-manifest.json"),
    )
    .unwrap();
    let samples = ui.invoke("find_resumable", asked).unwrap();
    assert_eq!(
        samples["samples"],
        json!([{ "name": "gut", "out_dir": out.join("gut"), "state": "ok",
                 "stages_done": ["prepare", "embed_dna", "embed_protein", "merge", "classify"] }])
    );
    std::fs::remove_dir_all(out.join("gut")).unwrap();
    let results = ui
        .invoke("load_results", json!({ "out_dir": out_dir }))
        .unwrap();
    assert_eq!(results["reads"].as_array().unwrap().len(), 120);
    // The run compared with itself through the IPC: flattened, every report agreeing;
    // a folder never chosen is refused before anything is read.
    let same = ui
        .invoke("compare_runs", json!({ "a": out_dir, "b": out_dir }))
        .unwrap();
    assert_eq!(same["a"]["kind"], "run");
    assert_eq!(same["warnings"], json!([]));
    let reports = same["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 3, "{same}");
    assert!(reports
        .iter()
        .all(|r| r["agreement_percent"] == json!(100.0) && r["identical"] == json!(true)));
    let err = ui
        .invoke("compare_runs", json!({ "a": out_dir, "b": "/etc" }))
        .unwrap_err();
    assert_eq!(err["kind"], "not_allowed");
    let read = results["reads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["frames"].as_u64() > Some(0))
        .expect("a read with scored frames");
    let frames = ui
        .invoke(
            "load_read_frames",
            json!({ "out_dir": out_dir, "read_id": read["read_id"] }),
        )
        .unwrap();
    assert_eq!(
        frames.as_array().unwrap().len() as u64,
        read["frames"].as_u64().unwrap()
    );
    assert_eq!(frames[0]["read_id"], read["read_id"]);
    assert_eq!(
        ui.invoke("load_failures", json!({ "out_dir": out_dir })),
        Ok(json!([]))
    );
    assert_eq!(ui.invoke("cancel_run", json!({})), Ok(Value::Null));
}
