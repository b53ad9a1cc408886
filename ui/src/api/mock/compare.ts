// compare_runs in the mock: two mock run folders compared as core::compare compares two
// run folders (crates/core/src/compare), from the rows the mock holds for each: frames
// (prediction_results.txt), chunks (the highest-score report) and reads (read_summary.tsv).
import type { ComparedRun, Comparison, ComparisonWarning, Disagreement, ReportComparison, RunSettings } from '../types';
import type { ReportKind } from '../generated/ReportKind';
import type { RunState } from '../generated/RunState';
import type { ReportsState } from '../generated/ReportsState';
import type { FeatureSkip } from '../generated/FeatureSkip';
import { compareFeatures, FEATURE_KINDS } from './features';
import { seedOf, type MockResults } from './results';

/** core::compare::DISAGREEMENT_EXAMPLES and ID_EXAMPLES. */
const DISAGREEMENT_EXAMPLES = 10;
const ID_EXAMPLES = 5;
/** The engine's default --shard-size (the mock's settings have no other). */
const SHARD_SIZE = 10_000;

/** A mock run folder as compare_runs sees it. */
export interface MockRun {
  path: string;
  state: string;
  reportsState: ReportsState;
  settings: RunSettings;
  results: MockResults;
}

/** A report's row: its ID, label and scores ([virus, others]). */
interface KeyedRow {
  id: string;
  label: string;
  scores: [number | null, number | null];
}

const FILES: Record<ReportKind, string> = {
  frames: 'prediction_results.txt',
  chunks: 'prediction_results_highestscore.csv',
  reads: 'read_summary.tsv',
};

function rowsOf(report: ReportKind, { results, frames }: MockResults): KeyedRow[] {
  const all = results.reads.flatMap((read) => frames.get(read.read_id) ?? []);
  if (report === 'frames') return all.map((f) => ({ id: f.sequence_id, label: f.prediction, scores: [f.score_virus, f.score_other] }));
  if (report === 'reads') return results.reads.map((r) => ({ id: r.read_id, label: r.call, scores: [r.best_virus_score, null] }));
  // As the highest-score report: a chunk is a virus when its best virus score is at least
  // its best other score; chunks without a frame have no row.
  const chunks = new Map<string, { virus: number; other: number }>();
  for (const f of all) {
    const id = `${f.read_id}_chunk_${f.chunk}`;
    const best = chunks.get(id) ?? { virus: -Infinity, other: -Infinity };
    chunks.set(id, { virus: Math.max(best.virus, f.score_virus), other: Math.max(best.other, f.score_other) });
  }
  return [...chunks].map(([id, best]) => ({ id, label: best.virus >= best.other ? 'True' : 'False', scores: [null, null] }));
}

const note = (ids: { count: number; examples: string[] }, id: string) => {
  ids.count += 1;
  if (ids.examples.length < ID_EXAMPLES) ids.examples.push(id);
};

/** One report of both runs, matched by ID, as core's Tally counts it. */
function compareReport(report: ReportKind, a: MockResults, b: MockResults): ReportComparison {
  const rowsA = rowsOf(report, a);
  const rowsB = rowsOf(report, b);
  const byId = new Map(rowsA.map((row) => [row.id, row]));
  const onlyInA = { count: 0, examples: [] as string[] };
  const onlyInB = { count: 0, examples: [] as string[] };
  const disagreements: Disagreement[] = [];
  let [matched, agree, scored, sum, max] = [0, 0, 0, 0, 0];
  let maxId: string | null = null;
  let identical = rowsA.length === rowsB.length;
  rowsB.forEach((rb, i) => {
    const ra = byId.get(rb.id);
    const same = rowsA[i];
    if (same === undefined || same.id !== rb.id || same.label !== rb.label || same.scores.some((s, k) => s !== rb.scores[k])) identical = false;
    if (ra === undefined) return note(onlyInB, rb.id);
    byId.delete(rb.id);
    matched += 1;
    if (ra.label === rb.label) agree += 1;
    else if (disagreements.length < DISAGREEMENT_EXAMPLES) disagreements.push({ id: rb.id, label_a: ra.label, label_b: rb.label, score_a: ra.scores[0], score_b: rb.scores[0] });
    const deltas = ra.scores.flatMap((s, k) => (s !== null && rb.scores[k] !== null ? [Math.abs(s - (rb.scores[k] as number))] : []));
    if (deltas.length === 0) return;
    const delta = Math.max(...deltas);
    scored += 1;
    sum += delta;
    if (maxId === null || delta > max) [max, maxId] = [delta, rb.id];
  });
  for (const row of byId.values()) note(onlyInA, row.id);
  const union = matched + onlyInA.count + onlyInB.count;
  return {
    report,
    file: FILES[report],
    rows_a: rowsA.length,
    rows_b: rowsB.length,
    matched,
    only_in_a: onlyInA,
    only_in_b: onlyInB,
    labels_agree: agree,
    agreement_percent: union === 0 ? 100 : (100 * agree) / union,
    scores: report === 'chunks' ? null : { rows: scored, max, max_id: maxId, mean: scored === 0 ? 0 : sum / scored },
    disagreements,
    identical,
  };
}

