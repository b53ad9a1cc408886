//! Progress bars on a terminal: one per stage, with counts, rate, time left and, for the
//! embedding stages, each device's throughput. Plan, warnings and failures print above
//! the bars. What a bar shows comes from [`View`]; this only draws it.
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use virnucpro_core::events::RunEvent;

use super::view::{Change, StageBar, View};

pub struct ProgressBars {
    multi: MultiProgress,
    bars: Vec<ProgressBar>,
    view: View,
}

impl Default for ProgressBars {
    fn default() -> Self {
        Self::new()
    }
}

fn style(template: &str) -> ProgressStyle {
    // The templates are constants: a typo would show in every run, not depend on data.
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

fn counted() -> ProgressStyle {
    style("{prefix:>13} [{bar:30}] {pos}/{len} {msg}")
}

/// Before the total is known (prepare still writing shards), or for prepare's reads.
fn open_ended() -> ProgressStyle {
    style("{prefix:>13} {spinner} {pos} {msg}")
}

impl ProgressBars {
    pub fn new() -> Self {
        Self {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Vec::new(),
            view: View::default(),
        }
    }

    pub fn show(&mut self, event: &RunEvent) {
        for change in self.view.apply(event) {
            match change {
                Change::Added(i) => {
                    let bar = self.multi.add(ProgressBar::no_length());
                    bar.set_prefix(self.view.bars[i].stage.as_str());
                    self.bars.push(bar);
                    self.draw(i);
                }
                Change::Updated(i) => self.draw(i),
                Change::Finished(i) => {
                    self.draw(i);
                    if let Some(bar) = self.bars.get(i) {
                        bar.finish();
                    }
                }
                Change::Reset => {
                    for bar in self.bars.drain(..) {
                        bar.finish();
                    }
                }
                Change::Line(line) => {
                    // Only fails when the terminal is gone; then there is no one to tell.
                    let _ = self.multi.println(line);
                }
            }
        }
    }

    fn draw(&self, i: usize) {
        let (Some(bar), Some(state)) = (self.bars.get(i), self.view.bars.get(i)) else {
            return;
        };
        apply(bar, state);
    }
}

fn apply(bar: &ProgressBar, state: &StageBar) {
    match state.total {
        Some(total) => {
            bar.set_style(counted());
            bar.set_length(total);
        }
        None => bar.set_style(open_ended()),
    }
    bar.set_position(state.done);
    bar.set_message(state.message());
    if state.finished.is_none() && state.total.is_none() {
        bar.tick();
    }
}
