/**
 * Consistent-cut checker (course notes D1). A run is given as each rank's events in order (sends and
 * receives of uniquely named messages); a cut takes the first cut[r] events of each rank r. The cut
 * is consistent iff no message is received inside it but sent outside it (every receive's cause is
 * in the cut). The messages sent inside and received outside are the channel state a snapshot of
 * that cut must record.
 */

export interface CutEvent {
  kind: 'send' | 'recv';
  /** The message's unique id. */
  id: string;
  /** The other end: the destination of a send, the source of a receive. */
  peer: number;
}

export interface InTransit {
  id: string;
  from: number;
  to: number;
}

export interface CutCheck {
  consistent: boolean;
  /** Receives inside the cut whose send is not: each makes the cut inconsistent. */
  orphans: string[];
  /** Messages sent inside the cut and not received inside it, sorted by id. */
  inTransit: InTransit[];
}

export function checkCut(events: readonly (readonly CutEvent[])[], cut: readonly number[]): CutCheck {
  if (cut.length !== events.length) throw new RangeError(`checkCut: ${events.length} ranks but a cut of ${cut.length}`);
  const sentInside = new Map<string, InTransit>();
  const receivedInside = new Set<string>();
  events.forEach((evs, r) => {
    if (!(Number.isInteger(cut[r]) && cut[r] >= 0 && cut[r] <= evs.length))
      throw new RangeError(`checkCut: cut[${r}] = ${cut[r]} outside 0..${evs.length}`);
    for (const e of evs.slice(0, cut[r])) {
      if (e.kind === 'send') sentInside.set(e.id, { id: e.id, from: r, to: e.peer });
      else receivedInside.add(e.id);
    }
  });
  const orphans = [...receivedInside].filter((id) => !sentInside.has(id)).sort();
  const inTransit = [...sentInside.values()]
    .filter((m) => !receivedInside.has(m.id))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { consistent: orphans.length === 0, orphans, inTransit };
}
