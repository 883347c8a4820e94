import { readFileSync } from 'node:fs';
import { cpus, hostname, loadavg } from 'node:os';

/**
 * Load measurement for the autoscaler, kept apart from the workload (the book's cpu-stats.c measured
 * with the very job it scaled, and fed back its own load). One reading per host, not per rank: ranks
 * on one machine all see the same CPU, so asking each would only repeat (and weight) that machine.
 */
export interface HostLoad {
  host: string;
  /** CPU busy, 0..100 %. */
  busyPercent: number;
}

/** Injectable: tests drive the autoscaler with synthetic load; real runs read the CPU. */
export interface LoadSampler {
  sample(): Promise<HostLoad[]> | HostLoad[];
}

/** The load the autoscaler acts on: the mean over hosts (NaN if there is none). */
export function meanLoad(hosts: readonly HostLoad[]): number {
  if (hosts.length === 0) return NaN;
  return hosts.reduce((sum, h) => sum + h.busyPercent, 0) / hosts.length;
}

/** CPU counters of /proc/stat's `cpu` line: [busy, total] jiffies; undefined where there is none. */
export function parseProcStat(text: string): [busy: number, total: number] | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  if (v.length < 4 || v.some((x) => !Number.isFinite(x))) return undefined;
  // user nice system idle iowait irq softirq steal (guest time is already counted in user).
  const idle = v[3] + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return [total - idle, total];
}

/**
 * This host's CPU busy percentage between one sample and the previous (the first sample covers the
 * time since the sampler was made), from /proc/stat; where there is no /proc/stat, the one-minute
 * load average per CPU (capped at 100 %).
 */
export function hostCpuSampler(readStat: () => string = () => readFileSync('/proc/stat', 'utf8')): LoadSampler {
  const host = hostname();
  const read = (): [number, number] | undefined => {
    try {
      return parseProcStat(readStat());
    } catch {
      return undefined;
    }
  };
  let last = read();
  return {
    sample() {
      const now = read();
      let busyPercent: number;
      if (now && last && now[1] > last[1]) busyPercent = (100 * (now[0] - last[0])) / (now[1] - last[1]);
      else busyPercent = Math.min(100, (100 * loadavg()[0]) / Math.max(1, cpus().length));
      last = now ?? last;
      return [{ host, busyPercent }];
    },
  };
}

/** Synthetic load for tests and demos: the given percentages in turn, then the last one forever. */
export function scriptedSampler(percents: readonly number[], host = 'synthetic'): LoadSampler {
  if (percents.length === 0) throw new RangeError('scriptedSampler: needs at least one value');
  let i = 0;
  return {
    sample: () => [{ host, busyPercent: percents[Math.min(i++, percents.length - 1)] }],
  };
}
