/**
 * The one error class of dsmpi. Every code is documented in docs/errors.md, which says whether it is
 * definite (nothing happened: safe to retry) or indefinite (the peer may still act on it).
 */
export const ErrorCode = {
  /** Programmer error in arguments (bad tag, bad option). Definite. */
  InvalidArgument: 'DS_ERR_INVALID_ARGUMENT',
  /** A rank outside 0..size-1 (and not PROC_NULL / a wildcard where allowed). Definite. */
  InvalidRank: 'DS_ERR_INVALID_RANK',
  /** A payload MessagePack cannot carry as plain data (function, Map, class instance, cycle). Definite. */
  Unencodable: 'DS_ERR_UNENCODABLE',
  /** A payload larger than the transport's maxPayload. Definite. */
  PayloadTooLarge: 'DS_ERR_PAYLOAD_TOO_LARGE',
  /** A receive (or another wait) ran out of time. Definite: nothing was consumed. */
  Timeout: 'DS_ERR_TIMEOUT',
  /** The request was cancelled by the program. Definite. */
  Cancelled: 'DS_ERR_CANCELLED',
  /** The peer died or was cut off. Indefinite for sends: the peer may have received it. */
  PeerLost: 'DS_ERR_PEER_LOST',
  /** A frame that could not be decoded. Reported on the receiving rank; the connection is dropped. */
  Decode: 'DS_ERR_DECODE',
  /** A well-formed frame that breaks the protocol (unknown kind, unknown communicator). */
  Protocol: 'DS_ERR_PROTOCOL',
  /** A connection that did not pass the handshake (docs/security.md). Refused; the job is unaffected. */
  Auth: 'DS_ERR_AUTH',
  /** The job was aborted (by a rank's uncaught error, abort(), or the launcher). */
  Aborted: 'DS_ERR_ABORTED',
  /** The peer retired: it left the job normally (runtime/spawn.ts). Definite for sends: it was not sent. */
  Retired: 'DS_ERR_RETIRED',
  /** The communicator was freed or the runtime shut down. Definite. */
  Closed: 'DS_ERR_CLOSED',
  /** The communicator was revoked (comm.revoke() on any member): only shrink() and agree() work on it. */
  Revoked: 'DS_ERR_REVOKED',
  /** A reduction or one-sided operator failed on the data (arrays of different lengths, a user op threw). Definite. */
  OpFailed: 'DS_ERR_OP_FAILED',
  /** run() was started without the environment dsrun provides. */
  NoLauncher: 'DS_ERR_NO_LAUNCHER',
  /** Simulation: no event is left to run, but ranks still wait (their operations are listed). */
  Deadlock: 'DS_ERR_DEADLOCK',
  /** Simulation: the run went past its limit of virtual time (timeLimitMs) or of events (maxSteps). */
  TimeLimit: 'DS_ERR_TIME_LIMIT',
  /** Simulation: a property checked after every event (explore's `always`) did not hold. */
  Invariant: 'DS_ERR_INVARIANT',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class DsError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DsError';
    this.code = code;
  }
}

export function isDsError(err: unknown, code?: ErrorCode): err is DsError {
  return err instanceof DsError && (code === undefined || err.code === code);
}
