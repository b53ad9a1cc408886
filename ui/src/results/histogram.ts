// The score histogram: best virus score per read, as the shell binned it, drawn as SVG.
import type { Results } from '../api/types';
import { s } from '../ui/dom';
import { formatCount } from '../ui/format';
import { chartSvg, plotArea, type ChartFrame } from './chart';

const FRAME: ChartFrame = { height: 180, margin: { left: 44, right: 10, top: 10, bottom: 30 } };

export function histogramSvg(histogram: Results['histogram']): SVGSVGElement {
  const { edges, counts } = histogram;
  const area = plotArea(FRAME);
  const max = Math.max(1, ...counts);
  const total = counts.reduce((a, b) => a + b, 0);
  const x = (score: number) => area.left + score * area.width;
  const y = (count: number) => area.baseline - (count / max) * area.height;

  const bars = counts.map((count, i) => {
    const lo = edges[i] ?? i / counts.length;
    const hi = edges[i + 1] ?? (i + 1) / counts.length;
    return s(
      'rect',
      {
        class: lo >= 0.5 ? 'bar virus' : 'bar',
        x: x(lo) + 0.5,
        y: y(count),
        width: Math.max(0, x(hi) - x(lo) - 1),
        height: area.baseline - y(count),
        'data-count': count,
      },
      s('title', {}, `${lo.toFixed(2)}–${hi.toFixed(2)}: ${formatCount(count)} reads`),
    );
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((t) =>
    s('text', { class: 'tick', x: x(t), y: area.baseline + 16, 'text-anchor': 'middle' }, String(t)),
  );
  return chartSvg(
    {
      frame: FRAME,
      id: 'score-histogram',
      className: 'histogram',
      label: `Histogram of the best virus score of ${formatCount(total)} scored reads in ${counts.length} bins; the tallest bin holds ${formatCount(max)}`,
      yMax: formatCount(max),
      xLabel: 'best virus score per read',
    },
    bars,
    s('line', { class: 'threshold', x1: x(0.5), y1: area.top, x2: x(0.5), y2: area.baseline }),
    ticks,
  );
}
