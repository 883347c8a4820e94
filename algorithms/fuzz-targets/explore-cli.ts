/**
 * `npm run explore -- <algorithm> [options]`: systematic exploration of an algorithm's schedules in
 * the simulator (docs/exploration.md), with the fuzz target's invariants; and
 * `npm run explore -- bench`: each strategy against random seeds on the bug benchmark (mutants.ts).
 * Exits 1 when a search finds a failure.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  ASYNC_MAX_STEPS,
  checkRoundOptions,
  explore,
  formatSchedule,
  PARTITION_MS,
  parseSchedule,
  PAUSE_MS,
  type ExploreOptions,
  type ExploreReport,
  type PartitionShape,
  type PctThreads,
  type RoundCost,
  type StrategyName,
  TIMER_BUDGET,
} from 'dsmpi/explore';
import { integer } from './cli-options.ts';
import { targetNamed, targets } from './index.ts';
import { loadMutant, mutants, type Mutant, type MutantFaults } from './mutants.ts';
import { checkPaxosSpace } from './bfs-paxos.ts';
import { checkStaterightPaxos } from './stateright-paxos.ts';
import type { StateSpaceReport } from 'dsmpi/explore';
import type { FuzzTarget } from 'dsmpi/fuzz';

const STRATEGIES: StrategyName[] = ['seeds', 'random', 'pct', 'pctcp', 'delay-bounding', 'dfs', 'dpor'];
/** What the bench compares by default: dfs without a delay bound would not end on these programs; dpor runs with --strategy dpor. */
const BENCH_STRATEGIES: StrategyName[] = ['seeds', 'random', 'pct', 'pctcp', 'delay-bounding'];

interface Flags {
  n?: number;
  strategy: StrategyName;
  seed: number;
  executions?: number;
  depth: number;
  pctThreads: PctThreads;
  delays?: number;
  drops: number;
  crashes: number;
  restartAfter?: number;
  partitions: number;
  partitionMs: number;
  partitionShape: PartitionShape;
  pauses: number;
  pauseMs: number;
  timing: 'bounded' | 'async';
  timerSlack: number;
  timerBudget?: number;
  maxSteps?: number;
  rankClocks: boolean;
  sleepSets: boolean;
  deepening: boolean;
  roundCost: RoundCost;
  shallowFirst?: number;
  schedule?: string;
  trace?: string;
  searches: number;
  mutant?: string;
  ticks?: number;
  symmetry: boolean;
  deadMessages: boolean;
  literalDrops: boolean;
  maxStates?: number;
  minimize: boolean;
}

/** The state-machine models `npm run explore -- bfs <model>` searches (docs/exploration.md, "Stateful search"). */
const BFS_MODELS = ['paxos', 'stateright-paxos'];

