// Made-up but self-consistent results: frames with scores, and the per-read summary and
// histogram derived from them by the rules of read_summary.tsv and the highest-score report.
import type { FailureGroup, FrameRow, Precision, ReadRow, ReportsStatus, Results } from '../types';

/** A small seeded generator, so the same folder always shows the same results. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seedOf(text: string): number {
  let hash = 2166136261;
  for (let i = 0; i < text.length; i += 1) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619);
  return hash >>> 0;
}

const FRAMES = ['F1', 'F2', 'F3', 'R1', 'R2', 'R3'];
// float32 scores print with about 8 significant digits; keep the mock's the same.
const f32 = (x: number) => Math.fround(x);

function readFrames(readId: string, chunks: number, virusLike: boolean, random: () => number): FrameRow[] {
  const frames: FrameRow[] = [];
  for (let chunk = 1; chunk <= chunks; chunk += 1) {
    // Frames with a stop codon are dropped by prepare: 0 to 3 frames survive per chunk.
    const kept = FRAMES.filter(() => random() < 0.3);
    const viralChunk = virusLike && random() < 0.75;
    for (const frame of kept) {
      const virus = f32(viralChunk ? 0.55 + random() * 0.4499 : random() ** 3 * 0.6);
      frames.push({
        sequence_id: `${readId}_chunk_${chunk}${frame}`,
        read_id: readId,
        chunk,
        frame,
        prediction: virus > 1 - virus ? 'virus' : 'others',
        score_other: f32(1 - virus),
        score_virus: virus,
      });
    }
  }
  return frames;
}

export function summarise(readId: string, chunks: number, frames: FrameRow[]): ReadRow {
  let virusChunks = 0;
  for (let chunk = 1; chunk <= chunks; chunk += 1) {
    const own = frames.filter((f) => f.chunk === chunk);
    if (own.length === 0) continue;
    if (Math.max(...own.map((f) => f.score_virus)) >= Math.max(...own.map((f) => f.score_other))) virusChunks += 1;
  }
  const best = frames.length === 0 ? null : Math.max(...frames.map((f) => f.score_virus));
  return {
    read_id: readId,
    chunks,
    frames: frames.length,
    virus_chunks: virusChunks,
    best_virus_score: best,
    call: frames.length === 0 ? 'none' : virusChunks > 0 ? 'virus' : 'non-virus',
  };
}

export function histogramOf(reads: ReadRow[]): Results['histogram'] {
  const bins = 20;
  const counts = new Array<number>(bins).fill(0);
  for (const read of reads) {
    if (read.best_virus_score === null) continue;
    const bin = Math.min(bins - 1, Math.floor(read.best_virus_score * bins));
    counts[bin] = (counts[bin] ?? 0) + 1;
  }
  return { edges: Array.from({ length: bins + 1 }, (_, i) => i / bins), counts };
}

/** A folder's results as the mock holds them: what `load_results` answers, and every
 * read's frames for `load_read_frames`. */
export interface MockResults {
  results: Results;
  frames: Map<string, FrameRow[]>;
}

/** `demoModels`: the run used a Demo preset model (the shell's rule: src-tauri/src/demo.rs). */
export function makeResults(outDir: string, readCount: number, demoModels = false): MockResults {
  const random = seededRandom(seedOf(outDir));
  const reads: ReadRow[] = [];
  const frames = new Map<string, FrameRow[]>();
  let framesScored = 0;
  for (let i = 1; i <= readCount; i += 1) {
    const readId = `read_${Math.floor(random() * 90) + 10}_${i}`;
    const chunks = 1 + Math.floor(random() * 5);
    const own = readFrames(readId, chunks, random() < 0.18, random);
    frames.set(readId, own);
    framesScored += own.length;
    reads.push(summarise(readId, chunks, own));
  }
  const reports: ReportsStatus = { state: 'complete', partial_files: [], last_run: 'ok' };
  return {
    results: { out_dir: outDir, reports, reads, frames_scored: framesScored, histogram: histogramOf(reads), demo_models: demoModels, pair_summary: null },
    frames,
  };
}

/** Failures of two kinds, as the merge stage reports them. As the shell lists their files
 *  (src-tauri/src/failures.rs `files_of`): a run that kept no feature files merged in
 *  memory, so its merge failures name no file. */
export function makeFailures(outDir: string, keepFeatures: boolean): FailureGroup[] {
  const feature = (shard: string, side: string) => (keepFeatures ? [`${outDir}/features/${shard}.${side}.safetensors`] : []);
  const corruptFix = 'A file holds values that cannot be used. Use Set aside and retry: the files listed are moved to set-aside/ and computed again.';
  return [
    {
      kind: 'corrupt',
      count: 2,
      entries: ['output_2', 'output_5'].map((shard, i) => ({
        stage: 'merge',
        item: shard,
        kind: 'corrupt',
        message: i === 0 ? 'truncated: the header says 3,328 columns but the data ends at row 812' : 'NaN in row 17 (read_44_3_chunk_1F1), column 2,051',
        files: [...feature(shard, 'nucleotide'), ...feature(shard, 'protein')],
        suggestion: corruptFix,
        damaged: true,
      })),
    },
    {
      kind: 'missing_input',
      count: 1,
      entries: [
        {
          stage: 'merge',
          item: 'output_7',
          kind: 'missing_input',
          message: 'the protein features of output_7 are missing',
          files: feature('output_7', 'nucleotide'),
          suggestion: 'The ESM-2 stage did not write this shard: resume to compute it.',
          damaged: false,
        },
      ],
    },
  ];
}

/** How far a score or feature value of a run at each precision strays from the exact one
 *  in the mock (bf16 keeps 8 bits of mantissa, fp16 11, fp32 24). */
export const PRECISION_NOISE: Record<Precision, number> = { fp32: 1e-6, fp16: 1e-3, bf16: 4e-3 };

/** The same reads as `base` run again with other arithmetic (`precision`, another
 *  device): every frame's virus score moved by up to ±PRECISION_NOISE (seeded by
 *  `outDir`) and the first `flips` frames between 0.3 and 0.7 moved across 0.5, so their
 *  labels differ; the read summary follows from the frames as the run writes it. */
export function makeVariant(base: MockResults, outDir: string, precision: Precision, flips: number): MockResults {
  const random = seededRandom(seedOf(outDir));
  let flipped = 0;
  const frames = new Map<string, FrameRow[]>();
  const reads: ReadRow[] = [];
  for (const read of base.results.reads) {
    const own = (base.frames.get(read.read_id) ?? []).map((frame): FrameRow => {
      let virus = Math.min(1, Math.max(0, frame.score_virus + (random() - 0.5) * 2 * PRECISION_NOISE[precision]));
      if (flipped < flips && Math.abs(frame.score_virus - 0.5) < 0.2) {
        flipped += 1;
        virus = 1 - frame.score_virus;
      }
      virus = f32(virus);
      return { ...frame, score_virus: virus, score_other: f32(1 - virus), prediction: virus > 1 - virus ? 'virus' : 'others' };
    });
    frames.set(read.read_id, own);
    reads.push(summarise(read.read_id, read.chunks, own));
  }
  const framesScored = [...frames.values()].reduce((sum, own) => sum + own.length, 0);
  return {
    results: { ...base.results, out_dir: outDir, reads, frames_scored: framesScored, histogram: histogramOf(reads) },
    frames,
  };
}
