//! The Snakemake workflow (workflow/Snakefile) on two samples made from the demo reads,
//! with the demo's tiny models on the CPU: its reports against `virnucpro predict`, its
//! temporary feature files (gone after a run, kept with `keep_features: true`), a dry run
//! against the SLURM profile, and a run killed mid-way and resumed.
//!
//! Snakemake comes from `.venv-workflow/` (`make setup`, or `bash scripts/setup-workflow.sh`);
//! without it these tests fail and say so.
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use virnucpro_testkit::repo_root;

/// Frame pairs per shard: small, so that each sample has several embed jobs per model.
const SHARD_SIZE: usize = 16;
/// Reads per sample, from demo/sample_reads.fa.
const READS: usize = 20;
const SAMPLES: [&str; 2] = ["alpha", "beta"];
const REPORTS: [&str; 3] = [
    "prediction_results.txt",
    "prediction_results_highestscore.csv",
    "read_summary.tsv",
];

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_virnucpro")
}

fn venv_tool(name: &str) -> PathBuf {
    let path = repo_root().join(".venv-workflow/bin").join(name);
    assert!(
        path.is_file(),
        "{} is missing: the workflow tests need snakemake in .venv-workflow/ \
         (run `make setup` or `bash scripts/setup-workflow.sh`)",
        path.display()
    );
    path
}

fn demo_model(relative: &str) -> String {
    repo_root()
        .join("demo/models")
        .join(relative)
        .to_string_lossy()
        .into_owned()
}