const program = new Command('explore')
  .description("Search an algorithm's schedules systematically in the simulator, checking its invariants after every event")
  .argument('<algorithm>', `one of: ${targets.map((t) => t.name).join(', ')}; or bench; or bfs`)
  .argument('[model]', `bfs: the state-machine model to search breadth-first (${BFS_MODELS.join(', ')})`)
  .option('--n <N>', 'number of ranks (default: the least the algorithm runs at, at least 3)', integer('--n', 1))
  .addOption(new Option('--strategy <name>', 'how to choose schedules').choices(STRATEGIES).default('pct'))
  .option('--seed <S>', "the simulator's seed: latencies, comm.random()", integer('--seed', 0), 1)
  .option(
    '--executions <E>',
    'at most this many executions (default 1000; delay bounding, dfs, dpor: until exhausted)',
    integer('--executions', 1),
  )
  .option('--depth <d>', "PCT's and PCTCP's depth", integer('--depth', 1), 3)
  .addOption(
    new Option(
      '--pct-threads <what>',
      "what PCT gives priorities to: a delivery's sender, its receiver, or each link (and each rank's timers)",
    )
      .choices(['sender', 'receiver', 'link'])
      .default('link'),
  )
  .option('--delays <k>', 'delay bounding: at most k delays (default 2); dfs: unbounded unless given', integer('--delays', 0))
  .option('--sleep-sets', 'delay bounding and dfs: partial-order reduction, skipping reorderings of different ranks’ events', false)
  .option('--no-deepening', 'dpor: one depth-first search of the reduced space, not rounds of 0, 1, … deviations')
  .option(
    '--shallow-first <N>',
    "delay bounding and dpor: each round's deviations first at the first N steps of a run, then 2N, … until every step",
    integer('--shallow-first', 1),
  )
  .addOption(
    new Option(
      '--round-cost <what>',
      "delay bounding's and dpor's rounds bound the delays (taking the i-th enabled event costs i) or the deviations (each costs 1)",
    )
      .choices(['delays', 'deviations'])
      .default('delays'),
  )
  .option(
    '--drops <k>',
    'at most k messages lost by the explorer per execution (bench: instead of each mutant’s budget)',
    integer('--drops', 0),
    0,
  )
  .option(
    '--crashes <c>',
    'at most c crashes chosen by the explorer per execution, each a step of its own (c2: rank 2; bench: instead of each mutant’s budget)',
    integer('--crashes', 0),
    0,
  )
  .option(
    '--restart-after <ms>',
    'a crashed rank restarts this many ms later with only its durable storage (default: crash-stop, the others are told)',
    milliseconds('--restart-after'),
  )
  .option(
    '--partitions <p>',
    'at most p partitions chosen by the explorer per execution, each a step of its own (p2: rank 2 cut off; p0>1: link 0→1 cut; bench: instead of each mutant’s budget)',
    integer('--partitions', 0),
    0,
  )
  .option('--partition-ms <ms>', `how long a chosen partition lasts, or 'never' (default ${PARTITION_MS})`, partitionMs, PARTITION_MS)
  .addOption(
    new Option('--partition-shape <shape>', 'what a chosen partition cuts: one rank off from all others both ways, or one link one way')
      .choices(['isolate', 'one-way'])
      .default('isolate'),
  )
  .option(
    '--pauses <s>',
    'at most s pauses chosen by the explorer per execution, each a step of its own (s2: rank 2 suspended; bench: instead of each mutant’s budget)',
    integer('--pauses', 0),
    0,
  )
  .option('--pause-ms <ms>', `how long a chosen pause lasts (default ${PAUSE_MS})`, milliseconds('--pause-ms'), PAUSE_MS)
  .addOption(
    new Option('--timing <model>', 'bounded: timeouts keep their meaning; async: any pending event may go next')
      .choices(['bounded', 'async'])
      .default('bounded'),
  )
  .option('--timer-slack <ms>', 'bounded timing: a timer may fire up to this many ms late, so timer races are searched', slackMs, 0)
  .option(
    '--timer-budget <k>',
    `async timing: times per execution each rank’s timer may fire ahead of an event due before it (default ${TIMER_BUDGET})`,
    integer('--timer-budget', 0),
  )
  .option(
    '--rank-clocks',
    'each rank its own clock, each link its own latency stream: events of different ranks commute exactly (for dpor)',
    false,
  )
  .option(
    '--max-steps <N>',
    `cut an execution after N events, as no failure found (default: ${ASYNC_MAX_STEPS} under async timing)`,
    integer('--max-steps', 1),
  )
  .option('--schedule <S>', 'run one schedule (what a failure printed) and say what happened; bench: on each --mutant', schedule)
  .option('--trace <file>', "write the counterexample's trace (JSONL) for dsrun view")
  .option('--searches <K>', 'bench: searches per mutant and strategy (each with its own seed)', integer('--searches', 1), 30)
  .option('--ticks <t>', 'bfs paxos: timer firings per proposer (default 1)', integer('--ticks', 0))
  .option('--no-symmetry', 'bfs paxos: do not fold the permutations of the acceptors')
  .option('--no-dead-messages', 'bfs paxos: keep in flight the messages that can change nothing any more')
  .option('--literal-drops', 'bfs paxos: branch on each loss (default: --drops is proven as delays, for any number of losses)', false)
  .option('--max-states <N>', 'bfs: stop after this many states (default 20 million)', integer('--max-states', 1))
  .option('--no-minimize', 'bench: do not minimize counterexamples (their length is then the search’s own)')
  .option('--mutant <name>', `bench: only these mutants, comma-separated (${mutants.map((m) => m.name).join(', ')})`)
  .action(main);

