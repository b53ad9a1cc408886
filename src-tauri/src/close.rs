//! Closing the window while a run is going: ask first; if the user agrees, cancel the run
//! and close only once it has stopped (its files are then complete and it is resumable).
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tauri::{Manager, Runtime, Window, WindowEvent};
use tauri_plugin_dialog::{DialogExt, MessageDialogButtons, MessageDialogKind};

use crate::state::AppState;

/// One question at a time, however often the close button is pressed.
static ASKING: AtomicBool = AtomicBool::new(false);

/// A run stops at its next batch boundary; a large ESM-2 batch on a CPU can take minutes.
const STOP_TIMEOUT: Duration = Duration::from_secs(15 * 60);

pub fn on_window_event<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    let WindowEvent::CloseRequested { api, .. } = event else {
        return;
    };
    let Some(state) = window.try_state::<AppState>() else {
        return;
    };
    if !state.runs.is_running() {
        return;
    }
    api.prevent_close();
    if ASKING.swap(true, Ordering::SeqCst) {
        return;
    }
    let window = window.clone();
    let runs = state.runs.clone();
    // The dialog blocks, and must not block the main thread that shows it.
    std::thread::spawn(move || {
        let stop = window
            .dialog()
            .message(
                "A run is going. Stop it and close? It can be resumed later from where it stopped.",
            )
            .title("Stop the run?")
            .kind(MessageDialogKind::Warning)
            .buttons(MessageDialogButtons::OkCancelCustom(
                "Stop and close".into(),
                "Keep running".into(),
            ))
            .blocking_show();
        if stop {
            runs.cancel();
            tracing::info!("closing: waiting for the run to stop");
            if !runs.wait_stopped(STOP_TIMEOUT) {
                tracing::warn!("the run did not stop in time; closing anyway");
            }
            if let Err(e) = window.destroy() {
                tracing::error!("cannot close the window: {e}");
            }
        }
        ASKING.store(false, Ordering::SeqCst);
    });
}
