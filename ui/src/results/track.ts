// One read's virus score along its chunks, as SVG: a bar per chunk (its best frame's
// virus score), the 0.5 line, and chunks with no scored frame drawn as empty slots.
import { s } from '../ui/dom';
import { chartSvg, plotArea, type ChartFrame } from './chart';
import type { ChunkScore } from './read-query';

// A score near 0 is a finding (the chunk was scored: not virus), so its bar is never so
// thin that it vanishes and the slot looks like a chunk with no score.
const MIN_BAR_PX = 3;
const FRAME: ChartFrame = { height: 140, margin: { left: 34, right: 10, top: 10, bottom: 28 } };

export function trackSvg(readId: string, scores: ChunkScore[]): SVGSVGElement {
  const area = plotArea(FRAME);
  const slot = area.width / Math.max(1, scores.length);
  const y = (score: number) => area.baseline - score * area.height;
  const barTop = (score: number) => Math.min(y(score), area.baseline - MIN_BAR_PX);
  // Label every chunk while they fit, else about ten of them.
  const labelEvery = Math.max(1, Math.ceil(scores.length / 10));

  const marks = scores.map(({ chunk, virus, isVirus }, i) => {
    const x = area.left + i * slot;
    const width = Math.max(1, slot - 2);
    const label =
      chunk % labelEvery === 0 || chunk === 1
        ? s('text', { class: 'tick', x: x + slot / 2, y: area.baseline + 14, 'text-anchor': 'middle' }, String(chunk))
        : null;
    const mark =
      virus === null
        ? s('rect', { class: 'slot unscored', x: x + 1, y: area.top, width, height: area.height, 'data-chunk': chunk },
            s('title', {}, `chunk ${chunk}: no frame scored`))
        : s('rect', { class: isVirus ? 'bar virus' : 'bar', x: x + 1, y: barTop(virus), width, height: area.baseline - barTop(virus), 'data-chunk': chunk, 'data-score': virus.toFixed(4) },
            s('title', {}, `chunk ${chunk}: best virus score ${virus.toFixed(4)}${isVirus ? ' (virus)' : ''}`));
    return [mark, label];
  });

  const virusChunks = scores.filter((c) => c.isVirus).length;
  return chartSvg(
    {
      frame: FRAME,
      id: 'read-track',
      className: 'track',
      label: `Virus score along ${readId}: ${scores.length} chunks, ${virusChunks} called virus`,
      yMax: '1',
      xLabel: 'chunk',
    },
    marks,
    s('line', { class: 'threshold', x1: area.left, y1: y(0.5), x2: area.right, y2: y(0.5) }),
  );
}
