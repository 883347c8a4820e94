/**
 * dsmpi: MPI-style message passing for TypeScript on Node.js. This file is the public API; user
 * programs import from 'dsmpi'.
 */
export { ANY_SOURCE, ANY_TAG, PROC_NULL, TAG_UB, UNDEFINED } from './constants.ts';
export { DsError, ErrorCode, isDsError } from './errors.ts';
export { Communicator, type RecvOptions } from './communicator.ts';
export { Intercomm } from './intercomm.ts';
export type { SpawnOptions } from './rank-context.ts';
export type { ReduceOp, ReduceOpName, ReduceFn } from './reduce-ops.ts';
export { Counter, type CounterOp, type CounterOptions } from './one-sided/counter.ts';
export { Window, type WindowOptions, type AccumulateOp, type LockType } from './one-sided/window.ts';
export type { Message, Status } from './matching.ts';
export { Request, waitAll, waitAny, type TestResult } from './request.ts';
export type { Clock } from './clock.ts';
export { epochMs, epochOffsetMs } from './protocol/epoch-clock.ts';
export { runLocal, startLocal, type LocalOptions, type LocalJob } from './local.ts';
export { run, type RunOptions } from './run.ts';
export type { DurableStorage } from './storage.ts';
export { simulate, SimulationError, type SimulateOptions, type SimulationResult } from './sim/simulate.ts';
export type {
  FaultOptions,
  DelaySpec,
  PartitionSpec,
  RandomPartitions,
  CrashSpec,
  RandomCrashes,
  PauseSpec,
  RandomPauses,
} from './sim/faults.ts';
export { summarizeTrace, type TraceSummary, type Traffic, type RankTraffic } from './protocol/trace-summary.ts';
export { formatTrace, formatTraceEvent, parseTrace, type TraceEvent, type TraceEventType } from './protocol/trace-event.ts';
export { defineTags, FIRST_ALLOCATED_TAG, type TagTable } from './tag-registry.ts';
