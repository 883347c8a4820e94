/** Systematic exploration of schedules (docs/exploration.md): `import { explore } from 'dsmpi/explore'`. */
export {
  explore,
  replayLine,
  ASYNC_MAX_STEPS,
  TIMER_BUDGET,
  type ExploreOptions,
  type ExploreReport,
  type ExploreRun,
  type Counterexample,
  type StrategyName,
  type PartitionShape,
} from './explore.ts';
export { PARTITION_MS, PAUSE_MS } from './fault-choices.ts';
export type { TimingModel } from './enabled.ts';
export { checkRoundOptions, type RoundCost } from './rounds.ts';
export type { PctThreads } from './strategies.ts';
export { formatSchedule, parseSchedule, type Choice, type FaultChoice, type Schedule } from './schedule.ts';
export {
  checkStateSpace,
  type Monitor,
  type SpaceInput,
  type SpaceMachine,
  type SpaceMessage,
  type SpaceNode,
  type SpaceView,
  type StateSpaceOptions,
  type StateSpaceReport,
  type Symmetry,
} from './state-space.ts';
export { canonical } from './canonical.ts';
