import type { MembershipOutcome, MembershipService } from '../services.ts';

interface Call {
  members: readonly number[];
  arrived: Map<number, { nextContext: number; flag: boolean; resolve: (outcome: MembershipOutcome) => void }>;
}

/**
 * The simulator's referee of shrink() and agree(), as dsrun's coordinator is under dsrun: a call is
 * decided once every member has made it or is absent (crashed for good, retired, or finished).
 */
export class SimMembership {
  private readonly calls = new Map<string, Call>();
  private readonly absent: (rank: number) => boolean;

  constructor(absent: (rank: number) => boolean) {
    this.absent = absent;
  }

  /** The service of `rank`, while `alive()` says its incarnation runs. */
  service(rank: number, alive: () => boolean): MembershipService {
    return {
      shrink: (key, members, nextContext, flag) =>
        new Promise((resolve) => {
          if (!alive()) return;
          let call = this.calls.get(key);
          if (!call) {
            call = { members: [...members], arrived: new Map() };
            this.calls.set(key, call);
          }
          call.arrived.set(rank, { nextContext, flag: flag !== false, resolve });
          this.check(key);
        }),
    };
  }

  /** A rank became absent: calls that waited on it may be decided now. */
  recheck(): void {
    for (const key of [...this.calls.keys()]) this.check(key);
  }

  private check(key: string): void {
    const call = this.calls.get(key)!;
    if (!call.members.every((r) => call.arrived.has(r) || this.absent(r))) return;
    this.calls.delete(key);
    const alive = call.members.filter((r) => call.arrived.has(r) && !this.absent(r));
    let context = Math.max(...[...call.arrived.values()].map((a) => a.nextContext));
    if (context % 2 === 1) context++;
    const flag = alive.every((r) => call.arrived.get(r)!.flag);
    for (const r of alive) call.arrived.get(r)!.resolve({ alive, context, flag });
  }
}