/// A workflow folder with two samples (alpha: one gzip file; beta: a folder of two files)
/// and its config.
struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    /// The config leaves `keep_features` out: the workflow's default (feature files are
    /// temporary).
    fn new() -> Self {
        Self::with_config("")
    }

    /// With `keep_features: true`: every feature and merged file stays.
    fn keeping_features() -> Self {
        Self::with_config("keep_features: true\n")
    }

    /// `extra` is appended to the config.
    fn with_config(extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let text = fs::read_to_string(repo_root().join("demo/sample_reads.fa")).unwrap();
        let records: Vec<String> = text.split('>').skip(1).map(|r| format!(">{r}")).collect();
        assert!(records.len() >= 2 * READS, "demo reads: {}", records.len());
        let reads = dir.path().join("reads");
        fs::create_dir_all(reads.join("beta")).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(records[..READS].concat().as_bytes()).unwrap();
        fs::write(reads.join("alpha.fa.gz"), gz.finish().unwrap()).unwrap();
        let half = READS + READS / 2;
        fs::write(reads.join("beta/part1.fa"), records[READS..half].concat()).unwrap();
        fs::write(
            reads.join("beta/part2.fasta"),
            records[half..2 * READS].concat(),
        )
        .unwrap();
        let config = format!(
            "samples:\n  alpha: {alpha}\n  beta: {beta}\n\
             models:\n  dnabert: {dnabert}\n  esm: {esm}\n  classifier: {classifier}\n\
             length: 500\ndevices: cpu\nthreads: 2\nshard_size: {SHARD_SIZE}\n\
             out: {out}\nvirnucpro: {bin}\n{extra}",
            alpha = reads.join("alpha.fa.gz").display(),
            beta = reads.join("beta").display(),
            dnabert = demo_model("dnabert_s_tiny"),
            esm = demo_model("esm2_tiny/esm2_t2_tiny_fixture.pt"),
            classifier = demo_model("classifier_500_tiny.pth"),
            out = dir.path().join("results").display(),
            bin = bin(),
        );
        fs::write(dir.path().join("config.yaml"), config).unwrap();
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn input(&self, sample: &str) -> PathBuf {
        match sample {
            "alpha" => self.path().join("reads/alpha.fa.gz"),
            _ => self.path().join("reads/beta"),
        }
    }

    fn results(&self) -> PathBuf {
        self.path().join("results")
    }

    /// `snakemake` on this workspace's config with a profile of workflow/profiles.
    fn snakemake(&self, profile: &str, extra: &[&str]) -> Command {
        let mut cmd = Command::new(venv_tool("snakemake"));
        cmd.arg("--snakefile")
            .arg(repo_root().join("workflow/Snakefile"))
            .arg("--configfile")
            .arg(self.path().join("config.yaml"))
            .arg("--profile")
            .arg(repo_root().join("workflow/profiles").join(profile))
            .arg("--directory")
            .arg(self.path())
            .args(extra);
        cmd
    }

    /// Every file under the samples' `features/` and `merged/` folders (of any name,
    /// hidden ones too), and every `.safetensors` file anywhere under `results/`.
    fn files_of_features(&self) -> BTreeSet<PathBuf> {
        let mut files = BTreeSet::new();
        let mut folders = vec![self.results()];
        while let Some(folder) = folders.pop() {
            let Ok(entries) = fs::read_dir(&folder) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    folders.push(path);
                    continue;
                }
                let in_features = path
                    .components()
                    .any(|c| c.as_os_str() == "features" || c.as_os_str() == "merged");
                let name = entry.file_name().to_string_lossy().into_owned();
                if in_features || name.ends_with(".safetensors") {
                    files.insert(path);
                }
            }
        }
        files
    }

    /// The `.safetensors` files of `files_of_features` (not merge's `merge_failures.tsv`
    /// nor Snakemake's timestamp in `merged/`).
    fn safetensors_files(&self) -> BTreeSet<PathBuf> {
        self.files_of_features()
            .into_iter()
            .filter(|path| path.extension().is_some_and(|e| e == "safetensors"))
            .collect()
    }

    /// The feature and merged files a finished run of every shard has, by name.
    fn expected_feature_files(&self) -> BTreeSet<PathBuf> {
        let mut files = BTreeSet::new();
        for sample in SAMPLES {
            let dir = self.results().join(sample);
            for shard in self.shard_indices(sample) {
                for kind in ["nucleotide", "protein"] {
                    files.insert(dir.join(format!("features/output_{shard}.{kind}.safetensors")));
                }
                files.insert(dir.join(format!("merged/output_{shard}.merged.safetensors")));
            }
        }
        files
    }

    /// Modification times and sizes of the samples' reports and of the summary.
    fn reports(&self) -> BTreeMap<PathBuf, (SystemTime, u64)> {
        let mut reports = BTreeMap::new();
        for sample in SAMPLES {
            for report in REPORTS {
                let path = self.results().join(sample).join(report);
                let m = modified(&path);
                reports.insert(path, m);
            }
        }
        let summary = self.results().join("summary.tsv");
        let m = modified(&summary);
        reports.insert(summary, m);
        reports
    }

    /// Shards of a sample's finished prepare.
    fn shards(&self, sample: &str) -> usize {
        self.shard_indices(sample).len()
    }

    /// The shards' indices (`output_INDEX`), from the sample's `prepare.json`.
    fn shard_indices(&self, sample: &str) -> Vec<u64> {
        let json = fs::read(self.results().join(sample).join("prepared/prepare.json")).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
        json["shards"]
            .as_array()
            .unwrap()
            .iter()
            .map(|shard| shard["index"].as_u64().unwrap())
            .collect()
    }
}

/// Run `cmd` to its end: its exit status and what it printed (stdout, then stderr).
fn output(cmd: &mut Command, what: &str) -> (ExitStatus, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    (status, text)
}

fn run(cmd: &mut Command, what: &str) -> String {
    let (status, text) = output(cmd, what);
    assert!(status.success(), "{what} failed ({status}):\n{text}");
    text
}

/// One job of a Snakemake log: its rule and outputs (the job's identity across runs).
type Job = (String, String);

/// The jobs a Snakemake log shows starting (or, in a dry run, planned), with their ids.
fn jobs_started(log: &str) -> Vec<(Job, Option<u64>, String)> {
    let mut jobs = Vec::new();
    let mut lines = log.lines().peekable();
    while let Some(line) = lines.next() {
        let header = line
            .strip_prefix("local")
            .unwrap_or(line)
            .strip_suffix(':')
            .and_then(|l| l.strip_prefix("rule ").or(l.strip_prefix("checkpoint ")));
        let Some(rule) = header else {
            continue;
        };
        let (mut output, mut jobid, mut block) = (String::new(), None, String::new());
        while let Some(field) = lines.next_if(|l| l.starts_with("    ")) {
            block.push_str(field);
            block.push('\n');
            if let Some(o) = field.trim().strip_prefix("output: ") {
                output = o.to_string();
            } else if let Some(id) = field.trim().strip_prefix("jobid: ") {
                jobid = id.parse().ok();
            }
        }
        jobs.push(((rule.to_string(), output), jobid, block));
    }
    jobs
}

