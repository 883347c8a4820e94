import type { Random } from '../random.ts';
import { InProcessNetwork, type RankHooks } from '../transport/in-process-network.ts';
import { restartsRanks, type FaultOptions } from './faults.ts';
import type { Scheduler } from './scheduler.ts';
import type { TraceRecorder } from './trace.ts';

export type { RankHooks } from '../transport/in-process-network.ts';

export interface SimNetworkOptions {
  scheduler: Scheduler;
  /** The seed's network stream. */
  random: Random;
  /** Each link's own stream instead (rank clocks, SimulateOptions.rankClocks). */
  linkRandom?: (from: number, to: number) => Random;
  faults: FaultOptions;
  trace: TraceRecorder;
  hooks: RankHooks;
  maxPayload?: number;
  /** Whether crashes an explorer chooses restart ranks. */
  restarts?: boolean;
}

/**
 * The simulator's network: the in-process network in virtual time, with the run's faults, drawing
 * from the network stream of the seed (or, with `linkRandom`, from each link's stream) and tracing
 * every message event.
 */
export class SimNetwork extends InProcessNetwork {
  constructor(n: number, { faults, restarts, ...rest }: SimNetworkOptions) {
    // Faults that reorder messages or restart ranks take flow control's guarantees away: the engine does without it.
    super(n, { ...rest, faults, withoutFlowControl: !!faults.breakFifo || restartsRanks(faults) || !!restarts });
  }
}
