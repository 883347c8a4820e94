/**
 * Whether this machine can hold a job of n ranks: an estimate of the memory and file descriptors the
 * ranks need, against what the machine has. More ranks than cores is fine (ranks mostly wait);
 * running out of memory or descriptors is not, so dsrun refuses such a job unless told
 * --oversubscribe, and warns when it would use more than half of either.
 */
import { readFileSync } from 'node:fs';
import { freemem, totalmem } from 'node:os';

/** Resident memory of one rank, measured: a rank process of a small program, a rank thread. */
export const RANK_MEMORY = { process: 60 * 2 ** 20, thread: 12 * 2 ** 20 } as const;
/** Descriptors dsrun holds per rank (output pipes and the control connection, or a thread's loop). */
const LAUNCHER_FDS_PER_RANK = { process: 4, thread: 5 } as const;
/** Descriptors a process uses before its connections (stdio, the event loop, a listening socket). */
const BASE_FDS = 32;

export interface Machine {
  /** Bytes of memory available to new processes. */
  availableMemory: number;
  /** The soft limit on open files of a process, if known. */
  openFilesLimit?: number;
}

export function thisMachine(): Machine {
  const constrained = process.constrainedMemory?.() ?? 0;
  const available = constrained > 0 && constrained < totalmem() ? Math.min(freemem(), constrained) : freemem();
  let openFilesLimit: number | undefined;
  try {
    const line = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (line) openFilesLimit = Number(line[1]);
  } catch {
    // Not Linux: the memory estimate alone.
  }
  return { availableMemory: available, openFilesLimit };
}

export interface Verdict {
  /** Over what the machine has: refuse unless forced. */
  refuse?: string;
  /** Over half of it: go on, but say so. */
  warn?: string;
}

const mib = (bytes: number): string => (bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${Math.round(bytes / 2 ** 20)} MiB`);

/** Judges a job of `np` ranks as processes or threads on `machine`. */
export function judgeCapacity(np: number, kind: 'process' | 'thread', machine: Machine): Verdict {
  const memory = np * RANK_MEMORY[kind];
  const what = `${np} ranks as ${kind === 'process' ? 'processes' : 'threads'}`;
  const memoryText = `need about ${mib(memory)} of memory (${mib(RANK_MEMORY[kind])} each); ${mib(machine.availableMemory)} is available`;
  // A rank process connects to every other rank at most; dsrun holds a few descriptors per rank.
  const fds = Math.max(BASE_FDS + np * LAUNCHER_FDS_PER_RANK[kind], kind === 'process' ? BASE_FDS + np : 0);
  const limit = machine.openFilesLimit;
  const fdText = limit !== undefined ? `need about ${fds} open files in one process; the limit is ${limit} (ulimit -n)` : '';
  if (memory > machine.availableMemory) return { refuse: `${what} ${memoryText}` };
  if (limit !== undefined && fds > limit) return { refuse: `${what} ${fdText}` };
  if (memory > machine.availableMemory / 2) return { warn: `${what} ${memoryText}` };
  if (limit !== undefined && fds > limit / 2) return { warn: `${what} ${fdText}` };
  return {};
}