/// Ids of the jobs a Snakemake log reports finished.
fn jobs_finished(log: &str) -> BTreeSet<u64> {
    log.lines()
        .filter_map(|l| l.strip_prefix("Finished jobid: "))
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

fn first_difference(a: &[u8], b: &[u8]) -> String {
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    a.lines()
        .zip(b.lines())
        .enumerate()
        .find(|(_, (x, y))| x != y)
        .map_or("one file is longer".into(), |(i, (x, y))| {
            format!("line {}: workflow {x:?}, predict {y:?}", i + 1)
        })
}

/// Snakemake run again on a finished workflow: it says there is nothing to do, starts no
/// job (whether the temporary feature files are there or not) and leaves the reports as
/// they were.
fn assert_rerun_does_nothing(ws: &Workspace) {
    let reports = ws.reports();
    let dry = run(
        ws.snakemake("local", &["-n"]).stdin(Stdio::null()),
        "snakemake -n after a finished run",
    );
    let planned = jobs_started(&dry);
    assert!(
        planned.is_empty(),
        "a dry run plans jobs: {planned:?}\n{dry}"
    );
    let again = run(
        ws.snakemake("local", &["--cores", "2"])
            .stdin(Stdio::null()),
        "snakemake after a finished run",
    );
    let started = jobs_started(&again);
    assert!(started.is_empty(), "jobs ran again: {started:?}\n{again}");
    assert!(
        again.contains("Nothing to be done"),
        "no 'Nothing to be done':\n{again}"
    );
    assert_eq!(ws.reports(), reports, "reports were rewritten");
}

/// The default run (feature files temporary): its reports are those of `predict`, no
/// feature file is left once it is done, and running it again does nothing.
#[test]
fn workflow_reports_are_byte_identical_to_predict() {
    let ws = Workspace::new();
    let started = Instant::now();
    let log = run(
        ws.snakemake("local", &["--cores", "2"])
            .stdin(Stdio::null()),
        "snakemake (local profile)",
    );
    eprintln!("workflow: {:.1} s", started.elapsed().as_secs_f64());
    // Every feature file and merged folder was made (and read) before Snakemake removed it.
    let mut temporary: BTreeSet<PathBuf> = ws
        .expected_feature_files()
        .into_iter()
        .filter(|path| !path.parent().unwrap().ends_with("merged"))
        .collect();
    temporary.extend(SAMPLES.map(|sample| ws.results().join(sample).join("merged")));
    for path in &temporary {
        assert!(
            log.contains(&format!("Removing temporary output {}.", path.display())),
            "Snakemake did not remove {}:\n{log}",
            path.display()
        );
    }
    let left = ws.files_of_features();
    assert!(
        left.is_empty(),
        "feature files left after the run: {left:?}"
    );
    let mut totals = Vec::new();
    for sample in SAMPLES {
        let shards = ws.shards(sample);
        assert!(
            shards >= 2,
            "{sample}: {shards} shard(s); the test wants several"
        );
        let predicted = ws.path().join(format!("predict-{sample}"));
        let mut predict = Command::new(bin());
        predict
            .arg("predict")
            .arg(ws.input(sample))
            .args(["--length", "500", "--devices", "cpu", "--dnabert"])
            .arg(demo_model("dnabert_s_tiny"))
            .arg("--esm")
            .arg(demo_model("esm2_tiny/esm2_t2_tiny_fixture.pt"))
            .arg("--classifier")
            .arg(demo_model("classifier_500_tiny.pth"))
            .args(["--shard-size", &SHARD_SIZE.to_string(), "--out"])
            .arg(&predicted);
        run(&mut predict, &format!("predict {sample}"));
        for report in REPORTS {
            let ours = fs::read(ws.results().join(sample).join(report)).unwrap();
            let theirs = fs::read(predicted.join(report)).unwrap();
            assert!(
                ours == theirs,
                "{sample}/{report} differs from predict's: {}",
                first_difference(&ours, &theirs)
            );
        }
        let summary = fs::read_to_string(predicted.join("read_summary.tsv")).unwrap();
        let virus = summary.lines().filter(|l| l.ends_with("\tvirus")).count();
        totals.push((sample, shards, virus));
    }
    // The summary across samples: one line per sample, its counts from its read summary.
    let summary = fs::read_to_string(ws.results().join("summary.tsv")).unwrap();
    let lines: Vec<&str> = summary.lines().collect();
    assert_eq!(
        lines[0],
        "sample\treads\tvirus_reads\tothers_reads\tunscored_reads\tchunks\tvirus_chunks\tframes"
    );
    assert_eq!(lines.len(), 1 + SAMPLES.len(), "{summary}");
    for (line, (sample, _, virus)) in lines[1..].iter().zip(&totals) {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields[0], *sample);
        assert_eq!(fields[1], READS.to_string(), "{line}");
        assert_eq!(fields[2], virus.to_string(), "{line}");
    }
    eprintln!("per sample (name, shards, virus reads): {totals:?}");

    assert_rerun_does_nothing(&ws);
    let left = ws.files_of_features();
    assert!(left.is_empty(), "feature files made again: {left:?}");
}

