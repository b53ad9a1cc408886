// The payloads of docs/desktop-api.md. The IPC types are GENERATED from the Rust types
// (src-tauri/src/api.rs and the core and models types it carries, with their serde
// attributes) into ./generated/ by `make ipc-types`; a cargo test
// (src-tauri/tests/ipc_types.rs) fails when those files drift from the Rust types. Do not
// edit ./generated/ by hand: change the Rust type and regenerate. This file re-exports them
// under the names the UI uses and holds the few UI-side types that have no Rust twin.

export type { CacheRoots } from './generated/CacheRoots';
export type { CatalogueRole } from './generated/CatalogueRole';
export type { Comparison } from './generated/Comparison';
export type { ComparisonWarning } from './generated/ComparisonWarning';
export type { ComparedRun } from './generated/ComparedRun';
export type { ReportComparison } from './generated/ReportComparison';
export type { FeatureComparison } from './generated/FeatureComparison';
export type { Disagreement } from './generated/Disagreement';
export type { CommandErrorKind } from './generated/CommandErrorKind';
export type { CommandErrorPayload } from './generated/CommandErrorPayload';
export type { DeviceId } from './generated/DeviceId';
export type { DeviceInfo } from './generated/DeviceInfo';
export type { DriverCheck } from './generated/DriverCheck';
export type { FailureEntry } from './generated/FailureEntry';
export type { FailureGroup } from './generated/FailureGroup';
export type { FailureKind } from './generated/FailureKind';
export type { FastaFile } from './generated/FastaFile';
export type { FetchEvent } from './generated/FetchEvent';
export type { Field } from './generated/Field';
export type { FieldProblem } from './generated/FieldProblem';
export type { FileFilter } from './generated/FileFilter';
export type { FileState } from './generated/FileState';
export type { FileStatus } from './generated/FileStatus';
export type { FrameRow } from './generated/FrameRow';
export type { GpuRuntimeState } from './generated/GpuRuntimeState';
export type { GpuRuntimeStatus } from './generated/GpuRuntimeStatus';
export type { ImportedFile } from './generated/ImportedFile';
export type { ImportReport } from './generated/ImportReport';
export type { InputScan } from './generated/InputScan';
export type { InstalledModels } from './generated/InstalledModels';
export type { ItemCounts } from './generated/ItemCounts';
export type { ItemFailure } from './generated/ItemFailure';
export type { ListedPreset } from './generated/ListedPreset';
export type { LogLevel } from './generated/LogLevel';
export type { ModelCheck } from './generated/ModelCheck';
export type { ModelJob } from './generated/ModelJob';
export type { ModelKind } from './generated/ModelKind';
export type { ModelList } from './generated/ModelList';
export type { ModelState } from './generated/ModelState';
export type { ModelStatus } from './generated/ModelStatus';
export type { PairMode } from './generated/PairMode';
export type { Precision } from './generated/Precision';
export type { Preset } from './generated/Preset';
export type { ReadRow } from './generated/ReadRow';
export type { ReportsState } from './generated/ReportsState';
export type { ReportsStatus } from './generated/ReportsStatus';
export type { RestartReason } from './generated/RestartReason';
export type { Results } from './generated/Results';
export type { ResumeInfo } from './generated/ResumeInfo';
export type { RunResult } from './generated/RunResult';
export type { RunSettings } from './generated/RunSettings';
export type { RunStatus } from './generated/RunStatus';
export type { RunSummary } from './generated/RunSummary';
export type { RuntimeStatus } from './generated/RuntimeStatus';
export type { SampleResult } from './generated/SampleResult';
export type { SampleResume } from './generated/SampleResume';
export type { SampleRow } from './generated/SampleRow';
export type { SampleSettings } from './generated/SampleSettings';
export type { SamplesTable } from './generated/SamplesTable';
export type { SetAside } from './generated/SetAside';
export type { SettingsCheck } from './generated/SettingsCheck';
export type { Stage } from './generated/Stage';
export type { StageAction } from './generated/StageAction';
export type { StageOutcome } from './generated/StageOutcome';
export type { StagePlan } from './generated/StagePlan';
export type { SystemInfo } from './generated/SystemInfo';
/** What the run's Channel carries: the engine's events (`EngineEvent`) plus the shell's
 *  `log` event (Rust `ShellEvent`). */
export type { ShellEvent as RunEvent } from './generated/ShellEvent';
/** The engine's own run events (`virnucpro_core::events::RunEvent`). */
export type { RunEvent as EngineEvent } from './generated/RunEvent';

import type { Stage } from './generated/Stage';

/** The read lengths a classifier is trained for: the values the setup screen offers for
 *  `RunSettings.length` (the shell takes any number and reports the others as a problem). */
export type ChunkLength = 300 | 500;

/** The stages in the order they start (`Stage::ALL`). */
export const STAGES: readonly Stage[] = ['prepare', 'embed_dna', 'embed_protein', 'merge', 'classify'];
