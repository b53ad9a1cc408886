//! What each stage will do on this run, told to the user before any work starts.
//!
//! The plan is for people: which stages are redone and why. Correctness never rests on
//! it: every reused file is verified by checksums at the moment it is reused (prepare by
//! its stamp, feature files by their input checksum and model id, merged files by their
//! inputs' checksums).
use std::path::Path;

use crate::events::{Stage, StageAction, StagePlan};

use super::manifest::RunManifest;

/// The facts the plan is made from. `P` is the earlier prepare's record (the engine's
/// `PreparedRecord`); the plan only asks whether there is one.
pub struct PlanInput<'a, P> {
    /// `Err(reason)` when the earlier prepare cannot be reused.
    pub prepared: &'a Result<P, String>,
    pub previous: Option<&'a RunManifest>,
    pub dnabert_id: &'a str,
    pub esm_id: &'a str,
    pub classifier_id: &'a str,
    /// Earlier reports exist, intact, from the same classifier and settings.
    pub reports_reusable: bool,
    pub features_dir: &'a Path,
    pub merged_dir: &'a Path,
    /// Each shard's scores (`scores/`): what a run without `--keep-features` resumes from.
    pub scores_dir: &'a Path,
    pub keep_features: bool,
}

fn has_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some())
}

fn plan(stage: Stage, action: StageAction, reason: impl Into<String>) -> StagePlan {
    StagePlan {
        stage,
        action,
        reason: reason.into(),
    }
}

pub fn make_plan<P>(input: &PlanInput<P>) -> Vec<StagePlan> {
    let (prepare, prepare_redone) = prepare_plan(input);
    if !input.keep_features {
        let mut out = vec![prepare];
        out.extend(in_memory_plans(input, prepare_redone));
        out.push(classify_plan(input));
        return out;
    }
    let (embed, embed_redone) = embed_plans(input, prepare_redone);
    let mut out = vec![prepare];
    out.extend(embed);
    out.push(merge_plan(input, embed_redone));
    out.push(classify_plan(input));
    out
}

/// Prepare's line, and whether it redoes the shards.
fn prepare_plan<P>(input: &PlanInput<P>) -> (StagePlan, bool) {
    match input.prepared {
        Ok(_) => (
            plan(
                Stage::Prepare,
                StageAction::Resume,
                "kept: the reads and settings are those of the earlier run",
            ),
            false,
        ),
        Err(reason) => {
            let action = if input.previous.is_some() {
                StageAction::Redo
            } else {
                StageAction::Run
            };
            (plan(Stage::Prepare, action, reason.clone()), true)
        }
    }
}

/// The two embedding stages' lines, and whether either redoes embeddings.
fn embed_plans<P>(input: &PlanInput<P>, prepare_redone: bool) -> (Vec<StagePlan>, bool) {
    let previous_models = input.previous.map(|m| &m.models);
    let mut embed_redone = false;
    let mut out = Vec::new();
    for (stage, dir_has, now, before, name) in [
        (
            Stage::EmbedDna,
            has_files(input.features_dir),
            input.dnabert_id,
            previous_models.map(|m| m.dnabert.model_id.as_str()),
            "DNABERT-S",
        ),
        (
            Stage::EmbedProtein,
            has_files(input.features_dir),
            input.esm_id,
            previous_models.map(|m| m.esm.model_id.as_str()),
            "ESM-2",
        ),
    ] {
        let p = if before.is_some_and(|b| b != now) {
            embed_redone = true;
            plan(
                stage,
                StageAction::Redo,
                format!("the {name} weights or precision changed"),
            )
        } else if prepare_redone && dir_has {
            embed_redone = true;
            plan(
                stage,
                StageAction::Redo,
                "reads that changed are embedded again",
            )
        } else if dir_has {
            plan(
                stage,
                StageAction::Resume,
                "embeddings made earlier (checked) are kept; the rest are made",
            )
        } else {
            plan(stage, StageAction::Run, "no embeddings made yet")
        };
        out.push(p);
    }
    (out, embed_redone)
}

fn merge_plan<P>(input: &PlanInput<P>, embed_redone: bool) -> StagePlan {
    if embed_redone && has_files(input.merged_dir) {
        plan(
            Stage::Merge,
            StageAction::Redo,
            "features that changed are merged again",
        )
    } else if has_files(input.merged_dir) {
        plan(
            Stage::Merge,
            StageAction::Resume,
            "features merged earlier (checked) are kept; the rest are merged",
        )
    } else {
        plan(Stage::Merge, StageAction::Run, "nothing merged yet")
    }
}

/// The embedding and merge lines of a run that keeps its features in memory: a part of
/// the reads is either reused whole, from its scores, or embedded and merged again.
fn in_memory_plans<P>(input: &PlanInput<P>, prepare_redone: bool) -> Vec<StagePlan> {
    let previous_models = input.previous.map(|m| &m.models);
    let changed = previous_models
        .is_some_and(|m| m.dnabert.model_id != input.dnabert_id || m.esm.model_id != input.esm_id);
    let resumed = if !has_files(input.scores_dir) {
        None
    } else if changed {
        Some((
            StageAction::Redo,
            "the DNABERT-S or ESM-2 weights or precision changed",
        ))
    } else if prepare_redone {
        Some((
            StageAction::Resume,
            "reads that did not change keep their scores (checked); the rest are redone",
        ))
    } else {
        Some((
            StageAction::Resume,
            "reads scored earlier (checked) are kept; the rest are done in memory",
        ))
    };
    [Stage::EmbedDna, Stage::EmbedProtein, Stage::Merge]
        .map(|stage| match resumed {
            Some((action, reason)) => plan(stage, action, reason),
            None if stage == Stage::Merge => plan(
                stage,
                StageAction::Run,
                "nothing merged yet; merged in memory",
            ),
            None => plan(
                stage,
                StageAction::Run,
                "no embeddings made yet; they stay in memory (--keep-features keeps them)",
            ),
        })
        .into()
}

fn classify_plan<P>(input: &PlanInput<P>) -> StagePlan {
    let classifier_changed = input
        .previous
        .is_some_and(|m| m.models.classifier.model_id != input.classifier_id);
    if classifier_changed {
        plan(Stage::Classify, StageAction::Redo, "the classifier changed")
    } else if input.reports_reusable {
        plan(
            Stage::Classify,
            StageAction::Resume,
            "the earlier reports are kept if nothing they were made from changed",
        )
    } else {
        plan(
            Stage::Classify,
            StageAction::Run,
            "no reports from this classifier and these settings yet",
        )
    }
}
