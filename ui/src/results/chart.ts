// What the histogram and the read track share: a fixed viewBox (CSS scales it), the plot
// area inside the margins, the two axes with their end labels, and an accessible name.
import { s, type Child } from '../ui/dom';

const CHART_WIDTH = 480;

export interface ChartFrame {
  height: number;
  margin: { left: number; right: number; top: number; bottom: number };
}

export interface PlotArea {
  left: number;
  right: number;
  top: number;
  width: number;
  height: number;
  /** y of the x axis. */
  baseline: number;
}

export function plotArea({ height, margin }: ChartFrame): PlotArea {
  const plotHeight = height - margin.top - margin.bottom;
  return {
    left: margin.left,
    right: CHART_WIDTH - margin.right,
    top: margin.top,
    width: CHART_WIDTH - margin.left - margin.right,
    height: plotHeight,
    baseline: margin.top + plotHeight,
  };
}

export interface ChartSpec {
  frame: ChartFrame;
  id: string;
  className: string;
  /** The accessible name: what the chart shows, in words. */
  label: string;
  /** The y axis' top label (its bottom is 0). */
  yMax: string;
  xLabel: string;
}

export function chartSvg(spec: ChartSpec, ...content: Child[]): SVGSVGElement {
  const area = plotArea(spec.frame);
  return s(
    'svg',
    {
      class: `chart ${spec.className}`,
      id: spec.id,
      viewBox: `0 0 ${CHART_WIDTH} ${spec.frame.height}`,
      role: 'img',
      'aria-label': spec.label,
    },
    s('line', { class: 'axis', x1: area.left, y1: area.baseline, x2: area.right, y2: area.baseline }),
    s('line', { class: 'axis', x1: area.left, y1: area.top, x2: area.left, y2: area.baseline }),
    s('text', { class: 'tick', x: area.left - 5, y: area.top + 4, 'text-anchor': 'end' }, spec.yMax),
    s('text', { class: 'tick', x: area.left - 5, y: area.baseline, 'text-anchor': 'end' }, '0'),
    content,
    s('text', { class: 'axis-label', x: area.left + area.width / 2, y: spec.frame.height - 2, 'text-anchor': 'middle' }, spec.xLabel),
  );
}
