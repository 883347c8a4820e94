/**
 * Federated linear regression with SGD and FedAvg (the book's exercise 8 in 8.6; McMahan et al.,
 * "Communication-Efficient Learning of Deep Networks from Decentralized Data", 2017).
 *
 * Rank 0 aggregates; ranks 1..n-1 are clients with private data y = w·x + b + noise, generated from
 * the ground truth either by each client from its own seeded stream (`data: 'local'`) or by rank 0
 * and scattered (`data: 'scatter'`). Each round the aggregator sends the global (w, b) to every
 * client it has not given up on; each client reports its loss (MSE) on those global weights, runs
 * `localEpochs` of SGD on its shard and returns its new weights and sample count; the aggregator
 * averages them weighted by the sample counts. A client that does not answer within `roundTimeoutMs`
 * is left out of that round (its late answer is dropped when it comes), and one known to be dead is
 * left out of the rest: the aggregator goes on with whoever replied in time.
 *
 * Two ways to talk (`aggregation`):
 * - `collective`: `bcast` of the weights and a `reduce` (elementwise sum) of [w·count, b·count,
 *   count, loss·count]: the plain MPI form, O(log n) steps, but a collective waits for every member,
 *   so one silent or dead client stalls or fails the round;
 * - `p2p` (default): point-to-point messages with a deadline per round, which is what dropout needs.
 */
import { defineTags, ANY_TAG, ErrorCode, isDsError, type Communicator } from 'dsmpi';
import { recvWithin } from '../common/recv-within.ts';

export const Tag = defineTags('fedavg', ['Weights', 'Update', 'Stop']);

export interface Model {
  w: number[];
  b: number;
}

export interface FedAvgOptions {
  rounds: number;
  localEpochs: number;
  learningRate: number;
  /** Samples per client. */
  samplesPerClient: number;
  truth: Model;
  noise: number;
  data: 'local' | 'scatter';
  roundTimeoutMs: number;
  /** Test hook: these clients answer late (after `roundTimeoutMs`) in odd rounds. */
  stragglers: number[];
  aggregation: 'p2p' | 'collective';
}

export const defaultFedAvgOptions: FedAvgOptions = {
  rounds: 10,
  localEpochs: 2,
  learningRate: 0.05,
  samplesPerClient: 50,
  truth: { w: [2, -3], b: 0.5 },
  noise: 0.1,
  data: 'local',
  roundTimeoutMs: 200,
  stragglers: [],
  aggregation: 'p2p',
};

export interface Sample {
  x: number[];
  y: number;
}

/** A standard normal draw from two uniform ones (Box-Muller). */
function gaussian(random: () => number): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export function generate(random: () => number, count: number, truth: Model, noise: number): Sample[] {
  return Array.from({ length: count }, () => {
    const x = truth.w.map(() => random() * 2 - 1);
    return { x, y: predict(truth, x) + noise * gaussian(random) };
  });
}

export const predict = (m: Model, x: number[]): number => m.w.reduce((s, wi, i) => s + wi * x[i], m.b);

export function mse(m: Model, data: readonly Sample[]): number {
  if (data.length === 0) return 0;
  return data.reduce((s, d) => s + (predict(m, d.x) - d.y) ** 2, 0) / data.length;
}

/** `epochs` passes of plain SGD over `data` in a random order (one sample per step). */
export function sgd(start: Model, data: readonly Sample[], epochs: number, lr: number, random: () => number): Model {
  const m = { w: [...start.w], b: start.b };
  const order = data.map((_, i) => i);
  for (let e = 0; e < epochs; e++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (const k of order) {
      const err = predict(m, data[k].x) - data[k].y;
      for (let i = 0; i < m.w.length; i++) m.w[i] -= lr * 2 * err * data[k].x[i];
      m.b -= lr * 2 * err;
    }
  }
  return m;
}

/** FedAvg: the average of the clients' models weighted by their sample counts. */
export function fedAvg(updates: ReadonlyArray<{ model: Model; count: number }>): Model | undefined {
  const total = updates.reduce((s, u) => s + u.count, 0);
  if (total === 0) return undefined;
  const d = updates[0].model.w.length;
  const w = Array.from({ length: d }, (_, i) => updates.reduce((s, u) => s + u.model.w[i] * u.count, 0) / total);
  return { w, b: updates.reduce((s, u) => s + u.model.b * u.count, 0) / total };
}

export interface RoundReport {
  round: number;
  /** The global model after this round. */
  model: Model;
  /** Sample-weighted loss (MSE) of the clients on the weights sent out this round. */
  loss: number;
  /** Clients whose update made it in time, of those asked. */
  reported: number[];
  asked: number;
  /** Communication this round: messages and payload bytes (JSON size) both ways. */
  messages: number;
  bytes: number;
}

export interface FedAvgResult {
  rounds: RoundReport[];
  model: Model;
}

const bytesOf = (x: unknown): number => JSON.stringify(x).length;

function post(comm: Communicator, data: unknown, to: number, tag: number): void {
  if (comm.failed().includes(to)) return;
  comm.isend(data, to, tag).then(undefined, (err: unknown) => {
    if (!(isDsError(err) && (err.code === ErrorCode.PeerLost || err.code === ErrorCode.Closed))) throw err;
  });
}