async function main(name: string, model: string | undefined, flags: Flags): Promise<void> {
  try {
    // Here for the bench too, which runs explore() once per row.
    checkRoundOptions(flags);
  } catch (err) {
    const strategy = given('strategy') ? '' : ` (the default --strategy; give --strategy delay-bounding or dpor)`;
    return program.error(`error: ${(err as Error).message}${strategy}`);
  }
  if (name === 'bench') return bench(flags);
  if (name === 'bfs') return bfs(model, flags);
  if (model !== undefined) return program.error(`error: unexpected argument '${model}' (only bfs takes a model)`);
  const target = targetNamed(name);
  if (!target) return program.error(`error: no algorithm '${name}'; one of: ${targets.map((t) => t.name).join(', ')}; or bench`);
  const n = flags.n ?? Math.max(3, target.minN);
  if (n < target.minN || n > target.maxN) program.error(`error: ${name} runs at n = ${target.minN}..${target.maxN}, not ${n}`);
  const options: ExploreOptions = {
    n,
    strategy: flags.strategy,
    seed: flags.seed,
    executions: flags.executions,
    depth: flags.depth,
    pctThreads: flags.pctThreads,
    delays: flags.delays,
    drops: flags.drops,
    crashes: flags.crashes,
    restartAfterMs: flags.restartAfter,
    partitions: flags.partitions,
    partitionMs: flags.partitionMs,
    partitionShape: flags.partitionShape,
    pauses: flags.pauses,
    pauseMs: flags.pauseMs,
    sleepSets: flags.sleepSets,
    deepening: flags.deepening,
    roundCost: flags.roundCost,
    shallowFirst: flags.shallowFirst,
    timing: flags.timing,
    timerSlackMs: flags.timerSlack,
    timerBudget: flags.timerBudget,
    maxSteps: flags.maxSteps,
    rankClocks: flags.rankClocks,
    schedule: flags.schedule,
    trace: flags.trace,
  };
  let report: ExploreReport;
  try {
    // DSMPI_SCHEDULE is read by explore() itself: a malformed one is refused here as the flag is.
    if (options.schedule === undefined && process.env.DSMPI_SCHEDULE !== undefined) schedule(process.env.DSMPI_SCHEDULE);
    report = await explore(options, () => target.setup(n));
  } catch (err) {
    return program.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  }
  for (const line of describe(report, name, flags, n)) console.log(line);
  if (report.failure) process.exitCode = 1;
}

/** A --timer-slack value: milliseconds >= 0. */
function slackMs(raw: string): number {
  const ms = Number(raw);
  if (raw.trim() === '' || !(ms >= 0) || !Number.isFinite(ms))
    throw new InvalidArgumentError(`--timer-slack takes milliseconds >= 0, got '${raw}'`);
  return ms;
}

/** A parser of milliseconds >= 0, with an error that names the option. */
function milliseconds(what: string): (raw: string) => number {
  return (raw) => {
    const ms = Number(raw);
    if (raw.trim() === '' || !(ms >= 0) || !Number.isFinite(ms))
      throw new InvalidArgumentError(`${what} takes milliseconds >= 0, got '${raw}'`);
    return ms;
  };
}

/** A --partition-ms value: milliseconds > 0, or 'never' (the partition does not heal). */
function partitionMs(raw: string): number {
  if (raw === 'never') return Infinity;
  const ms = Number(raw);
  if (raw.trim() === '' || !(ms > 0) || !Number.isFinite(ms))
    throw new InvalidArgumentError(`--partition-ms takes milliseconds > 0 or 'never', got '${raw}'`);
  return ms;
}