/// With `keep_features: true` every shard's feature files and merged file stay, with the
/// same reports as without (the same jobs run; only the removal differs), and running it
/// again does nothing.
#[test]
fn keep_features_keeps_every_feature_file() {
    let reference = Workspace::new();
    let kept = Workspace::keeping_features();
    for ws in [&reference, &kept] {
        run(
            ws.snakemake("local", &["--cores", "2"])
                .stdin(Stdio::null()),
            "snakemake (local profile)",
        );
    }
    assert!(reference.files_of_features().is_empty());
    assert_eq!(kept.safetensors_files(), kept.expected_feature_files());
    for sample in SAMPLES {
        for report in REPORTS {
            let ours = fs::read(kept.results().join(sample).join(report)).unwrap();
            let theirs = fs::read(reference.results().join(sample).join(report)).unwrap();
            assert!(
                ours == theirs,
                "{sample}/{report} differs with keep_features: {}",
                first_difference(&ours, &theirs)
            );
        }
    }
    let features: BTreeMap<PathBuf, (SystemTime, u64)> = kept
        .files_of_features()
        .into_iter()
        .map(|path| {
            let m = modified(&path);
            (path, m)
        })
        .collect();
    assert_rerun_does_nothing(&kept);
    for (path, before) in &features {
        assert_eq!(&modified(path), before, "{} was rewritten", path.display());
    }
}

