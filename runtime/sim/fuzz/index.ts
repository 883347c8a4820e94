/** The swarm fuzzer (docs/fuzzing.md): `import { fuzz } from 'dsmpi/fuzz'`. */
export {
  fuzz,
  runCase,
  LivenessError,
  replayCommand,
  type FuzzTarget,
  type FuzzRun,
  type FuzzOptions,
  type FuzzReport,
  type FuzzFailure,
  type CaseOutcome,
  type Tally,
  type Verdict,
} from './fuzz.ts';
export {
  FAULT_KINDS,
  faultOptions,
  kindsOf,
  minority,
  normalize,
  plannedStabilizationMs,
  scheduleArbitrary,
  type FaultKind,
  type FaultSchedule,
} from './schedule.ts';
export { TABLE_HEADER, tableRow, failureLines, mergeReports } from './report.ts';