/** A --schedule value, refused with the reason when malformed. */
function schedule(raw: string): string {
  try {
    return formatSchedule(parseSchedule(raw));
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function describe(r: ExploreReport, name: string, flags: Flags, n: number): string[] {
  const lines = [
    `${name} at n = ${n}, ${r.strategy}, ${flags.timing} timing${flags.rankClocks ? ', rank clocks' : ''}: ${r.executions} executions` +
      (r.rounds ? `, in rounds of ${r.rounds.join(', ')} for 0, 1, … deviations` : '') +
      (r.revisits ? ` (${r.revisits} repeating an earlier round)` : '') +
      (r.pruned ? ` (${r.pruned} cut short by sleep sets)` : '') +
      // Only a capped execution is cut: with --max-steps, or under async timing by default.
      (r.cut ? ` (${r.cut} cut at ${flags.maxSteps ?? ASYNC_MAX_STEPS} events, no failure in them)` : '') +
      (flags.timerSlack ? `, timers up to ${flags.timerSlack} ms late` : '') +
      (flags.crashes
        ? flags.restartAfter === undefined
          ? ', crash-stop'
          : `, crashed ranks restart after ${flags.restartAfter} ms`
        : '') +
      (flags.partitions
        ? `, partitions ${flags.partitionShape === 'isolate' ? 'cutting one rank off' : 'cutting one link one way'} ` +
          (flags.partitionMs === Infinity ? 'for good' : `for ${flags.partitionMs} ms`)
        : '') +
      (flags.pauses ? `, pauses of ${flags.pauseMs} ms` : '') +
      ` in ${r.seconds.toFixed(1)} s; ${r.failure ? 'FAILED' : r.exhausted ? 'no failure: the bounded space is exhausted' : 'no failure within the budget'}`,
  ];
  for (const [property, hits] of Object.entries(r.sometimes)) lines.push(`  sometimes ${property}: ${hits} executions`);
  const f = r.failure;
  if (f) {
    lines.push(`  ${f.code} after ${f.foundAfter} executions, ${f.steps} events: ${f.message.split('\n')[0]}`);
    if (f.nondeterministic)
      lines.push('  warning: replaying it twice offered different events: nondeterminism the simulator does not control');
    const timing =
      (flags.timing === 'bounded' ? '' : ` --timing ${flags.timing}`) +
      (flags.timerSlack ? ` --timer-slack ${flags.timerSlack}` : '') +
      (flags.timerBudget !== undefined ? ` --timer-budget ${flags.timerBudget}` : '') +
      (flags.maxSteps !== undefined ? ` --max-steps ${flags.maxSteps}` : '') +
      (flags.rankClocks ? ' --rank-clocks' : '') +
      faultFlags(flags, f.schedule);
    lines.push(
      `  replay: npm run explore -- ${name} --n ${n} --seed ${f.seed}${timing} --schedule '${f.schedule}' --trace cex.jsonl && npx dsrun view cex.jsonl`,
    );
  }
  return lines;
}

/** The flags a schedule with chosen faults replays with: what a crash, a partition and a pause do (the schedule names which). */
function faultFlags(flags: Flags, line: string): string {
  const faults = [...parseSchedule(line).values()].map((c) => c.fault?.kind);
  let out = '';
  if (faults.includes('crash') && flags.restartAfter !== undefined) out += ` --restart-after ${flags.restartAfter}`;
  if (faults.includes('partition')) {
    if (flags.partitionMs !== PARTITION_MS) out += ` --partition-ms ${flags.partitionMs === Infinity ? 'never' : flags.partitionMs}`;
    if (flags.partitionShape !== 'isolate') out += ` --partition-shape ${flags.partitionShape}`;
  }
  if (faults.includes('pause') && flags.pauseMs !== PAUSE_MS) out += ` --pause-ms ${flags.pauseMs}`;
  return out;
}

/** Breadth-first search of a state-machine model: every reachable state, the invariants on each. */
function bfs(model: string | undefined, flags: Flags): void {
  if (!model || !BFS_MODELS.includes(model)) return program.error(`error: bfs takes a model: one of ${BFS_MODELS.join(', ')}`);
  let r: StateSpaceReport;
  let what: string;
  if (model === 'paxos') {
    const drops = flags.drops;
    const ticks = flags.ticks ?? 1;
    const losses =
      drops === 0
        ? 'no loss'
        : flags.literalDrops
          ? `≤${drops} drops`
          : 'any number of losses (each one a delay forever: searched without branching on losses)';
    what =
      `single-decree Paxos port, 2 proposers and 3 acceptors, asynchronous, ${losses}, ≤${ticks} timer firings per proposer` +
      `${flags.symmetry ? ', acceptors symmetric' : ''}${flags.deadMessages ? ', dead messages out' : ''}`;
    const started = performance.now();
    r = checkPaxosSpace({
      drops,
      literalDrops: flags.literalDrops,
      ticks,
      symmetry: flags.symmetry,
      deadMessages: flags.deadMessages,
      maxStates: flags.maxStates,
      onLevel: (p) =>
        console.error(
          `  depth ${p.depth}: ${p.states} states, ${p.transitions} transitions, ${p.frontier} to expand (${((performance.now() - started) / 1000).toFixed(0)} s)`,
        ),
    });
  } else {
    what = "Stateright's Paxos example (3 servers, 2 register clients, linearizability)";
    r = checkStaterightPaxos();
  }
  const rate = r.cpuSeconds > 0 ? Math.round(r.transitions / r.cpuSeconds) : 0;
  console.log(
    `${what}: ${r.states} states, ${r.transitions} transitions, depth ${r.depth}, in ${r.seconds.toFixed(1)} s ` +
      `(${r.cpuSeconds.toFixed(1)} s of CPU: ${rate} transitions/s); ` +
      (r.failure ? 'FAILED' : r.exhausted ? 'no violation: the bounded space is exhausted' : 'no violation within --max-states'),
  );
  if (r.failure) {
    console.log(`  ${r.failure.message}, at depth ${r.failure.depth}:`);
    for (const line of r.failure.path) console.log(`    ${line}`);
    process.exitCode = 1;
  }
}

/** Each strategy against random seeds on every mutant: how many searches find the bug, and how fast. */
async function bench(flags: Flags): Promise<void> {
  const names = flags.mutant?.split(',') ?? mutants.map((m) => m.name);
  const unknown = names.filter((name) => !mutants.some((m) => m.name === name));
  if (unknown.length) program.error(`error: no mutant '${unknown.join(', ')}'; one of: ${mutants.map((m) => m.name).join(', ')}`);
  const chosen = mutants.filter((m) => names.includes(m.name));
  if (flags.schedule !== undefined) return replayOnMutants(chosen, flags.schedule, flags);
  const executions = flags.executions ?? 1000;
  console.log(
    `bug benchmark: ${flags.searches} searches per mutant and strategy, each at most ${executions} executions; ` +
      `random seeds under bounded timing, the other strategies under ${flags.timing} timing; ` +
      `delay bounding and dpor, deterministic, one search with --seed ${flags.seed}` +
      (flags.roundCost === 'deviations' ? ', rounds counting deviations (each 1), not delays' : '') +
      (flags.shallowFirst ? `, each round shallow first (its first ${flags.shallowFirst} steps, then twice as many, …)` : '') +
      (flags.rankClocks ? ', rank clocks' : '') +
      (flags.timerSlack ? `, timers up to ${flags.timerSlack} ms late` : '') +
      (flags.timing === 'async'
        ? `, each rank's timer ahead at most ${flags.timerBudget ?? TIMER_BUDGET} times (unless its timing says more for a mutant that needs it)`
        : '') +
      `, PCT over ${flags.pctThreads} threads` +
      (flags.minimize ? '' : ', counterexamples not minimized'),
  );
  console.log(
    '| mutant | strategy | timing | found | executions to the first failure (median of all searches) | of the searches that found it | seconds to the first failure (median) | ' +
      `deviations in the counterexample${flags.minimize ? '' : ', not minimized'} (median) | executions cut at the step cap |`,
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const m of chosen) {
    const target = await loadMutant(m);
    // --strategy given: only that one.
    const strategies = program.getOptionValueSource('strategy') === 'cli' ? [flags.strategy] : BENCH_STRATEGIES;
    for (const strategy of strategies) {
      if (DETERMINISTIC.includes(strategy)) {
        console.log(await deterministicRow(m, target, strategy, executions, flags));
        continue;
      }
      const found: Array<{ executions: number; seconds: number; length: number }> = [];
      let cut = 0;
      for (let search = 1; search <= flags.searches; search++) {
        const r = await explore(benchOptions(m, strategy, search, executions, flags), () => target.setup(m.n));
        cut += r.cut;
        if (r.failure)
          found.push({
            executions: r.failure.foundAfter,
            seconds: r.failure.secondsToFind,
            length: scheduleLength(r.failure.schedule),
          });
      }
      const med = (k: 'executions' | 'seconds' | 'length'): string => (found.length ? fmt(median(found.map((f) => f[k]))) : '–');
      // Over every search, one that found nothing counting as more than the budget.
      const all = median([...found.map((f) => f.executions), ...Array<number>(flags.searches - found.length).fill(Infinity)]);
      const timing = timingCell(benchOptions(m, strategy, 1, executions, flags));
      console.log(
        `| ${m.name} (n = ${m.n}) | ${strategy} | ${timing} | ${found.length} of ${flags.searches} | ${all === Infinity ? `> ${executions}` : fmt(all)} | ${med('executions')} | ${med('seconds')} | ${med('length')} | ${cut} |`,
      );
    }
  }
}

/** `bench --schedule`: runs that one schedule on each mutant (a deterministic row's counterexample), with the bench's options and --seed. */
async function replayOnMutants(chosen: readonly Mutant[], line: string, flags: Flags): Promise<void> {
  for (const m of chosen) {
    const target = await loadMutant(m);
    const options = { ...benchOptions(m, flags.strategy, 1, 1, flags), seed: flags.seed, schedule: line, trace: flags.trace };
    const r = await explore(options, () => target.setup(m.n));
    const f = r.failure;
    console.log(
      `${m.name} (n = ${m.n}), ${timingCell(options)}, seed ${flags.seed}, schedule ${line}: ` +
        (f ? `FAILED: ${f.code} after ${f.steps} events: ${f.message.split('\n')[0]}` : 'no failure'),
    );
    if (f) process.exitCode = 1;
  }
}

/** Strategies whose search is a function of the program and the seed: one search says all, at one exact count. */
const DETERMINISTIC: StrategyName[] = ['delay-bounding', 'dfs', 'dpor'];

/**
 * One search of a deterministic strategy, with the explorer's seed (--seed): the execution at which
 * it finds the bug and in which round (bound on deviations), or the last round it exhausted and the
 * one the budget cut.
 */
async function deterministicRow(
  m: Mutant,
  target: FuzzTarget<unknown>,
  strategy: StrategyName,
  executions: number,
  flags: Flags,
): Promise<string> {
  const options = { ...benchOptions(m, strategy, 1, executions, flags), seed: flags.seed };
  const r = await explore(options, () => target.setup(m.n));
  const f = r.failure;
  let found = f ? 'found' : r.exhausted ? 'not found: exhausted' : 'not found within the budget';
  if (r.rounds) {
    const last = r.rounds.length - 1;
    const rounds = ` (rounds of ${r.rounds.join(', ')} executions)`;
    if (f) found += ` at bound ${last}${rounds}`;
    else if (r.exhausted) found += `, every bound${rounds}`;
    else found += `: ${last > 0 ? `bound ${last - 1} exhausted, ` : ''}bound ${last} cut at the budget${rounds}`;
  }
  if (r.pruned) found += `; ${r.pruned} executions cut short by sleep sets`;
  if (f) {
    // The counterexample run alone from its line, as DSMPI_SCHEDULE or --schedule would.
    const again = await explore({ ...options, schedule: f.schedule }, () => target.setup(m.n));
    const replays = again.failure?.code === f.code && again.failure.message === f.message;
    found += `; counterexample \`${f.schedule}\`, ${replays ? 'replays from its line' : 'DOES NOT REPLAY from its line'}`;
  }
  const count = f ? String(f.foundAfter) : r.exhausted ? `none in ${r.executions}` : `> ${executions}`;
  return (
    `| ${m.name} (n = ${m.n}) | ${strategy} | ${timingCell(options)} | 1 search (deterministic, seed ${flags.seed}): ${found} | ${count} | ${f ? f.foundAfter : '–'} | ` +
    `${f ? fmt(f.secondsToFind) : '–'} | ${f ? scheduleLength(f.schedule) : '–'} | ${r.cut} |`
  );
}

/** The timing model a bench cell ran under, with the timer budget where it is not the default, and rank clocks if on. */
function timingCell(o: ExploreOptions): string {
  const budget = o.timerBudget ?? TIMER_BUDGET;
  const timing = o.timing === 'async' && budget !== TIMER_BUDGET ? `async, timers ahead ≤ ${budget}` : (o.timing ?? 'bounded');
  return (o.rankClocks ? `${timing}, rank clocks` : timing) + budgets(o);
}

/** The faults a bench cell's strategy could choose per execution, as its cell prints them. */
function budgets(o: ExploreOptions): string {
  const out: string[] = [];
  if (o.drops) out.push(`≤ ${o.drops} losses`);
  if (o.crashes) out.push(`≤ ${o.crashes} crashes${o.restartAfterMs === undefined ? '' : ` restarting after ${o.restartAfterMs} ms`}`);
  if (o.partitions) {
    const ms = o.partitionMs ?? PARTITION_MS;
    out.push(`≤ ${o.partitions} partitions (${o.partitionShape ?? 'isolate'}, ${ms === Infinity ? 'never healed' : `${ms} ms`})`);
  }
  if (o.pauses) out.push(`≤ ${o.pauses} pauses of ${o.pauseMs ?? PAUSE_MS} ms`);
  return out.length ? `, ${out.join(', ')}` : '';
}

/** Deviations in a printed schedule. */
function scheduleLength(schedule: string): number {
  return schedule ? schedule.split(',').length : 0;
}

function benchOptions(m: Mutant, strategy: StrategyName, search: number, executions: number, flags: Flags): ExploreOptions {
  // Random seeds keep their own model, the fuzzer's: bounded timing, and the loss as a probability.
  // The others get --timing, and the loss as a budget they place.
  const seeds = strategy === 'seeds';
  return {
    n: m.n,
    strategy,
    seed: search * 1_000_003,
    executions,
    depth: flags.depth,
    pctThreads: flags.pctThreads,
    delays: flags.delays,
    sleepSets: flags.sleepSets,
    deepening: flags.deepening,
    roundCost: flags.roundCost,
    shallowFirst: flags.shallowFirst,
    drops: seeds ? 0 : given('drops') ? flags.drops : m.drops,
    ...(seeds ? {} : mutantFaults(m, flags)),
    faults: seeds && m.drops > 0 ? { drop: 0.2 } : undefined,
    timing: seeds ? 'bounded' : flags.timing,
    timerSlackMs: flags.timerSlack,
    timerBudget: flags.timerBudget ?? m.timerBudget,
    maxSteps: flags.maxSteps,
    rankClocks: flags.rankClocks,
    minimize: flags.minimize,
  };
}

/** Whether a flag was given on the command line (so it overrides what a mutant asks for). */
function given(flag: keyof Flags): boolean {
  return program.getOptionValueSource(flag) === 'cli';
}

/** The mutant's fault budgets (mutants.ts), each overridden by its flag where given. */
function mutantFaults(m: Mutant, flags: Flags): MutantFaults {
  return {
    ...m.faults,
    ...(given('crashes') && { crashes: flags.crashes }),
    ...(given('restartAfter') && { restartAfterMs: flags.restartAfter }),
    ...(given('partitions') && { partitions: flags.partitions }),
    ...(given('partitionMs') && { partitionMs: flags.partitionMs }),
    ...(given('partitionShape') && { partitionShape: flags.partitionShape }),
    ...(given('pauses') && { pauses: flags.pauses }),
    ...(given('pauseMs') && { pauseMs: flags.pauseMs }),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(x < 10 ? 2 : 1);
}

await program.parseAsync();
