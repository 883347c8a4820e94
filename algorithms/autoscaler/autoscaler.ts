/**
 * An autoscaler that keeps its job alive (book 8.4.1, exercise 7; spec 2.7): rank 0 of the job is the
 * manager. It holds a task queue and a pool of worker ranks it spawned (one intercomm, grown with
 * Intercomm.spawn), samples the load per host every `sampleMs` (load-sampler.ts, injectable), and
 * applies decide() (decision.ts): it adds workers when the load is high and retires specific workers
 * when it is low, logging every decision as `load=x active=n decision=+k/-k/hold`. Existing workers
 * are never restarted: the pool changes one worker at a time around them.
 *
 * No task is lost or done twice while scaling: the manager hands a task only to a worker that asks
 * for one (Request, which carries the result of its previous task), so a worker holds at most one
 * task. To retire a worker the manager marks it; an idle worker is told at once (Retire), a busy one
 * when it next asks, i.e. after its result is in. The worker answers Bye and retires. A worker that
 * is lost (crash) gives its task back to the queue.
 */
import { defineTags, ANY_SOURCE, ANY_TAG, ErrorCode, isDsError, type Communicator, type Intercomm, type SpawnOptions } from 'dsmpi';
import { checkPolicy, decide, defaultPolicy, formatDecision, initialScaleState, type ScalePolicy } from './decision.ts';
import { meanLoad, type LoadSampler } from './load-sampler.ts';

export const Tag = defineTags('autoscaler', [
  /** worker → manager: give me a task; carries the result of the previous one, if any. */
  'Request',
  /** manager → worker: a task. */
  'Task',
  /** manager → worker: finish up and retire. */
  'Retire',
  /** worker → manager: retiring now. */
  'Bye',
]);

export interface Task {
  id: number;
  payload: unknown;
}

export interface Completion {
  id: number;
  result: unknown;
  /** World rank of the worker that did it. */
  worker: number;
}

export interface AutoscalerOptions {
  policy?: Partial<ScalePolicy>;
  /** The tasks to do (payloads); their ids are their indices. */
  tasks: unknown[];
  sampler: LoadSampler;
  /** Time between load samples, in ms of the communicator's clock. */
  sampleMs: number;
  /** Keep going until at least this many samples were taken, even when the tasks are done (tests, demos). */
  minSamples?: number;
  /** Where decisions are logged (default console.log). */
  log?: (line: string) => void;
  /** What workers run (default: this program; docs/dynamic-processes.md). */
  spawn?: SpawnOptions;
}

export interface AutoscalerReport {
  completions: Completion[];
  /** Task ids done more than once (must stay empty). */
  duplicates: number[];
  /** Every decision, in order. */
  decisions: Array<{
    atMs: number;
    load: number;
    active: number;
    delta: number;
  }>;
  /** World ranks of every worker ever spawned, in spawn order (each spawned once: never restarted). */
  spawned: number[];
  /** World ranks of retired workers, in order. */
  retired: number[];
  /** Most workers active at once. */
  peak: number;
}

type WorkerState = {
  world: number;
  status: 'busy' | 'idle' | 'retiring' | 'gone';
  task?: Task;
};

