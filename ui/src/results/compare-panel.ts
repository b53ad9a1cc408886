// "Compare with another run…" on the results screen: the folder shown against another
// run of the same reads the user picks (compare_runs, what `virnucpro compare A B`
// prints): both runs, warnings, each report's label agreement and score differences,
// the first disagreeing rows, and the kept feature files' differences.
import type { ComparedRun, Comparison, FeatureComparison, ReportComparison } from '../api/types';
import { errorText, type AppContext } from '../app/context';
import { h, numeric, replaceChildren, tableHead } from '../ui/dom';
import { formatCount, formatScore } from '../ui/format';

export interface ComparePanel {
  element: HTMLElement;
  /** The run shown changed: an earlier comparison no longer applies. */
  reset(): void;
}

const percent = (p: number) => `${p.toFixed(2)} %`;
/** A small difference, in scientific notation below 0.001 (bf16 runs differ by ~1e-3). */
const small = (x: number) => (x === 0 ? '0' : x < 1e-3 ? x.toExponential(2) : x.toFixed(4));
const yesNo = (b: boolean) => (b ? 'yes' : 'no');

/** The agreement a bf16 or GPU run should reach before it replaces fp32 (docs/models.md). */
export const DEFAULT_MIN_AGREEMENT = 99.9;

/** The minimum typed in, or null when it is not a percentage from 0 to 100. */
export function parseMinimum(text: string): number | null {
  const trimmed = text.trim().replace(/%$/, '').trim();
  if (trimmed === '') return null;
  const value = Number(trimmed);
  return Number.isFinite(value) && value >= 0 && value <= 100 ? value : null;
}

/** The reports below `min`, by the rule of `virnucpro compare --min-agreement`. */
export const below = (reports: ReportComparison[], min: number) => reports.filter((r) => r.agreement_percent < min);

function runLine(side: string, run: ComparedRun): HTMLElement {
  const made =
    run.kind === 'reports'
      ? 'reports without a manifest (the original tool’s or virnucpro classify’s)'
      : `a run, ${run.state ?? 'state unknown'}; precision ${run.precision ?? '—'}; devices ${run.devices.join(', ') || '—'}`;
  return h('li', { 'data-side': side }, h('strong', {}, `Run ${side.toUpperCase()}: `), h('code', {}, run.path), ` — ${made}`);
}

function reportsTable(reports: ReportComparison[], min: number | null): HTMLElement {
  return h(
    'table',
    { class: 'data', id: 'compare-reports' },
    h('caption', {}, 'Reports, rows matched by ID'),
    tableHead('Report', numeric('Rows A'), numeric('Rows B'), numeric('Matched'), numeric('Labels agree'), numeric('Agreement'), numeric('Max |Δ score|'), 'Byte-identical', 'Reaches minimum'),
    h(
      'tbody',
      {},
      reports.map((r) =>
        h(
          'tr',
          { 'data-report': r.report },
          h('th', { scope: 'row' }, r.file),
          [formatCount(r.rows_a), formatCount(r.rows_b), formatCount(r.matched), formatCount(r.labels_agree), percent(r.agreement_percent), r.scores === null ? '—' : small(r.scores.max)].map((text) =>
            h('td', { class: 'num' }, text),
          ),
          h('td', {}, yesNo(r.identical)),
          h('td', { class: 'verdict' }, min === null ? '—' : yesNo(r.agreement_percent >= min)),
        ),
      ),
    ),
  );
}

function disagreementsTable(reports: ReportComparison[]): HTMLElement {
  const rows = reports.flatMap((r) => r.disagreements.map((d) => ({ file: r.file, ...d })));
  if (rows.length === 0) return h('p', { id: 'compare-no-disagreements' }, 'No row’s label differs between the runs.');
  return h(
    'table',
    { class: 'data', id: 'compare-disagreements' },
    h('caption', {}, 'The first rows whose labels differ'),
    tableHead('Report', 'ID', 'Label A', numeric('Score A'), 'Label B', numeric('Score B')),
    h(
      'tbody',
      {},
      rows.map((d) =>
        h(
          'tr',
          {},
          h('td', {}, d.file),
          h('th', { scope: 'row' }, d.id),
          h('td', {}, d.label_a),
          h('td', { class: 'num' }, formatScore(d.score_a)),
          h('td', {}, d.label_b),
          h('td', { class: 'num' }, formatScore(d.score_b)),
        ),
      ),
    ),
  );
}

function featuresTable(features: FeatureComparison[]): HTMLElement {
  return h(
    'table',
    { class: 'data', id: 'compare-features' },
    h('caption', {}, 'Kept feature files, rows matched by ID'),
    tableHead('Kind', numeric('Rows'), numeric('Max |Δ|'), numeric('Min cosine'), numeric('Mean cosine')),
    h(
      'tbody',
      {},
      features.map((f) =>
        h(
          'tr',
          { 'data-kind': f.kind },
          h('th', { scope: 'row' }, f.kind),
          [formatCount(f.rows), f.stats === null ? '—' : small(f.stats.max_abs_diff), f.stats?.min_cosine.toFixed(6) ?? '—', f.stats?.mean_cosine.toFixed(6) ?? '—'].map((text) =>
            h('td', { class: 'num' }, text),
          ),
        ),
      ),
    ),
  );
}

