// The simulator's network passes the transport conformance suite. Its events run in virtual time:
// the harness steps the scheduler whenever the test's code waits, as simulate() does.
import t from 'tap';
import { SimNetwork } from '../../runtime/sim/sim-network.ts';
import { aliveOnlyHooks } from '../../runtime/transport/in-process-network.ts';
import { Scheduler, settle } from '../../runtime/sim/scheduler.ts';
import { TraceRecorder } from '../../runtime/sim/trace.ts';
import { seededRandom } from '../../runtime/random.ts';
import type { FaultOptions } from '../../runtime/sim/faults.ts';
import type { Transport, TransportEvents } from '../../runtime/transport.ts';
import { conformance } from './conformance.ts';

for (const [name, faults] of [
  ['sim', {}],
  // Reordering across senders, never within a pair: the suite's per-pair order must still hold.
  ['sim (reorder)', { reorder: { probability: 0.5, maxMs: 5 }, delay: { meanMs: 1 } }],
] as Array<[string, FaultOptions]>) {
  conformance(t, name, async (n) => {
    const scheduler = new Scheduler();
    const alive = new Array<boolean>(n).fill(true);
    const network = new SimNetwork(n, {
      scheduler,
      random: seededRandom(3, 1),
      faults,
      trace: new TraceRecorder(),
      hooks: aliveOnlyHooks(alive),
    });
    // simulate() tells the engines of a crash itself; here the transports' events are told.
    const events: Array<TransportEvents | undefined> = [];
    const transports = Array.from({ length: n }, (_, rank): Transport => {
      const inner = network.endpoint(rank, 0);
      return Object.assign(Object.create(inner) as Transport, {
        start: (e: TransportEvents) => {
          events[rank] = e;
          inner.start(e);
        },
      });
    });
    let running = true;
    void (async () => {
      while (running) {
        if (scheduler.step()) await settle();
        else await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })();
    return {
      transports,
      crash: (r) => {
        alive[r] = false;
        for (let peer = 0; peer < n; peer++) {
          if (peer !== r) network.afterInFlight(r, peer, 0, () => events[peer]?.onPeerLost(r, 'crashed'));
        }
      },
      cleanup: async () => {
        running = false;
      },
    };
  });
}
