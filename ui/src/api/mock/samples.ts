// Runs of samples in the mock, as the shell runs them (src-tauri/src/run.rs over the
// engine's run_samples): each sample an ordinary run in `out/NAME/` opened by
// sample_started and ended by its own run_finished, one after the other, a cancel stopping
// before the next sample; then `out/summary.tsv` from the samples' read summaries.
import type { InputScan, RunEvent, RunResult, RunSettings, RunSummary, SampleResult, SampleRow, SampleSettings, SamplesTable } from '../types';
import { nameProblem } from '../../samples/names';

/** Core's check_samples (bad names, names given twice, samples without inputs), then each
 *  sample's inputs as the engine finds them. */
export function samplesProblems(samples: SampleSettings[], scan: (inputs: string[]) => InputScan): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const sample of samples) {
    const bad = nameProblem(sample.name);
    if (bad !== null) problems.push(bad);
    if (sample.inputs.length === 0) problems.push(`sample ${JSON.stringify(sample.name)} has no input files`);
    if (seen.has(sample.name) && !repeated.has(sample.name)) {
      repeated.add(sample.name);
      problems.push(`sample ${JSON.stringify(sample.name)} is given twice`);
    }
    seen.add(sample.name);
  }
  problems.push(...scan(samples.flatMap((s) => s.inputs)).problems);
  return problems;
}

/** A sample's run folder (core's sample_dir). */
export const sampleDir = (outDir: string, name: string) => `${outDir}/${name}`;

export interface SamplesRun {
  settings: RunSettings;
  /** One sample's run in its folder, as an ordinary run (it sends its own events). */
  runOne: (settings: RunSettings) => Promise<RunSummary>;
  /** A sample folder's totals when it has reports (read_summary.tsv), else null. */
  totals: (outDir: string) => SampleRow | null;
  cancelled: () => boolean;
  send: (event: RunEvent) => void;
}

/** The run of every sample; the table across them comes back with the result. */
export async function runSamples(run: SamplesRun): Promise<{ result: RunResult; table: SamplesTable }> {
  const { settings } = run;
  const started = performance.now();
  const samples: SampleResult[] = [];
  for (const [index, sample] of settings.samples.entries()) {
    if (run.cancelled()) break;
    const outDir = sampleDir(settings.out_dir, sample.name);
    run.send({ event: 'sample_started', sample: sample.name, index, total: settings.samples.length, out_dir: outDir });
    const summary = await run.runOne({ ...settings, inputs: sample.inputs, out_dir: outDir, samples: [] });
    samples.push({ name: sample.name, out_dir: outDir, status: summary.status, summary, error: null });
  }
  const path = `${settings.out_dir}/summary.tsv`;
  const rows = settings.samples.map((s) => run.totals(sampleDir(settings.out_dir, s.name))).filter((r) => r !== null);
  const statuses = samples.map((s) => s.status);
  const status = run.cancelled()
    ? 'cancelled'
    : statuses.every((s) => s === 'ok')
      ? 'ok'
      : statuses.every((s) => s === 'failed')
        ? 'failed'
        : 'partial';
  const sum = (key: 'reads' | 'chunks' | 'frames_scored' | 'virus_chunks' | 'virus_reads' | 'failures') =>
    samples.reduce((n, s) => n + (s.summary?.[key] ?? 0), 0);
  const result: RunResult = {
    status,
    reads: sum('reads'),
    chunks: sum('chunks'),
    frames_scored: sum('frames_scored'),
    virus_chunks: sum('virus_chunks'),
    virus_reads: sum('virus_reads'),
    failures: sum('failures'),
    seconds: (performance.now() - started) / 1000,
    out_dir: settings.out_dir,
    samples,
    summary_table: path,
  };
  return { result, table: { path, samples: rows } };
}
