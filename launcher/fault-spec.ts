/**
 * The grammar of dsrun's fault flags (docs/faults.md). Each parser takes the text of one flag and
 * returns its meaning, or throws an Error whose message is the one-line reason.
 *
 *   time      := number ['ms' | 's' | 'm']                e.g. 250ms, 1.5s, 1m, 2 (plain: seconds)
 *   ranks     := rank (',' rank)*                         e.g. 0,1,4
 *   --kill      rank '@' time                             kill -9 the rank at that time
 *   --pause     rank '@' time '+' time                    SIGSTOP at the first time, SIGCONT after the second
 *   --drop      p                                         0 <= p <= 1
 *   --delay     time ['..' time]                          uniform in [min, max]
 *   --partition ranks ('|' | '>') ranks ['@' time ['..' time]]
 *               '|' cuts both ways, '>' only left to right; without '@' from the start, without '..' for ever
 *
 * Times count from the moment dsrun starts the ranks (the job's t0).
 */

import { parseDuration } from './duration.ts';

export interface KillSpec {
  rank: number;
  atMs: number;
}

export interface PauseSpec {
  rank: number;
  atMs: number;
  forMs: number;
}

export interface PartitionSpec {
  from: number[];
  to: number[];
  oneWay: boolean;
  atMs: number;
  untilMs?: number;
}

function parseRank(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new Error(`'${text}' is not a rank (a whole number >= 0)`);
  return Number(text);
}

function parseRanks(text: string): number[] {
  if (text.trim() === '') throw new Error('a partition side is empty');
  const ranks = text.split(',').map(parseRank);
  if (new Set(ranks).size !== ranks.length) throw new Error(`'${text}' names a rank twice`);
  return ranks;
}

function splitOnce(text: string, sep: string, what: string): [string, string] {
  const i = text.indexOf(sep);
  if (i < 0) throw new Error(`expected ${what}`);
  return [text.slice(0, i), text.slice(i + sep.length)];
}

export function parseKill(text: string): KillSpec {
  const [rank, at] = splitOnce(text, '@', `RANK@TIME, e.g. 2@1.5s, got '${text}'`);
  return { rank: parseRank(rank), atMs: parseDuration(at) };
}

export function parsePause(text: string): PauseSpec {
  const [rank, rest] = splitOnce(text, '@', `RANK@TIME+DURATION, e.g. 3@1s+2s, got '${text}'`);
  const [at, dur] = splitOnce(rest, '+', `RANK@TIME+DURATION, e.g. 3@1s+2s, got '${text}'`);
  const forMs = parseDuration(dur);
  if (forMs <= 0) throw new Error(`the pause must last more than 0, got '${dur}'`);
  return { rank: parseRank(rank), atMs: parseDuration(at), forMs };
}

export function parseProbability(text: string): number {
  const p = Number(text);
  if (text.trim() === '' || !(p >= 0 && p <= 1)) throw new Error(`'${text}' is not a probability (a number from 0 to 1)`);
  return p;
}

export function parseDelay(text: string): { minMs: number; maxMs: number } {
  const parts = text.split('..');
  if (parts.length > 2) throw new Error(`expected TIME or MIN..MAX, e.g. 5ms..50ms, got '${text}'`);
  const minMs = parseDuration(parts[0]);
  const maxMs = parts.length === 2 ? parseDuration(parts[1]) : minMs;
  if (maxMs < minMs) throw new Error(`the delay's maximum ${parts[1]} is below its minimum ${parts[0]}`);
  return { minMs, maxMs };
}

export function parsePartition(text: string): PartitionSpec {
  const at = text.indexOf('@');
  const groups = at < 0 ? text : text.slice(0, at);
  const window = at < 0 ? undefined : text.slice(at + 1);
  const sep = /[|>]/.exec(groups);
  if (!sep) throw new Error(`expected GROUP|GROUP or GROUP>GROUP (one way), e.g. 0,1|2,3@2s..5s, got '${text}'`);
  const from = parseRanks(groups.slice(0, sep.index));
  const to = parseRanks(groups.slice(sep.index + 1));
  if (from.some((r) => to.includes(r))) throw new Error(`the two sides of '${groups}' share a rank`);
  let atMs = 0;
  let untilMs: number | undefined;
  if (window !== undefined) {
    const parts = window.split('..');
    if (parts.length > 2) throw new Error(`expected @START or @START..END, got '@${window}'`);
    atMs = parseDuration(parts[0]);
    if (parts.length === 2) {
      untilMs = parseDuration(parts[1]);
      if (untilMs <= atMs) throw new Error(`the partition ends (${parts[1]}) before it starts (${parts[0]})`);
    }
  }
  return { from, to, oneWay: sep[0] === '>', atMs, untilMs };
}

/** Checks every rank named by the fault flags against the job size; throws with the first bad one. */
export function checkRanks(np: number, specs: { kill: KillSpec[]; pause: PauseSpec[]; partition: PartitionSpec[] }): void {
  const check = (flag: string, rank: number): void => {
    if (rank >= np) throw new Error(`${flag}: rank ${rank} does not exist; the job has ranks 0..${np - 1}`);
  };
  for (const k of specs.kill) check('--kill', k.rank);
  for (const p of specs.pause) check('--pause', p.rank);
  for (const p of specs.partition) for (const r of [...p.from, ...p.to]) check('--partition', r);
}