/** A made-up content hash of a weight file: the same file, the same hash. */
const hashOf = (path: string) => seedOf(path).toString(16).padStart(16, '0');
const baseName = (path: string) => path.split('/').filter(Boolean).pop() ?? path;

function comparedRun(run: MockRun): ComparedRun {
  const { settings } = run;
  const used = (kind: string, path: string) => ({ model_id: `${kind} ${baseName(path)} ${settings.precision}`, xxh3: [hashOf(path)] });
  return {
    path: run.path,
    kind: 'run',
    state: run.state as RunState,
    precision: settings.precision,
    devices: [...settings.devices],
    reports_state: run.reportsState,
    models: { dnabert: used('dnabert', settings.dnabert), esm: used('esm', settings.esm), classifier: used('classifier', settings.classifier) },
    length: settings.length,
    shard_size: SHARD_SIZE,
  };
}

/** As RunComparison::warnings, with the sentences of its Display. */
function warningsOf(a: ComparedRun, b: ComparedRun): ComparisonWarning[] {
  const warnings: ComparisonWarning[] = [];
  const roles = [
    ['DNABERT-S', 'dnabert'],
    ['ESM-2', 'esm'],
    ['classifier', 'classifier'],
  ] as const;
  for (const [model, key] of roles) {
    if (a.models !== null && b.models !== null && a.models[key].xxh3.join() !== b.models[key].xxh3.join()) {
      warnings.push({ warning: 'different_weights', model, message: `the runs used different ${model} weights` });
    }
  }
  if (a.length !== null && b.length !== null && a.length !== b.length) {
    warnings.push({ warning: 'different_length', a: a.length, b: b.length, message: `the runs cut reads into chunks of ${a.length} and ${b.length} bp: their rows are not the same` });
  }
  return warnings;
}

/** The feature kinds only one run kept (the other ran without --keep-features). */
function featureSkips(a: MockRun, b: MockRun): FeatureSkip[] {
  if (a.settings.keep_features === b.settings.keep_features) return [];
  const keptIn = a.settings.keep_features ? 'a' : 'b';
  return FEATURE_KINDS.map((kind) => ({ kind, kept_in: keptIn }));
}

const featureRun = (run: MockRun) => ({ path: run.path, precision: run.settings.precision, results: run.results });

export function compareMockRuns(a: MockRun, b: MockRun): Comparison {
  const [runA, runB] = [comparedRun(a), comparedRun(b)];
  return {
    a: runA,
    b: runB,
    warnings: warningsOf(runA, runB),
    reports: (['frames', 'chunks', 'reads'] as const).map((report) => compareReport(report, a.results, b.results)),
    reports_only_in_one: [],
    features: a.settings.keep_features && b.settings.keep_features ? FEATURE_KINDS.map((kind) => compareFeatures(kind, featureRun(a), featureRun(b))) : [],
    features_only_in_one: featureSkips(a, b),
  };
}