/// The SLURM profile asks for one GPU per embed job and none for the others, as a dry run
/// shows (embed jobs are known once prepare has run: the shards come from it), and the
/// SLURM plugin turns that request into `sbatch --gpus=1`.
#[test]
fn slurm_dry_run_shows_one_gpu_per_embed_job() {
    let ws = Workspace::new();
    // From scratch, a dry run can show only the prepare jobs, the checkpoint.
    let fresh = run(
        ws.snakemake("slurm", &["-n"]).stdin(Stdio::null()),
        "snakemake -n (slurm profile)",
    );
    let rules: BTreeSet<String> = jobs_started(&fresh).into_iter().map(|j| j.0 .0).collect();
    assert!(
        rules.contains("prepare") && !rules.contains("embed_esm"),
        "{rules:?}"
    );

    run(
        ws.snakemake("local", &["--cores", "2", "--until", "prepare"])
            .stdin(Stdio::null()),
        "snakemake --until prepare",
    );
    let dry = run(
        ws.snakemake("slurm", &["-n"]).stdin(Stdio::null()),
        "snakemake -n (slurm profile)",
    );
    assert!(dry.contains("This was a dry-run"), "{dry}");
    let shards: usize = SAMPLES.iter().map(|s| ws.shards(s)).sum();
    let mut embed_jobs = BTreeMap::new();
    for ((rule, output), _, block) in jobs_started(&dry) {
        let resources = block
            .lines()
            .find_map(|l| l.trim().strip_prefix("resources: "))
            .unwrap_or("");
        let resources: BTreeSet<&str> = resources.split(", ").collect();
        if rule.starts_with("embed_") {
            assert!(
                resources.contains("gpu=1"),
                "{rule} {output}: no GPU request in {resources:?}"
            );
            let mem = if rule == "embed_esm" { 48000 } else { 16000 };
            assert!(
                resources.contains(format!("mem_mb={mem}").as_str()),
                "{rule}: {resources:?}"
            );
            *embed_jobs.entry(rule).or_insert(0) += 1;
        } else {
            assert!(
                !resources.iter().any(|r| r.starts_with("gpu=")),
                "{rule} asks for a GPU: {resources:?}"
            );
        }
    }
    assert_eq!(
        embed_jobs,
        BTreeMap::from([
            ("embed_dnabert".into(), shards),
            ("embed_esm".into(), shards)
        ]),
        "one embed job per shard and model"
    );

    // What the plugin makes of it (its own code, as it builds the sbatch call).
    let rendered = run(
        Command::new(venv_tool("python")).args([
            "-c",
            "from types import SimpleNamespace\n\
             from snakemake_executor_plugin_slurm.utils import set_gres_string\n\
             class Resources(dict):\n    __getattr__ = dict.__getitem__\n\
             print(set_gres_string(SimpleNamespace(resources=Resources(gpu=1, mem_mb=48000))))",
        ]),
        "the SLURM plugin's GPU arguments",
    );
    assert_eq!(rendered.trim(), "--gpus=1");
}

fn kill_group(pid: u32) {
    let status = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .status()
        .unwrap();
    assert!(status.success(), "kill -KILL -{pid}: {status}");
}

fn modified(path: &Path) -> (SystemTime, u64) {
    let meta = fs::metadata(path).unwrap();
    (meta.modified().unwrap(), meta.len())
}

/// Killed (the whole process group, SIGKILL) after some embed jobs finished, unlocked and
/// run again: the second run runs exactly the jobs the first did not finish. Here with
/// `keep_features: true`, so the finished jobs' files can be seen untouched at the end.
#[test]
fn killed_run_resumes_with_only_unfinished_jobs() {
    killed_run_resumes(&Workspace::keeping_features());
}

/// The same with the default temporary feature files: the feature files the killed run
/// left (merge had not read them yet) are used as they are, then removed.
#[test]
fn killed_run_resumes_with_temporary_feature_files() {
    killed_run_resumes(&Workspace::new());
}

