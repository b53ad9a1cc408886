//! How `predict` shows a run's progress on stderr: bars on a terminal ([`bars`]), plain
//! lines otherwise ([`lines`]); both read the same events (`--json-events` prints those
//! instead). The text shared by both is here.
pub mod bars;
pub mod lines;
pub mod view;

use virnucpro_core::events::{ItemFailure, RunEvent, StagePlan};

/// The line that opens a sample of a multi-sample run (`None` for other events).
pub fn sample_line(event: &RunEvent) -> Option<String> {
    match event {
        RunEvent::SampleStarted {
            sample,
            index,
            total,
            ..
        } => Some(format!("== sample {sample} ({} of {total})", index + 1)),
        _ => None,
    }
}

/// The plan, one line per stage, under the run folder.
pub fn plan_lines(out_dir: &std::path::Path, plan: &[StagePlan]) -> Vec<String> {
    let mut lines = vec![format!("run in {}", out_dir.display())];
    for p in plan {
        let action = serde_json::to_value(p.action)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        lines.push(format!(
            "  {:<13} {action:<6} {}",
            p.stage.as_str(),
            p.reason
        ));
    }
    lines
}

pub fn failure_line(f: &ItemFailure) -> String {
    format!(
        "[{}] {} failed ({}): {}",
        f.stage, f.item, f.kind, f.message
    )
}
