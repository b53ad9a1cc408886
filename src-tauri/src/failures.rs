//! A run's `failures.tsv`, grouped by kind for the failures screen: what failed, which
//! files are involved, and what to do about each kind.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use virnucpro_core::atomic::write_atomic;
use virnucpro_core::events::{FailureKind, Stage};
use virnucpro_core::features::FeatureKind;
use virnucpro_core::prepare::{shard_file_name, NUCLEOTIDE_DIR, PROTEIN_DIR};
use virnucpro_core::run_folder::{self, RunLayout};
use virnucpro_core::tsv::record;

use crate::api::{FailureEntry, FailureGroup, SetAside};
use crate::error::{CommandError, CommandResult};

/// What to do about a failure of `kind`.
pub fn suggestion(kind: FailureKind) -> &'static str {
    match kind {
        FailureKind::Corrupt => "A file holds values that cannot be used (a model or device fault, or a file damaged on disk). Use Set aside and retry: the files listed are moved to set-aside/ and computed again.",
        FailureKind::IdMismatch => "The nucleotide and protein features of this shard do not belong together. Use Set aside and retry: the files listed are moved to set-aside/ and computed again.",
        FailureKind::DimensionMismatch | FailureKind::UnsupportedDtype => "The features were made by other models or another tool. Use Set aside and retry (the files listed are moved to set-aside/ and computed again), or start over.",
        FailureKind::MissingInput => "A feature file of this shard is missing. Use Retry failed: it is computed again.",
        FailureKind::AmbiguousInput => "More than one feature file claims this shard. Remove the stray copies from features/, then use Retry failed.",
        FailureKind::Unreadable => "A file could not be read. Check that the disk is mounted and the file readable, then use Retry failed.",
        FailureKind::Write | FailureKind::OutputWrite => "A result could not be written. Free disk space or fix the output folder's permissions, then use Retry failed.",
        FailureKind::BadRecord => "A sequence the model cannot take (unknown characters, empty, or a duplicate ID). Fix or remove that read in the input and run again.",
        FailureKind::OutOfMemory => "A sequence does not fit in the device's memory. Lower the batch tokens, choose a GPU with more memory, or run on the CPU.",
        FailureKind::Model => "The model failed on this shard. Check the model files with Check model, then use Retry failed.",
        FailureKind::Cancelled => "The run was stopped. Run it again to resume.",
    }
}

/// Folder (in the run folder) where `set_aside_damaged` moves files.
pub const SET_ASIDE_DIR: &str = "set-aside";

/// Move the files of the damaged failures (see [`FailureKind::is_damaged`]) that the run made
/// (under `features/`, `merged/` and `scores/`) into `set-aside/{UTC time}/`, keeping their
/// folder, so that a retry computes them again. Moved, not deleted: a damaged file can still be
/// looked at. Files already gone are skipped.
pub fn set_aside_damaged(out_dir: &Path) -> CommandResult<SetAside> {
    let layout = RunLayout::new(out_dir);
    let stamp = crate::timestamp::now().replace(':', "-");
    let folder = out_dir.join(SET_ASIDE_DIR).join(stamp);
    let mut moved = Vec::new();
    let made_by_run = [layout.features(), layout.merged(), layout.scores()];
    let files = read_failures(out_dir)?
        .into_iter()
        .filter(|e| e.damaged)
        .flat_map(|e| e.files);
    for file in files {
        let Some(dir) = made_by_run
            .iter()
            .find(|d| file.parent() == Some(d.as_path()))
        else {
            continue;
        };
        if !file.is_file() || moved.contains(&file) {
            continue;
        }
        let (Some(dir_name), Some(name)) = (dir.file_name(), file.file_name()) else {
            continue;
        };
        let dest_dir = folder.join(dir_name);
        std::fs::create_dir_all(&dest_dir).map_err(CommandError::io_at(&dest_dir))?;
        std::fs::rename(&file, dest_dir.join(name)).map_err(CommandError::io_at(&file))?;
        tracing::info!("set aside {}", file.display());
        moved.push(file);
    }
    Ok(SetAside { moved, folder })
}