fn killed_run_resumes(ws: &Workspace) {
    let keep_features = fs::read_to_string(ws.path().join("config.yaml"))
        .unwrap()
        .contains("keep_features: true");
    let log_path = ws.path().join("first-run.log");
    let log = fs::File::create(&log_path).unwrap();
    let mut first = ws
        .snakemake("local", &["--cores", "2"])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .process_group(0)
        .spawn()
        .unwrap();
    // Kill once three embed jobs have finished and the next job has been started.
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        assert!(
            Instant::now() < deadline,
            "no progress: see {}",
            log_path.display()
        );
        if let Some(status) = first.try_wait().unwrap() {
            panic!(
                "the workflow ended ({status}) before it could be killed:\n{}",
                fs::read_to_string(&log_path).unwrap()
            );
        }
        let text = fs::read_to_string(&log_path).unwrap();
        let third = text.match_indices("(Rule: embed_").nth(2).map(|(at, _)| at);
        if third.is_some_and(|at| !jobs_started(&text[at..]).is_empty()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    kill_group(first.id());
    first.wait().unwrap();
    let first_log = fs::read_to_string(&log_path).unwrap();
    let first_jobs = jobs_started(&first_log);
    let finished_ids = jobs_finished(&first_log);
    let finished: BTreeSet<Job> = first_jobs
        .iter()
        .filter(|(_, id, _)| id.is_some_and(|id| finished_ids.contains(&id)))
        .map(|(job, _, _)| job.clone())
        .collect();
    // The feature files of the finished embed jobs, as they were.
    let features: BTreeMap<PathBuf, (SystemTime, u64)> = finished
        .iter()
        .filter(|(rule, _)| rule.starts_with("embed_"))
        .map(|(_, output)| {
            let path = PathBuf::from(output);
            let m = modified(&path);
            (path, m)
        })
        .collect();
    assert!(
        features.len() >= 3,
        "{} finished embed jobs",
        features.len()
    );

    // A killed Snakemake leaves its lock; --unlock is the documented way out.
    run(
        ws.snakemake("local", &["--unlock"]).stdin(Stdio::null()),
        "snakemake --unlock",
    );
    let second_log = run(
        ws.snakemake("local", &["--cores", "2"])
            .stdin(Stdio::null()),
        "the second run",
    );
    let second: BTreeSet<Job> = jobs_started(&second_log)
        .into_iter()
        .map(|(job, _, _)| job)
        .collect();

    let again: Vec<&Job> = second.intersection(&finished).collect();
    assert!(again.is_empty(), "finished jobs ran again: {again:?}");
    // Every job of the workflow ran to the end in one of the two runs.
    let shards: usize = SAMPLES.iter().map(|s| ws.shards(s)).sum();
    let all: BTreeSet<&Job> = finished.iter().chain(&second).collect();
    let count = |rule: &str| all.iter().filter(|j| j.0 == rule).count();
    for (rule, expected) in [
        ("prepare", SAMPLES.len()),
        ("embed_dnabert", shards),
        ("embed_esm", shards),
        ("merge", SAMPLES.len()),
        ("classify", SAMPLES.len()),
        ("summarize", 1),
    ] {
        assert_eq!(count(rule), expected, "{rule} jobs over both runs: {all:?}");
    }
    // And the files of finished jobs were left alone: kept as they were, or (temporary)
    // read by merge as they were and only then removed.
    for (path, before) in &features {
        if keep_features {
            assert_eq!(&modified(path), before, "{} was rewritten", path.display());
        } else {
            let removed = format!("Removing temporary output {}.", path.display());
            assert_eq!(
                second_log.matches(&removed).count(),
                1,
                "{} not removed once by the second run:\n{second_log}",
                path.display()
            );
            assert!(!path.exists(), "{} is left", path.display());
        }
    }
    if keep_features {
        assert_eq!(ws.safetensors_files(), ws.expected_feature_files());
    } else {
        let left = ws.files_of_features();
        assert!(
            left.is_empty(),
            "feature files left after the run: {left:?}"
        );
    }
    assert!(
        second.iter().any(|j| j.0.starts_with("embed_")),
        "the second run had embed jobs left to do"
    );
    eprintln!(
        "first run: {} jobs finished; second run: {} jobs ({} of {} feature files were there)",
        finished.len(),
        second.len(),
        features.len(),
        2 * shards
    );
    // The resumed run's reports are those of an uninterrupted one (same bytes as predict
    // is checked above); here, every report is there.
    for sample in SAMPLES {
        for report in REPORTS {
            assert!(ws.results().join(sample).join(report).is_file());
        }
    }
}

/// A job that fails is reported as that job, with its log; the other sample goes on to
/// its reports (`keep-going` in the profile), and the summary, which needs both, is not made.
#[test]
fn a_failed_job_is_reported_with_its_log_and_the_others_go_on() {
    let ws = Workspace::new();
    fs::write(ws.input("beta").join("part2.fasta"), "not a FASTA file\n").unwrap();
    let (status, text) = output(
        ws.snakemake("local", &["--cores", "2"])
            .stdin(Stdio::null()),
        "snakemake with a bad sample",
    );
    assert!(!status.success(), "{text}");
    let error = text
        .find("Error in rule prepare:")
        .unwrap_or_else(|| panic!("no failed prepare job reported:\n{text}"));
    let report = &text[error..];
    assert!(report.contains("results/beta/prepared"), "{report}");
    assert!(report.contains("part2.fasta: not a FASTA file"), "{report}");
    for report in REPORTS {
        assert!(
            ws.results().join("alpha").join(report).is_file(),
            "alpha/{report}"
        );
        assert!(
            !ws.results().join("beta").join(report).exists(),
            "beta/{report}"
        );
    }
    assert!(!ws.results().join("summary.tsv").exists());
}
