/**
 * dsmpi: MPI-style message passing for TypeScript on Node.js. This file is the public API; user
 * programs import from 'dsmpi'.
 */
export { ANY_SOURCE, ANY_TAG, PROC_NULL, TAG_UB, UNDEFINED } from './constants.ts';
export { DsError, ErrorCode, isDsError } from './errors.ts';
export { Communicator, type RecvOptions } from './communicator.ts';
export type { Message, Status } from './matching.ts';
export { Request, waitAll, waitAny, type TestResult } from './request.ts';
export type { Clock } from './clock.ts';
export { runLocal, startLocal, type LocalOptions, type LocalJob } from './local.ts';
export { run, type RunOptions } from './run.ts';