/// Whether the run in `layout` wrote feature and merged files: the engine makes `features/`
/// and `merged/` only for a run that keeps them (`keep_features`; versions before the
/// setting always did). Without them a shard's embeddings and merged rows were in memory
/// and name no file.
fn kept_features(layout: &RunLayout) -> bool {
    layout.features().is_dir() || layout.merged().is_dir()
}

/// The files of a shard that a failure in `stage` is about; `kept`: the run kept its
/// feature files ([`kept_features`]). Classify reads the merged rows (or, resuming, the
/// shard's scores file) and writes the scores file.
fn files_of(layout: &RunLayout, stage: Stage, item: &str, kept: bool) -> Vec<PathBuf> {
    let prepared = |protein: bool| {
        let index = item.strip_prefix("output_")?.parse::<usize>().ok()?;
        let dir = if protein { PROTEIN_DIR } else { NUCLEOTIDE_DIR };
        Some(
            layout
                .prepared()
                .join(dir)
                .join(shard_file_name(index, protein)),
        )
    };
    let feature = |kinds: &[FeatureKind]| -> Vec<PathBuf> {
        if !kept {
            return Vec::new();
        }
        kinds
            .iter()
            .map(|&k| layout.feature_file(item, k))
            .collect()
    };
    let scores = layout.feature_file(item, FeatureKind::Scores);
    match stage {
        Stage::Prepare => Vec::new(),
        Stage::EmbedDna => prepared(false)
            .into_iter()
            .chain(feature(&[FeatureKind::Nucleotide]))
            .collect(),
        Stage::EmbedProtein => prepared(true)
            .into_iter()
            .chain(feature(&[FeatureKind::Protein]))
            .collect(),
        Stage::Merge => feature(&[FeatureKind::Nucleotide, FeatureKind::Protein]),
        Stage::Classify => feature(&[FeatureKind::Merged])
            .into_iter()
            .chain([scores])
            .collect(),
    }
}

/// The entries of `failures.tsv` in `out_dir` (core's reader), in file order. No file:
/// no failures yet. A stage or kind this version does not know is an error naming the
/// file and the line.
pub fn read_failures(out_dir: &Path) -> CommandResult<Vec<FailureEntry>> {
    let layout = RunLayout::new(out_dir);
    let path = layout.failures();
    if !path.exists() {
        return Ok(Vec::new());
    }
    let kept = kept_features(&layout);
    let entries = run_folder::read_failures(&path)?
        .into_iter()
        .map(|failure| FailureEntry {
            suggestion: suggestion(failure.kind).to_owned(),
            damaged: failure.kind.is_damaged(),
            files: files_of(&layout, failure.stage, &failure.item, kept),
            stage: failure.stage,
            item: failure.item,
            kind: failure.kind,
            message: failure.message,
        })
        .collect();
    Ok(entries)
}

/// Entries grouped by kind, the largest group first (ties by kind name).
pub fn group(entries: Vec<FailureEntry>) -> Vec<FailureGroup> {
    let mut by_kind: BTreeMap<&'static str, (FailureKind, Vec<FailureEntry>)> = BTreeMap::new();
    for entry in entries {
        let kind = entry.kind;
        by_kind
            .entry(kind.as_str())
            .or_insert((kind, Vec::new()))
            .1
            .push(entry);
    }
    let mut groups: Vec<FailureGroup> = by_kind
        .into_values()
        .map(|(kind, entries)| FailureGroup {
            kind,
            count: entries.len(),
            entries,
        })
        .collect();
    groups.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.kind.as_str().cmp(b.kind.as_str()))
    });
    groups
}

pub const EXPORT_HEADER: &str = "kind\tstage\titem\tmessage\tfiles\tsuggestion\n";

