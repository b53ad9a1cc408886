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

/// The dialog's title; the real-window test finds the dialog by it.
const TITLE: &str = "Stop the run?";

/// GTK reads `_x` as the button's Alt+x mnemonic (the real-window test presses Alt+S and
/// Escape); the other platforms' dialogs would show the underscore.
const STOP_LABEL: &str = if cfg!(target_os = "linux") {
    "_Stop and close"
} else {
    "Stop and close"
};
const KEEP_LABEL: &str = if cfg!(target_os = "linux") {
    "_Keep running"
} else {
    "Keep running"
};

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
        tracing::debug!("close requested again while asking");
        return;
    }
    tracing::info!("close requested during a run: asking whether to stop it");
    let window = window.clone();
    let runs = state.runs.clone();
    // The dialog blocks, and must not block the main thread that shows it.
    std::thread::spawn(move || {
        let stop = window
            .dialog()
            .message(
                "A run is going. Stop it and close? It can be resumed later from where it stopped.",
            )
            .title(TITLE)
            .kind(MessageDialogKind::Warning)
            .buttons(MessageDialogButtons::OkCancelCustom(
                STOP_LABEL.into(),
                KEEP_LABEL.into(),
            ))
            .blocking_show();
        tracing::info!(
            "asked whether to stop the run: {}",
            if stop { "stop" } else { "keep running" }
        );
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
