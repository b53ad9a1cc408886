// Sample names as core's run_folder::samples::check_name has them (a sample's name is its
// folder under the output folder), and names made from paths for the setup screen's
// "Each input folder is a sample".

/** The longest name (core's MAX_NAME_LEN). */
export const MAX_NAME_LEN = 100;

/** Names a run folder uses itself (core's RESERVED). */
const RESERVED = ['prepared', 'features', 'merged', 'scores', 'summary.tsv', 'failures.tsv', 'run-manifest.json'];

/** Read-file suffixes left out of a name made from a file (core's FASTA and compression
 *  suffixes). */
const SUFFIXES = /(\.(fa|fasta|fna|faa|fas|ffn|frn|fsa|fq|fastq))?(\.(gz|bgz|bz2|xz|zst|zstd))?$/i;

/** Why `name` is no sample name, in core's words; null when it is one. */
export function nameProblem(name: string): string | null {
  const bad = (reason: string) => `sample name ${JSON.stringify(name)}: ${reason}`;
  if (name === '') return bad('empty');
  if (name.length > MAX_NAME_LEN) return bad(`longer than ${MAX_NAME_LEN} characters`);
  if (name.startsWith('.')) return bad("starts with '.'");
  const wrong = [...name].find((c) => !/^[A-Za-z0-9._-]$/.test(c));
  if (wrong !== undefined) return bad(`${JSON.stringify(wrong).replace(/^"|"$/g, "'")} is not allowed (letters, digits, '.', '_' and '-' are)`);
  if (RESERVED.includes(name)) return bad('the run folder uses this name itself');
  return null;
}

/** A valid name made from `raw` (a folder's or file's name): other characters become `_`,
 *  no leading dots, at most MAX_NAME_LEN characters, not a reserved name, not in `taken`
 *  (then `-2`, `-3`, … is added). */
export function validName(raw: string, taken: readonly string[]): string {
  let base = raw.replace(SUFFIXES, '').replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '');
  if (base === '') base = 'sample';
  if (RESERVED.includes(base)) base = `${base}_`;
  base = base.slice(0, MAX_NAME_LEN);
  let name = base;
  for (let n = 2; taken.includes(name); n += 1) name = `${base.slice(0, MAX_NAME_LEN - String(n).length - 1)}-${n}`;
  return name;
}

/** The last part of a path (a trailing slash ignored), '/' and '\' both separators. */
export function lastPart(path: string): string {
  const parts = path.split(/[\\/]/).filter((p) => p !== '');
  return parts[parts.length - 1] ?? path;
}
