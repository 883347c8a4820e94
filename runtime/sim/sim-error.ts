import { DsError, type ErrorCode } from '../errors.ts';
import type { TraceEvent } from '../protocol/trace-event.ts';

/** A failed simulation: deadlock, time limit, or a rank's error. Carries what is needed to replay it. */
export class SimulationError extends DsError {
  readonly seed: number;
  readonly timeMs: number;
  /** The rank whose error or abort ended the run, if any. */
  readonly rank: number | undefined;
  /** One line per rank: finished, crashed, or what it waits on. */
  readonly waiting: string[];
  declare readonly trace: TraceEvent[];

  constructor(
    code: ErrorCode,
    message: string,
    details: { seed: number; timeMs: number; rank?: number; waiting: string[]; trace: TraceEvent[]; cause?: unknown },
  ) {
    super(code, `${message}\n${details.waiting.map((w) => `  ${w}`).join('\n')}`, { cause: details.cause });
    this.name = 'SimulationError';
    this.seed = details.seed;
    this.timeMs = details.timeMs;
    this.rank = details.rank;
    this.waiting = details.waiting;
    // Not enumerable: printing the error should not print the whole trace.
    Object.defineProperty(this, 'trace', { value: details.trace, enumerable: false });
  }
}

/** Ends the run with a SimulationError (the first call wins): `what` happened, `detail` says more. */
export type Fail = (code: ErrorCode, what: string, detail: string, rank?: number, cause?: unknown) => void;
