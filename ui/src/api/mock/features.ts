// The feature rows of a mock run that kept its feature files (--keep-features), for
// compare_runs: each frame's DNABERT-S and ESM-2 rows (small, seeded by the frame's ID, so
// every run of the same reads has the same exact rows) as the run's precision computed
// them (the exact values plus noise of PRECISION_NOISE, seeded by the run's folder), and
// the merged row of both. Compared as core::compare::features compares them.
import type { FeatureComparison, Precision } from '../types';
import { PRECISION_NOISE, seededRandom, seedOf, type MockResults } from './results';

/** Values per row in the mock (DNABERT-S has 768, ESM-2 2560, merged 3328). */
const DIM = 8;
export const FEATURE_KINDS = ['nucleotide', 'protein', 'merged'] as const;
type Kind = (typeof FEATURE_KINDS)[number];

export interface FeatureRun {
  path: string;
  precision: Precision;
  results: MockResults;
}

function encoderRow(run: FeatureRun, kind: 'nucleotide' | 'protein', id: string): number[] {
  const exact = seededRandom(seedOf(`${kind}:${id}`));
  const noise = seededRandom(seedOf(`${run.path}:${kind}:${id}`));
  const scale = PRECISION_NOISE[run.precision];
  return Array.from({ length: DIM }, () => Math.fround(exact() * 2 - 1 + (noise() - 0.5) * 2 * scale));
}

function rowOf(run: FeatureRun, kind: Kind, id: string): number[] {
  if (kind === 'merged') return [...encoderRow(run, 'nucleotide', id), ...encoderRow(run, 'protein', id)];
  return encoderRow(run, kind, id);
}

const cosine = (x: number[], y: number[]) => {
  let [dot, xx, yy] = [0, 0, 0];
  x.forEach((v, i) => {
    const w = y[i] ?? 0;
    dot += v * w;
    xx += v * v;
    yy += w * w;
  });
  return dot / Math.sqrt(xx * yy);
};

/** One kind of both runs' rows, matched by frame ID within their one shard, output_1. */
export function compareFeatures(kind: Kind, a: FeatureRun, b: FeatureRun): FeatureComparison {
  const ids = (run: FeatureRun) => [...run.results.frames.values()].flat().map((f) => f.sequence_id);
  const inA = new Set(ids(a));
  const matched = ids(b).filter((id) => inA.has(id));
  let [maxDiff, maxId, minCos, minId, sumCos] = [0, '', Infinity, '', 0];
  for (const id of matched) {
    const [x, y] = [rowOf(a, kind, id), rowOf(b, kind, id)];
    const diff = Math.max(...x.map((v, i) => Math.abs(v - (y[i] ?? 0))));
    const cos = cosine(x, y);
    if (diff > maxDiff || maxId === '') [maxDiff, maxId] = [diff, id];
    if (cos < minCos) [minCos, minId] = [cos, id];
    sumCos += cos;
  }
  return {
    kind,
    shards: 1,
    shards_only_in_a: [],
    shards_only_in_b: [],
    dim: kind === 'merged' ? 2 * DIM : DIM,
    rows: matched.length,
    only_in_a: { count: 0, examples: [] },
    only_in_b: { count: 0, examples: [] },
    stats: matched.length === 0 ? null : { max_abs_diff: maxDiff, max_abs_diff_id: maxId, min_cosine: minCos, min_cosine_id: minId, mean_cosine: sumCos / matched.length },
  };
}