/// The grouped failures as one TSV (files separated by `; `), for a colleague or a ticket.
pub fn export(groups: &[FailureGroup], dest: &Path) -> CommandResult<()> {
    let mut out = String::from(EXPORT_HEADER);
    for entry in groups.iter().flat_map(|g| &g.entries) {
        let files: Vec<String> = entry
            .files
            .iter()
            .map(|f| f.display().to_string())
            .collect();
        out.push_str(&record([
            entry.kind.as_str(),
            entry.stage.as_str(),
            &entry.item,
            &entry.message,
            &files.join("; "),
            &entry.suggestion,
        ]));
    }
    write_atomic(dest, out.as_bytes()).map_err(CommandError::io_at(dest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use virnucpro_core::events::ItemFailure;
    use virnucpro_core::run_folder::failures::failures_tsv;
    use virnucpro_core::run_folder::FAILURES_HEADER;

    fn failure(stage: Stage, item: &str, kind: &str, message: &str) -> ItemFailure {
        ItemFailure {
            stage,
            item: item.into(),
            kind: kind.parse().unwrap(),
            message: message.into(),
        }
    }

    #[test]
    fn failures_are_grouped_by_kind_largest_first_with_files_and_advice() {
        let dir = tempfile::tempdir().unwrap();
        // A run that kept its feature files (`keep_features`).
        for kept in ["features", "merged"] {
            std::fs::create_dir(dir.path().join(kept)).unwrap();
        }
        let tsv = failures_tsv(&[
            failure(Stage::EmbedDna, "output_1", "bad_record", "x"),
            failure(
                Stage::Merge,
                "output_2",
                "corrupt",
                "non-finite\tvalue\nin row 3",
            ),
            failure(Stage::Merge, "output_5", "corrupt", "bad header \\ here"),
            failure(Stage::Classify, "output_7", "unreadable", "gone"),
            failure(Stage::EmbedProtein, "output_3", "out_of_memory", "too long"),
        ]);
        std::fs::write(dir.path().join("failures.tsv"), tsv).unwrap();
        let groups = group(read_failures(dir.path()).unwrap());
        let kinds: Vec<(&str, usize)> = groups.iter().map(|g| (g.kind.as_str(), g.count)).collect();
        assert_eq!(
            kinds,
            [
                ("corrupt", 2),
                ("bad_record", 1),
                ("out_of_memory", 1),
                ("unreadable", 1)
            ]
        );
        let corrupt = &groups[0].entries;
        assert_eq!(corrupt[0].item, "output_2");
        assert_eq!(
            corrupt[0].message, "non-finite\tvalue\nin row 3",
            "unescaped"
        );
        assert_eq!(corrupt[1].message, "bad header \\ here");
        assert_eq!(
            corrupt[0].files,
            [
                dir.path().join("features/output_2.nucleotide.safetensors"),
                dir.path().join("features/output_2.protein.safetensors")
            ]
        );
        assert!(corrupt[0].suggestion.contains("Set aside and retry"));
        assert!(corrupt[0].damaged);
        assert!(
            !groups[1].entries[0].damaged,
            "a bad record is not fixed by recomputing"
        );
        assert_eq!(
            groups[1].entries[0].files,
            [
                dir.path().join("prepared/nucleotide/output_1.fa"),
                dir.path().join("features/output_1.nucleotide.safetensors")
            ]
        );
        assert_eq!(
            groups[2].entries[0].files[0],
            dir.path().join("prepared/protein/output_3.faa")
        );
        assert_eq!(
            groups[3].entries[0].files,
            [
                dir.path().join("merged/output_7.merged.safetensors"),
                dir.path().join("scores/output_7.scores.safetensors")
            ]
        );
        assert!(groups.iter().all(|g| !g.entries[0].suggestion.is_empty()));

        let dest = dir.path().join("export.tsv");
        export(&groups, &dest).unwrap();
        let exported = std::fs::read_to_string(&dest).unwrap();
        let lines: Vec<&str> = exported.lines().collect();
        assert_eq!(lines.len(), 6);
        assert_eq!(format!("{}\n", lines[0]), EXPORT_HEADER);
        assert!(lines[1].starts_with("corrupt\tmerge\toutput_2\tnon-finite\\tvalue\\nin row 3\t"));
        assert!(lines.iter().all(|l| l.split('\t').count() == 6));
    }

    #[test]
    fn damaged_files_made_by_the_run_are_set_aside_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let layout = RunLayout::new(dir.path());
        for d in [layout.features(), layout.prepared().join("protein")] {
            std::fs::create_dir_all(d).unwrap();
        }
        let nucleotide = layout.feature_file("output_2", FeatureKind::Nucleotide);
        let protein = layout.feature_file("output_2", FeatureKind::Protein);
        let oom_input = layout.prepared().join("protein/output_3.faa");
        for f in [&nucleotide, &protein, &oom_input] {
            std::fs::write(f, b"x").unwrap();
        }
        let tsv = failures_tsv(&[
            failure(Stage::Merge, "output_2", "corrupt", "non-finite"),
            failure(Stage::EmbedProtein, "output_3", "out_of_memory", "too long"),
        ]);
        std::fs::write(layout.failures(), tsv).unwrap();
        let set = set_aside_damaged(dir.path()).unwrap();
        assert_eq!(set.moved, [nucleotide.clone(), protein.clone()]);
        assert!(set.folder.starts_with(dir.path().join(SET_ASIDE_DIR)));
        assert!(!nucleotide.exists() && !protein.exists());
        assert!(set
            .folder
            .join("features/output_2.protein.safetensors")
            .is_file());
        assert!(oom_input.exists(), "prepare's inputs are never moved");
    }

    /// A run that kept no feature files (no `features/`, `merged/`): its failures name only
    /// the files it had, the prepared shards and the scores files, and a scores file named by
    /// a damaged failure is set aside like the feature files.
    #[test]
    fn a_run_without_feature_files_names_its_scores_and_sets_them_aside() {
        let dir = tempfile::tempdir().unwrap();
        let layout = RunLayout::new(dir.path());
        std::fs::create_dir_all(layout.scores()).unwrap();
        let scores = layout.feature_file("output_4", FeatureKind::Scores);
        let other = layout.feature_file("output_5", FeatureKind::Scores);
        for f in [&scores, &other] {
            std::fs::write(f, b"x").unwrap();
        }
        let tsv = failures_tsv(&[
            failure(Stage::EmbedDna, "output_1", "bad_record", "x"),
            failure(Stage::Merge, "output_2", "id_mismatch", "ids differ"),
            failure(Stage::Classify, "output_4", "corrupt", "non-finite"),
        ]);
        std::fs::write(layout.failures(), tsv).unwrap();
        let files: Vec<Vec<PathBuf>> = read_failures(dir.path())
            .unwrap()
            .into_iter()
            .map(|e| e.files)
            .collect();
        assert_eq!(
            files,
            [
                vec![layout.prepared().join("nucleotide/output_1.fa")],
                vec![],
                vec![scores.clone()],
            ],
            "in memory: no feature or merged file"
        );

        let set = set_aside_damaged(dir.path()).unwrap();
        assert_eq!(set.moved, std::slice::from_ref(&scores));
        assert!(!scores.exists());
        assert!(set
            .folder
            .join("scores/output_4.scores.safetensors")
            .is_file());
        assert!(other.is_file(), "only the files a damaged failure names");
    }

    #[test]
    fn no_file_is_no_failures_and_a_foreign_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_failures(dir.path()).unwrap(), []);
        std::fs::write(dir.path().join("failures.tsv"), "a\tb\n").unwrap();
        let err = read_failures(dir.path()).unwrap_err();
        assert_eq!(err.kind, crate::error::ErrorKind::Invalid);
        assert!(err.message.contains("unexpected header"), "{}", err.message);
        std::fs::write(
            dir.path().join("failures.tsv"),
            format!("{FAILURES_HEADER}merge\toutput_1\tcorrupt\n"),
        )
        .unwrap();
        assert!(read_failures(dir.path())
            .unwrap_err()
            .message
            .contains("line 2"));
    }

    /// A kind this version does not know is not given the generic advice: the file is
    /// refused, naming the line and the value.
    #[test]
    fn an_unknown_failure_kind_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("failures.tsv"),
            format!("{FAILURES_HEADER}merge\toutput_1\texploded\tboom\n"),
        )
        .unwrap();
        let err = read_failures(dir.path()).unwrap_err();
        assert_eq!(err.kind, crate::error::ErrorKind::Invalid);
        assert!(
            err.message.contains("failures.tsv: line 2: kind: ")
                && err.message.contains("exploded"),
            "{}",
            err.message
        );
    }
}