async function aggregator(comm: Communicator, o: FedAvgOptions, onRound?: (r: RoundReport) => void): Promise<FedAvgResult> {
  let model: Model = { w: o.truth.w.map(() => 0), b: 0 };
  const clients = Array.from({ length: comm.size - 1 }, (_, i) => i + 1);
  const rounds: RoundReport[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    const asked = clients.filter((c) => !comm.failed().includes(c));
    const out = { round, w: model.w, b: model.b };
    for (const c of asked) post(comm, out, c, Tag.Weights);
    let messages = asked.length;
    let bytes = asked.length * bytesOf(out);
    const updates: Array<{
      from: number;
      model: Model;
      count: number;
      loss: number;
    }> = [];
    const deadline = comm.clock.now() + o.roundTimeoutMs;
    while (updates.length < asked.length) {
      const m = await recvWithin<{
        round: number;
        w: number[];
        b: number;
        count: number;
        loss: number;
      }>(comm, deadline - comm.clock.now(), Tag.Update);
      if (!m) break;
      messages++;
      bytes += bytesOf(m.data);
      if (m.data.round !== round) continue; // a straggler's answer to an earlier round
      updates.push({
        from: m.source,
        model: { w: m.data.w, b: m.data.b },
        count: m.data.count,
        loss: m.data.loss,
      });
    }
    const total = updates.reduce((s, u) => s + u.count, 0);
    const loss = total === 0 ? NaN : updates.reduce((s, u) => s + u.loss * u.count, 0) / total;
    model = fedAvg(updates) ?? model;
    comm.note('round', { round, loss, reported: updates.length });
    const report: RoundReport = {
      round,
      model,
      loss,
      reported: updates.map((u) => u.from).sort((a, b) => a - b),
      asked: asked.length,
      messages,
      bytes,
    };
    rounds.push(report);
    onRound?.(report);
  }
  for (const c of clients) post(comm, null, c, Tag.Stop);
  return { rounds, model };
}

/** Rounds with bcast and reduce: every rank takes part in every round (no dropout tolerance). */
async function collectiveRounds(
  comm: Communicator,
  data: Sample[],
  o: FedAvgOptions,
  onRound?: (r: RoundReport) => void,
): Promise<FedAvgResult | undefined> {
  let model: Model = { w: o.truth.w.map(() => 0), b: 0 };
  const rounds: RoundReport[] = [];
  const d = model.w.length;
  for (let round = 1; round <= o.rounds; round++) {
    const global = await comm.bcast(comm.rank === 0 ? model : undefined, 0);
    let mine = new Array<number>(d + 3).fill(0);
    if (comm.rank !== 0) {
      const loss = mse(global!, data);
      const local = sgd(global!, data, o.localEpochs, o.learningRate, () => comm.random());
      const n = data.length;
      mine = [...local.w.map((w) => w * n), local.b * n, n, loss * n];
    }
    const sum = await comm.reduce(mine, 'sum', 0);
    if (comm.rank !== 0) continue;
    const total = sum![d + 1];
    model = total > 0 ? { w: sum!.slice(0, d).map((x) => x / total), b: sum![d] / total } : model;
    const clients = comm.size - 1;
    // A binomial bcast and reduce: n - 1 messages each.
    const report: RoundReport = {
      round,
      model,
      loss: sum![d + 2] / total,
      reported: Array.from({ length: clients }, (_, i) => i + 1),
      asked: clients,
      messages: 2 * clients,
      bytes: clients * (bytesOf(global) + bytesOf(mine)),
    };
    rounds.push(report);
    onRound?.(report);
  }
  return comm.rank === 0 ? { rounds, model } : undefined;
}

async function client(comm: Communicator, data: Sample[], o: FedAvgOptions): Promise<void> {
  const random = (): number => comm.random();
  for (;;) {
    const m = await comm.recv<{ round: number; w: number[]; b: number } | null>(0, ANY_TAG);
    if (m.tag === Tag.Stop) return;
    const { round, w, b } = m.data!;
    const global = { w, b };
    const loss = mse(global, data);
    const local = sgd(global, data, o.localEpochs, o.learningRate, random);
    if (o.stragglers.includes(comm.rank) && round % 2 === 1) await comm.clock.sleep(o.roundTimeoutMs * 1.5);
    post(comm, { round, w: local.w, b: local.b, count: data.length, loss }, 0, Tag.Update);
  }
}

/**
 * Runs federated training: rank 0 returns the per-round reports and the final model (and calls
 * `onRound` after each round), clients return undefined.
 */
export async function fedAvgMain(
  comm: Communicator,
  options: Partial<FedAvgOptions> = {},
  onRound?: (r: RoundReport) => void,
): Promise<FedAvgResult | undefined> {
  const o = { ...defaultFedAvgOptions, ...options };
  if (comm.size < 2) throw new Error('federated SGD needs an aggregator and at least one client: run it with n >= 2');
  let data: Sample[];
  if (o.data === 'scatter') {
    const chunks =
      comm.rank === 0
        ? Array.from({ length: comm.size }, (_, r) => (r === 0 ? [] : generate(() => comm.random(), o.samplesPerClient, o.truth, o.noise)))
        : undefined;
    data = await comm.scatter(chunks);
  } else {
    data = comm.rank === 0 ? [] : generate(() => comm.random(), o.samplesPerClient, o.truth, o.noise);
  }
  if (o.aggregation === 'collective') return collectiveRounds(comm, data, o, onRound);
  if (comm.rank === 0) return aggregator(comm, o, onRound);
  await client(comm, data, o);
  return undefined;
}
