import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { epochMs } from '../runtime/protocol/epoch-clock.ts';
import type { NetworkFaults } from '../runtime/protocol/rendezvous.ts';
import type { TraceEvent } from '../runtime/protocol/trace-event.ts';
import { mergeTraces, printSummary, type RankTrace } from './trace-merge.ts';
import type { JobState } from './job-state.ts';
import type { RankSpawner } from './spawner.ts';

export interface TraceOptions {
  seed: number;
  command?: string;
  tracePath?: string;
  summary?: boolean;
  network?: NetworkFaults;
  spawner?: RankSpawner;
}

/**
 * --trace and --summary: each rank writes its own trace file into a temporary folder; at the end
 * they are merged with the launcher's events into one trace, written to `tracePath` or summed up.
 */
export class JobTrace {
  private constructor(
    private readonly dir: string,
    private readonly options: TraceOptions,
  ) {}

  /** A trace for the job if it asked for one. */
  static open(options: TraceOptions): JobTrace | undefined {
    if (options.tracePath === undefined && !options.summary) return undefined;
    return new JobTrace(mkdtempSync(join(tmpdir(), 'dsmpi-trace-')), options);
  }

  /** Where rank `rank` writes its events. */
  file(rank: number): string {
    return join(this.dir, `rank-${rank}.jsonl`);
  }

  /** Merges the ranks' files (every rank the job started, spawned ones included) and `launcherEvents`, then removes the folder. */
  finish(job: JobState, launcherEvents: readonly TraceEvent[], endedAt: number, log: (line: string) => void): void {
    const events = [...launcherEvents, ...this.partitionEvents(job, endedAt - job.t0)];
    const traces: RankTrace[] = [];
    for (let r = 0; r < job.ranks.length; r++) {
      try {
        traces.push({ text: readFileSync(this.file(r), 'utf8'), clockOffsetMs: this.options.spawner?.clockOffsetMs?.(r) });
      } catch {
        const lost = this.options.spawner?.lostReason?.(r);
        const reason = lost ? `${lost} before the rank's trace came back` : 'the rank ended before it opened its trace file';
        events.push({ t: job.ranks[r]?.exitedAt ?? epochMs(), ev: 'untraced', rank: r, reason });
      }
    }
    const merged = mergeTraces(traces, events, job.t0, { t: 0, ev: 'run', seed: this.options.seed, command: this.options.command });
    rmSync(this.dir, { recursive: true, force: true });
    if (this.options.tracePath) {
      try {
        writeFileSync(this.options.tracePath, merged.text);
      } catch (err) {
        log(`cannot write the trace to ${this.options.tracePath}: ${(err as Error).message}`);
      }
    }
    if (this.options.summary) printSummary(merged.events, job.ranks.length, (line) => process.stderr.write(line + '\n'));
  }

  /** The --partition flags of a job that started, as the ranks applied them (a heal only if it came before the end). */
  private partitionEvents(job: JobState, endedMs: number): TraceEvent[] {
    if (!job.started) return [];
    return (this.options.network?.partitions ?? []).flatMap((p) => {
      const sides = { from: p.from, to: p.to, oneWay: p.oneWay || undefined };
      const partition: TraceEvent = { t: job.t0 + p.atMs, ev: 'partition', ...sides, untilMs: p.untilMs };
      const healed = p.untilMs !== undefined && p.untilMs <= endedMs;
      return healed ? [partition, { t: job.t0 + p.untilMs!, ev: 'heal' as const, ...sides }] : [partition];
    });
  }
}
