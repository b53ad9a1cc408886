//! `virnucpro compare RUN_A RUN_B`: how far apart two runs of the same reads are (e.g. fp32
//! and bf16, CPU and GPU, ours and the original tool's), report by report and, where both
//! kept them, feature by feature. `--min-agreement` makes it a check for scripts.
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use virnucpro_core::compare::{
    compare_runs, ComparedRun, FeatureComparison, FeatureSkip, FolderKind, ReportComparison,
    ReportSkip, RunComparison, Side,
};
use virnucpro_core::merge::IdExamples;

use crate::exit;

#[derive(clap::Args)]
pub struct CompareArgs {
    /// The first run: a `virnucpro predict` output folder (a sample folder, RUN/NAME, for
    /// a run of several samples), a `classify --out` folder, or the original tool's
    /// `{input}_merged` folder.
    #[arg(value_name = "RUN_A")]
    a: PathBuf,
    /// The second run, of the same reads.
    #[arg(value_name = "RUN_B")]
    b: PathBuf,
    /// Print the comparison as JSON.
    #[arg(long)]
    json: bool,
    /// Exit 1 when any compared report's labels agree on fewer than PERCENT of its rows
    /// (e.g. 99.9).
    #[arg(long, value_name = "PERCENT", value_parser = percent)]
    min_agreement: Option<f64>,
}

fn percent(text: &str) -> Result<f64, String> {
    match text.trim_end_matches('%').parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!("{text:?} is not a percentage from 0 to 100")),
    }
}

pub fn run(args: &CompareArgs) -> anyhow::Result<ExitCode> {
    let cmp = compare_runs(&args.a, &args.b)?;
    if args.json {
        crate::outln!("{}", serde_json::to_string_pretty(&cmp)?);
    } else {
        crate::out!("{}", render(&cmp));
    }
    for warning in cmp.warnings() {
        tracing::warn!("{warning}");
    }
    let Some(min) = args.min_agreement else {
        return Ok(ExitCode::from(exit::OK));
    };
    let below = cmp.below(min);
    if below.is_empty() {
        return Ok(ExitCode::from(exit::OK));
    }
    for report in below {
        eprintln!(
            "error: {}: labels agree on {:.3} % of the rows, below --min-agreement {min} %",
            report.file, report.agreement_percent
        );
    }
    Ok(ExitCode::from(exit::FAILED))
}

/// The comparison as the terminal shows it.
pub fn render(cmp: &RunComparison) -> String {
    let mut out = String::new();
    side(&mut out, "A", &cmp.a);
    side(&mut out, "B", &cmp.b);
    for warning in cmp.warnings() {
        let _ = writeln!(out, "warning: {warning}");
    }
    out.push('\n');
    for report in &cmp.reports {
        report_lines(&mut out, report);
    }
    for skip in &cmp.reports_only_in_one {
        report_skip(&mut out, skip);
    }
    for features in &cmp.features {
        feature_lines(&mut out, features);
    }
    for skip in &cmp.features_only_in_one {
        feature_skip(&mut out, skip);
    }
    if let Some(low) = cmp.lowest_agreement() {
        let _ = writeln!(
            out,
            "\nlowest label agreement: {} % ({})",
            pct(low.agreement_percent),
            low.file
        );
    }
    out
}

fn side(out: &mut String, name: &str, run: &ComparedRun) {
    let what = match run.kind {
        FolderKind::Reports => "reports without a run manifest".to_owned(),
        FolderKind::Run => {
            let mut what = String::from("run");
            if let Some(state) = run.state {
                let _ = write!(what, ", {state}");
            }
            if let Some(precision) = run.precision {
                let _ = write!(what, ", {precision}");
            }
            if !run.devices.is_empty() {
                let _ = write!(what, " on {}", run.devices.join(","));
            }
            what
        }
    };
    let _ = writeln!(out, "{name}: {} ({what})", run.path.display());
}

fn report_lines(out: &mut String, r: &ReportComparison) {
    let _ = write!(
        out,
        "{}: {} rows in A, {} in B, {} matched; labels agree on {} ({} %)",
        r.file,
        r.rows_a,
        r.rows_b,
        r.matched,
        r.labels_agree,
        pct(r.agreement_percent)
    );
    if let Some(scores) = &r.scores {
        let _ = write!(out, "; |Δ score| max {}", num(scores.max));
        if let Some(id) = scores.max_id.as_deref().filter(|_| scores.max != 0.0) {
            let _ = write!(out, " ({id})");
        }
        let _ = write!(out, ", mean {}", num(scores.mean));
    }
    out.push_str(if r.identical {
        "; byte-identical\n"
    } else {
        "\n"
    });
    only_lines(out, &r.only_in_a, &r.only_in_b);
    for d in &r.disagreements {
        let _ = writeln!(
            out,
            "  {}: {}{} in A, {}{} in B",
            d.id,
            d.label_a,
            score(d.score_a),
            d.label_b,
            score(d.score_b)
        );
    }
    let shown = r.disagreements.len() as u64;
    let all = r.matched - r.labels_agree;
    if all > shown {
        let _ = writeln!(out, "  … and {} more rows whose labels differ", all - shown);
    }
}

fn only_lines(out: &mut String, a: &IdExamples, b: &IdExamples) {
    for (name, ids) in [("A", a), ("B", b)] {
        if ids.count > 0 {
            let more = if ids.count > ids.examples.len() {
                ", …"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  {} only in {name}: {}{more}",
                ids.count,
                ids.examples.join(", ")
            );
        }
    }
}

fn report_skip(out: &mut String, skip: &ReportSkip) {
    let _ = writeln!(
        out,
        "{}: only in {} (not compared)",
        skip.file,
        side_name(skip.only_in)
    );
}

fn feature_lines(out: &mut String, f: &FeatureComparison) {
    let _ = write!(
        out,
        "{} features: {} shard{}, {} rows of {} values matched",
        f.kind,
        f.shards,
        if f.shards == 1 { "" } else { "s" },
        f.rows,
        f.dim
    );
    match &f.stats {
        Some(s) => {
            let _ = writeln!(
                out,
                "; max |Δ| {} ({}); cosine min {} ({}), mean {}",
                num(s.max_abs_diff),
                s.max_abs_diff_id,
                cosine(s.min_cosine),
                s.min_cosine_id,
                cosine(s.mean_cosine)
            );
        }
        None => out.push('\n'),
    }
    for (name, shards) in [("A", &f.shards_only_in_a), ("B", &f.shards_only_in_b)] {
        if !shards.is_empty() {
            let _ = writeln!(out, "  shards only in {name}: {}", shards.join(", "));
        }
    }
    only_lines(out, &f.only_in_a, &f.only_in_b);
}

fn feature_skip(out: &mut String, skip: &FeatureSkip) {
    let _ = writeln!(
        out,
        "{} features: kept by {} only (the other run did not keep features)",
        skip.kind,
        side_name(skip.kept_in)
    );
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::A => "A",
        Side::B => "B",
    }
}

/// A percentage with enough digits to tell 99.9 from 100.
fn pct(p: f64) -> String {
    if p == 100.0 {
        "100".into()
    } else {
        format!("{p:.3}")
    }
}

/// A difference: exact zero as `0`, otherwise three significant digits.
fn num(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else {
        format!("{x:.3e}")
    }
}

/// A cosine similarity: `1` only when exactly 1, else enough digits to see how close.
fn cosine(c: f64) -> String {
    if c == 1.0 {
        "1".into()
    } else {
        format!("{c:.7}")
    }
}

fn score(s: Option<f64>) -> String {
    s.map(|s| format!(" ({s})")).unwrap_or_default()
}
