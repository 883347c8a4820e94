// A synthetic run for measuring the viewer at scale (viewer.test.ts, measure.mts).
import type { TraceEvent } from 'dsmpi';

/** A synthetic run: `count` messages among `ranks` ranks, named, some dropped, notes on the way. */
export function bigTrace(count: number, ranks: number): TraceEvent[] {
  let seed = 7;
  const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const names = ['Prepare', 'Promise', 'Accept', 'Accepted', 'Heartbeat'];
  const out: Array<TraceEvent & { order: number }> = [];
  const sent = new Array<number>(ranks).fill(0);
  for (let i = 0; i < count; i++) {
    const from = Math.floor(random() * ranks);
    const to = (from + 1 + Math.floor(random() * (ranks - 1))) % ranks;
    const t0 = i * 0.5 + random();
    const msg = ++sent[from];
    const name = names[i % names.length];
    // What a send and its delivery both carry.
    const wire = { msg, kind: 0, ctx: 0, tag: 100 + (i % 5), bytes: 20, name };
    out.push({ t: t0, ev: 'send', rank: from, to, ...wire, preview: `{"n":${i}}`, order: 0 });
    if (i % 50 === 0) out.push({ t: t0 + 2, ev: 'drop', rank: from, to, msg, name, reason: 'random', order: 2 });
    else out.push({ t: t0 + 1 + random() * 5, ev: 'deliver', rank: to, from, ...wire, order: 1 });
    if (i % 200 === 0) out.push({ t: t0, ev: 'note', rank: from, name: 'round', value: i / 200, order: 2 });
  }
  return out.sort((a, b) => a.t - b.t || a.order - b.order).map(({ order: _, ...e }) => e);
}