/** What was compared, and what only one run has. */
function summaryOf(c: Comparison): HTMLElement[] {
  const low = c.reports.reduce<ReportComparison | null>((min, r) => (min === null || r.agreement_percent < min.agreement_percent ? r : min), null);
  const same = c.reports.length > 0 && c.reports.every((r) => r.identical);
  const headline =
    low === null
      ? 'The runs have no report in common.'
      : same
        ? 'Every report is byte for byte the same.'
        : `Lowest label agreement: ${percent(low.agreement_percent)} (${low.file}).`;
  const notes = [
    ...c.reports_only_in_one.map((s) => `${s.file} is only in run ${s.only_in.toUpperCase()}.`),
    ...c.features_only_in_one.map((s) => `Only run ${s.kept_in.toUpperCase()} kept ${s.kind} features.`),
  ];
  return [h('p', { id: 'compare-headline' }, headline), ...notes.map((n) => h('p', { class: 'muted' }, n))];
}

/** Whether every report reaches the minimum, as `--min-agreement` decides. */
function verdictOf(c: Comparison, min: number | null): HTMLElement {
  const line = (tone: string, text: string) => h('p', { id: 'compare-verdict', 'data-tone': tone }, text);
  if (min === null) return line('error', 'Give the minimum label agreement as a percentage from 0 to 100.');
  if (c.reports.length === 0) return line('error', 'No report to hold to the minimum.');
  const low = below(c.reports, min);
  if (low.length === 0) return line('ok', `Every report reaches the minimum of ${min} % label agreement.`);
  const named = low.map((r) => `${r.file} (${r.agreement_percent.toFixed(3)} %)`).join(', ');
  return line('error', `Below the minimum of ${min} % label agreement: ${named}.`);
}

function render(c: Comparison, min: number | null): HTMLElement[] {
  const parts: HTMLElement[] = [h('ul', { id: 'compare-runs' }, runLine('a', c.a), runLine('b', c.b))];
  if (c.warnings.length > 0) {
    parts.push(
      h(
        'ul',
        { id: 'compare-warnings', class: 'suggestion', role: 'note', 'aria-label': 'Why the runs may differ besides how they computed' },
        c.warnings.map((w) => h('li', { 'data-warning': w.warning }, w.message)),
      ),
    );
  }
  parts.push(...summaryOf(c), verdictOf(c, min));
  parts.push(h('div', { class: 'table-scroll' }, reportsTable(c.reports, min)));
  parts.push(h('div', { class: 'table-scroll' }, disagreementsTable(c.reports)));
  if (c.features.length > 0) parts.push(h('div', { class: 'table-scroll' }, featuresTable(c.features)));
  return parts;
}

/** `current`: the folder the results screen shows (run A); '' when none. */
export function comparePanel(ctx: AppContext, current: () => string): ComparePanel {
  const status = h('p', { id: 'compare-status', role: 'status', 'aria-live': 'polite' });
  const body = h('div', { id: 'compare-body' });
  const button = h('button', { type: 'button', id: 'compare-button', onclick: () => void compare() }, 'Compare with another run…');
  // The check `virnucpro compare --min-agreement` makes, applied to the comparison shown.
  const minimum = h('input', {
    type: 'text',
    inputmode: 'decimal',
    id: 'compare-min',
    value: String(DEFAULT_MIN_AGREEMENT),
    size: '6',
    'aria-describedby': 'compare-min-hint',
    oninput: () => show(),
  });
  let shown: Comparison | null = null;
  const show = () => {
    if (shown !== null) replaceChildren(body, ...render(shown, parseMinimum(minimum.value)));
  };
  const element = h(
    'section',
    { class: 'panel', id: 'compare-panel', 'aria-labelledby': 'compare-title' },
    h('h3', { id: 'compare-title' }, 'Compare with another run'),
    h('p', { class: 'muted' }, 'Another run of the same reads (another precision or device, or the original tool’s {input}_merged folder): label agreement and score differences, report by report.'),
    h(
      'p',
      { id: 'compare-min-field' },
      h('label', { for: 'compare-min' }, 'Minimum label agreement (%) '),
      minimum,
      h('span', { class: 'muted', id: 'compare-min-hint' }, ` A run in bf16 or on another device should reach ${DEFAULT_MIN_AGREEMENT} % in every report before it replaces fp32 (virnucpro compare --min-agreement).`),
    ),
    button,
    status,
    body,
  );

  async function compare(): Promise<void> {
    const a = current();
    if (a === '') return;
    let b: string | undefined;
    try {
      b = (await ctx.api.pickFolders('Choose the run folder to compare with'))[0];
    } catch (reason) {
      status.textContent = `Could not open the folder picker: ${errorText(reason)}`;
      return;
    }
    if (b === undefined) return;
    status.textContent = 'Comparing…';
    status.removeAttribute('data-tone');
    replaceChildren(body);
    shown = null;
    button.disabled = true;
    try {
      const comparison = await ctx.api.compareRuns(a, b);
      status.textContent = `Compared ${a} (A) with ${b} (B).`;
      shown = comparison;
      show();
    } catch (reason) {
      status.dataset['tone'] = 'error';
      status.textContent = `Could not compare the runs: ${errorText(reason)}`;
    } finally {
      button.disabled = false;
    }
  }

  return {
    element,
    reset() {
      status.textContent = '';
      status.removeAttribute('data-tone');
      replaceChildren(body);
      shown = null;
      button.disabled = current() === '';
    },
  };
}
