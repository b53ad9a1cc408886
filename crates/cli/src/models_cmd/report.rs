//! Fetch progress for people (one line per file, a bar on a terminal) or as JSON lines.
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use virnucpro_models::{FetchEvent, ModelStatus};

use crate::units;

pub struct EventPrinter {
    json: bool,
    bar: Option<ProgressBar>,
    terminal: bool,
    last_line: Option<Instant>,
}

/// Without a terminal, a progress line at most this often.
const LINE_EVERY: Duration = Duration::from_secs(10);

impl EventPrinter {
    pub fn new(json: bool) -> EventPrinter {
        EventPrinter {
            json,
            bar: None,
            terminal: std::io::stderr().is_terminal(),
            last_line: None,
        }
    }

    pub fn show(&mut self, event: &FetchEvent) {
        if self.json {
            if let Ok(line) = serde_json::to_string(event) {
                crate::outln!("{line}");
            }
            return;
        }
        match event {
            FetchEvent::Progress {
                done,
                total,
                bytes_per_second,
                seconds_left,
                ..
            } => self.progress(*done, *total, *bytes_per_second, *seconds_left),
            FetchEvent::Finished { .. } => self.clear(),
            other => {
                if let Some(text) = describe(other) {
                    self.say(&text);
                }
            }
        }
    }

    fn say(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    fn progress(&mut self, done: u64, total: Option<u64>, rate: f64, left: Option<f64>) {
        if self.terminal {
            let bar = self.bar.get_or_insert_with(|| new_bar(total));
            bar.set_position(done);
            bar.set_message(format!("{}/s", units::bytes(rate as u64)));
            return;
        }
        if self.last_line.is_some_and(|t| t.elapsed() < LINE_EVERY) {
            return;
        }
        self.last_line = Some(Instant::now());
        let of = total.map_or(String::new(), |t| format!(" of {}", units::bytes(t)));
        let eta = left.map_or(String::new(), |s| format!(", {s:.0} s left"));
        eprintln!(
            "  {}{of}, {}/s{eta}",
            units::bytes(done),
            units::bytes(rate as u64)
        );
    }

    pub fn clear(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        self.last_line = None;
    }

    /// A model fetched: its state and what a run is given.
    pub fn done(&mut self, status: &ModelStatus) {
        self.clear();
        if !self.json {
            crate::outln!(
                "{}: {} ({})",
                status.id,
                status.state,
                status.path.display()
            );
        }
    }
}

fn new_bar(total: Option<u64>) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
    let template = "  [{bar:30}] {bytes}/{total_bytes} {msg} {eta}";
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn describe(event: &FetchEvent) -> Option<String> {
    Some(match event {
        FetchEvent::Started { model, source, bytes_total, bytes_to_get, .. } => {
            if *bytes_to_get == 0 && bytes_total.is_some() {
                return None;
            }
            let total = bytes_total.map_or("size unpublished".into(), units::bytes);
            format!("{model}: {} to download from {source} ({total} in all)", units::bytes(*bytes_to_get))
        }
        FetchEvent::Verifying { model, file } => format!("{model}: checking {file}"),
        FetchEvent::Unpacking { model, file } => format!("{model}: unpacking {file}"),
        FetchEvent::FileStarted { model, file, url, .. } => format!("{model}: {file} from {url}"),
        FetchEvent::Retrying { model, file, attempt, attempts, delay_seconds, reason, .. } => format!(
            "{model}: {file}: try {attempt} of {attempts} failed ({reason}); again in {delay_seconds:.0} s"
        ),
        FetchEvent::Restarted { model, file, reason } => {
            format!("{model}: {file}: starting again from zero ({reason:?})")
        }
        FetchEvent::FallingBack { model, from, to, reason } => {
            format!("{model}: {from} failed ({reason}); trying {to}")
        }
        FetchEvent::FileInstalled { .. } | FetchEvent::Progress { .. } | FetchEvent::Finished { .. } => {
            return None
        }
    })
}
