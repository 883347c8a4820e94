/**
 * Map-reduce word count (book 8.4.2, "Distributed Computing Patterns"), in the book's two cases:
 *
 * - `scatter`: rank 0 holds the text, cuts it into one chunk of lines per rank and scatters them;
 * - `spread`: the data is already distributed (rank r holds lines r, r + n, r + 2n, ...), so there
 *   is no scatter.
 *
 * Then each rank maps its lines to a table word → count, and the tables are combined in two levels
 * (the book's "secondary reductions on subgroups"): the world is split into groups of `groupSize`
 * consecutive ranks, each group reduces to its leader, and the leaders alone (a second, disjoint
 * communicator made by another split) reduce the group totals to world rank 0.
 */
import { UNDEFINED, type Communicator } from 'dsmpi';

export type Counts = Record<string, number>;

export function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9']+/g) ?? [];
}

/** The map step: a table of word counts for some lines. */
export function countWords(lines: readonly string[]): Counts {
  const counts: Counts = {};
  for (const line of lines) for (const w of words(line)) counts[w] = (counts[w] ?? 0) + 1;
  return counts;
}

/** The reduce step: the sum of two tables (commutative and associative, as reduce needs). */
export function mergeCounts(a: Counts, b: Counts): Counts {
  const out: Counts = { ...a };
  for (const [w, c] of Object.entries(b)) out[w] = (out[w] ?? 0) + c;
  return out;
}

/** `lines` cut into `n` contiguous chunks whose sizes differ by at most one. */
export function chunk<T>(lines: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  let at = 0;
  for (let r = 0; r < n; r++) {
    const size = Math.floor(lines.length / n) + (r < lines.length % n ? 1 : 0);
    out.push(lines.slice(at, at + size));
    at += size;
  }
  return out;
}

export interface WordCountResult {
  /** The total, on world rank 0 only. */
  counts?: Counts;
  /** This rank's group (color) and whether it led the group's reduction. */
  group: number;
  leader: boolean;
  /** Lines this rank mapped, and distinct words in its partial table. */
  lines: number;
  partialWords: number;
}

/**
 * Counts the words of `text` (an array of lines: all of it on rank 0 for `scatter`, this rank's own
 * lines for `spread`). Collective over `comm`.
 */
export async function wordCount(
  comm: Communicator,
  mode: 'scatter' | 'spread',
  mine: readonly string[],
  groupSize = 2,
): Promise<WordCountResult> {
  if (!Number.isInteger(groupSize) || groupSize < 1) throw new Error(`wordCount: groupSize must be a positive integer, got ${groupSize}`);
  const lines = mode === 'scatter' ? await comm.scatter(comm.rank === 0 ? chunk(mine, comm.size) : undefined) : [...mine];
  const partial = countWords(lines);
  comm.note('mapped', { lines: lines.length });
  const group = Math.floor(comm.rank / groupSize);
  const sub = (await comm.split(group, comm.rank))!;
  const groupTotal = await sub.reduce(partial, mergeCounts, 0);
  const leader = sub.rank === 0;
  sub.free();
  const leaders = await comm.split(leader ? 0 : UNDEFINED, comm.rank);
  let counts: Counts | undefined;
  if (leaders) {
    counts = await leaders.reduce(groupTotal!, mergeCounts, 0);
    leaders.free();
  }
  return {
    counts: comm.rank === 0 ? counts : undefined,
    group,
    leader,
    lines: lines.length,
    partialWords: Object.keys(partial).length,
  };
}

/** The n largest counts, ties by word. */
export function top(counts: Counts, n: number): Array<[string, number]> {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, n);
}
