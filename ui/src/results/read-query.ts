// Filtering, sorting and paging of the per-read table: plain functions over arrays, fast
// enough for 100k reads (one filter and one sort per change, pages are slices).
import type { FrameRow, ReadRow } from '../api/types';

export type SortKey = 'read_id' | 'chunks' | 'frames' | 'virus_chunks' | 'best_virus_score' | 'call';
export type CallFilter = 'all' | 'virus' | 'non-virus' | 'none';

export interface ReadQuery {
  /** Substring of the read ID, case-insensitive. */
  text: string;
  call: CallFilter;
  /** Lowest best virus score shown; reads without a score drop out when set. */
  minScore: number | null;
  sort: SortKey;
  descending: boolean;
}

export const PAGE_SIZE = 100;

export const DEFAULT_QUERY: ReadQuery = { text: '', call: 'all', minScore: null, sort: 'read_id', descending: false };

/** The call as the table groups it: anything scored but not virus counts as non-virus. */
export function callClass(call: string): Exclude<CallFilter, 'all'> {
  return call === 'virus' || call === 'none' ? call : 'non-virus';
}

// Runs of digits and of anything else: "read_11_10" is ["read_", "11", "_", "10"].
const RUNS = /\d+|\D+/g;

/** Read IDs as people number them: digit runs by value (read_11_2 before read_11_10),
 *  the rest by code unit; IDs equal that way (read_1, read_01) fall back to code units. */
export function naturalCompare(a: string, b: string): number {
  const x = a.match(RUNS) ?? [];
  const y = b.match(RUNS) ?? [];
  for (let i = 0; i < Math.min(x.length, y.length); i += 1) {
    const [p, q] = [x[i] ?? '', y[i] ?? ''];
    if (p === q) continue;
    const digits = /^\d/.test(p) && /^\d/.test(q);
    if (digits) {
      // By value without parsing (IDs may hold numbers beyond 2^53): fewer digits, smaller.
      const [m, n] = [p.replace(/^0+/, ''), q.replace(/^0+/, '')];
      if (m.length !== n.length) return m.length - n.length;
      if (m !== n) return m < n ? -1 : 1;
    } else return p < q ? -1 : 1;
  }
  if (x.length !== y.length) return x.length - y.length;
  return a === b ? 0 : a < b ? -1 : 1;
}

function compare(a: ReadRow, b: ReadRow, key: SortKey): number {
  if (key === 'read_id') return naturalCompare(a.read_id, b.read_id);
  const x = a[key];
  const y = b[key];
  if (x === y) return 0;
  // queryReads puts nulls last before comparing; this only keeps the types honest.
  if (x === null) return 1;
  if (y === null) return -1;
  return x < y ? -1 : 1;
}

export function queryReads(reads: readonly ReadRow[], query: ReadQuery): ReadRow[] {
  const needle = query.text.trim().toLowerCase();
  const { minScore, call, sort, descending } = query;
  const kept = reads.filter(
    (r) =>
      (needle === '' || r.read_id.toLowerCase().includes(needle)) &&
      (call === 'all' || callClass(r.call) === call) &&
      (minScore === null || (r.best_virus_score !== null && r.best_virus_score >= minScore)),
  );
  const direction = descending ? -1 : 1;
  // Array.prototype.sort is stable: ties keep the input (read_summary) order.
  return kept.sort((a, b) => {
    const nullOrder = Number(a[sort] === null) - Number(b[sort] === null);
    return nullOrder !== 0 ? nullOrder : direction * compare(a, b, sort);
  });
}

export function pageCount(rows: number): number {
  return Math.max(1, Math.ceil(rows / PAGE_SIZE));
}

export function pageOf<T>(rows: readonly T[], page: number): T[] {
  return rows.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
}

/** A read's frames in chunk then frame order (a copy). */
export function inChunkOrder(frames: readonly FrameRow[]): FrameRow[] {
  return [...frames].sort((a, b) => a.chunk - b.chunk || (a.frame < b.frame ? -1 : a.frame > b.frame ? 1 : 0));
}

export interface ChunkScore {
  chunk: number;
  /** Highest virus score among the chunk's frames; null when none was scored. */
  virus: number | null;
  /** The chunk's consensus: max(score_virus) >= max(score_other), as the highest-score report. */
  isVirus: boolean;
}

/** One entry per chunk 1..chunks, for the per-read track. */
export function chunkScores(chunks: number, frames: readonly FrameRow[]): ChunkScore[] {
  const scores: ChunkScore[] = [];
  for (let chunk = 1; chunk <= chunks; chunk += 1) {
    const own = frames.filter((f) => f.chunk === chunk);
    if (own.length === 0) {
      scores.push({ chunk, virus: null, isVirus: false });
      continue;
    }
    const virus = Math.max(...own.map((f) => f.score_virus));
    const other = Math.max(...own.map((f) => f.score_other));
    scores.push({ chunk, virus, isVirus: virus >= other });
  }
  return scores;
}