/** The manager (rank 0 of the job): spawns and retires workers, hands out tasks, returns a report. */
export async function runManager(world: Communicator, options: AutoscalerOptions): Promise<AutoscalerReport> {
  const policy = checkPolicy({ ...defaultPolicy, ...options.policy });
  const log = options.log ?? ((line: string) => console.log(line));
  const clock = world.clock;
  const queue: Task[] = options.tasks.map((payload, id) => ({ id, payload }));
  const total = queue.length;
  const done = new Map<number, Completion>();
  const report: AutoscalerReport = {
    completions: [],
    duplicates: [],
    decisions: [],
    spawned: [],
    retired: [],
    peak: 0,
  };
  const workers: WorkerState[] = [];
  const active = (): number => workers.filter((w) => w.status === 'busy' || w.status === 'idle').length;

  let pool: Intercomm | undefined;
  const grow = async (k: number): Promise<void> => {
    const first = pool ? pool.size : 0;
    if (pool) await pool.spawn(k, options.spawn);
    else pool = await world.spawn(k, options.spawn);
    for (let i = first; i < pool.size; i++) {
      workers[i] = { world: pool.worldRank(i), status: 'busy' }; // busy until its first Request
      report.spawned.push(pool.worldRank(i));
    }
    report.peak = Math.max(report.peak, active());
  };
  const assign = async (i: number): Promise<void> => {
    const w = workers[i];
    if (w.status === 'retiring') {
      await pool!.send(null, i, Tag.Retire);
      return;
    }
    const task = queue.shift();
    w.task = task;
    w.status = task ? 'busy' : 'idle';
    if (task) await pool!.send(task, i, Tag.Task);
  };
  const shrink = async (k: number): Promise<void> => {
    // Idle workers first (they retire at once), then the newest busy ones (after their task).
    const order = workers
      .map((w, i) => ({ w, i }))
      .filter(({ w }) => w.status === 'idle' || w.status === 'busy')
      .sort((a, b) => Number(b.w.status === 'idle') - Number(a.w.status === 'idle') || b.i - a.i);
    for (const { w, i } of order.slice(0, k)) {
      const wasIdle = w.status === 'idle';
      w.status = 'retiring';
      if (wasIdle) await pool!.send(null, i, Tag.Retire);
    }
  };
  const handle = async (source: number, tag: number, data: unknown): Promise<void> => {
    const w = workers[source];
    if (tag === Tag.Request) {
      const c = (data as { done?: Completion } | null)?.done;
      if (c) {
        if (done.has(c.id)) report.duplicates.push(c.id);
        else {
          done.set(c.id, c);
          report.completions.push(c);
        }
      }
      w.task = undefined;
      if (w.status === 'busy' || w.status === 'retiring') await assign(source);
    } else if (tag === Tag.Bye) {
      w.status = 'gone';
      report.retired.push(w.world);
    }
  };
  /** A lost worker gives its task back. */
  const lost = (i: number): void => {
    const w = workers[i];
    if (w.status === 'gone') return;
    if (w.task && !done.has(w.task.id)) queue.unshift(w.task);
    w.task = undefined;
    w.status = 'gone';
  };

  let state = initialScaleState;
  let samples = 0;
  const minSamples = options.minSamples ?? 0;
  await grow(Math.max(1, policy.minWorkers));
  let nextSampleAt = clock.now() + options.sampleMs;
  while (done.size < total || samples < minSamples) {
    // Work that waits (tasks queued) goes to idle workers, e.g. tasks given back by a lost worker.
    for (let i = 0; i < workers.length && queue.length > 0; i++) if (workers[i].status === 'idle') await assign(i);
    const waitMs = nextSampleAt - clock.now();
    if (waitMs > 0) {
      try {
        const m = await pool!.recv(ANY_SOURCE, ANY_TAG, { timeoutMs: waitMs });
        await handle(m.source, m.tag, m.data);
      } catch (err) {
        if (!isDsError(err, ErrorCode.Timeout)) throw err;
      }
      for (const i of pool!.failed()) lost(i);
      continue;
    }
    nextSampleAt += options.sampleMs;
    samples++;
    const load = meanLoad(await options.sampler.sample());
    const n = active();
    const d = decide(state, load, n, policy);
    state = d.state;
    log(formatDecision(load, n, d.delta));
    if (d.delta !== 0) world.note('scale', { load, active: n, delta: d.delta });
    report.decisions.push({
      atMs: clock.now(),
      load,
      active: n,
      delta: d.delta,
    });
    if (d.delta > 0) await grow(d.delta);
    if (d.delta < 0) await shrink(-d.delta);
  }
  // Every task is done: retire the whole pool, and wait for each Bye.
  await shrink(workers.length);
  while (workers.some((w) => w.status === 'retiring')) {
    const m = await pool!.recv(ANY_SOURCE, ANY_TAG);
    await handle(m.source, m.tag, m.data);
  }
  return report;
}

/**
 * A worker (a rank spawned by the manager): asks for tasks, does each with `work`, and retires when
 * told. Returns only by retiring.
 */
export async function runWorker(
  world: Communicator,
  work: (task: Task, world: Communicator) => Promise<unknown> | unknown,
): Promise<never> {
  const manager = world.parent;
  if (!manager) throw new Error('runWorker: this rank was not spawned (world.parent is undefined)');
  const me = manager.selfWorldRank;
  let previous: Completion | undefined;
  for (;;) {
    await manager.send(previous ? { done: previous } : null, 0, Tag.Request);
    const m = await manager.recv<Task | null>(0, ANY_TAG);
    if (m.tag === Tag.Retire) {
      await manager.send(null, 0, Tag.Bye);
      return world.retire();
    }
    const task = m.data as Task;
    previous = { id: task.id, result: await work(task, world), worker: me };
  }
}
