import { readdirSync, readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { seededRandom } from '../../runtime/random.ts';
import { checkLinearizability, type Model, type Operation } from '../../algorithms/checkers/linearizability.ts';
import { parseEtcdLog, parseKvLog } from '../../algorithms/checkers/jepsen-format.ts';
import { kvModel, registerModel, type RegisterInput } from '../../algorithms/checkers/models.ts';

const fixtures = new URL('../fixtures/linearizability/', import.meta.url).pathname;
type RegOp = Operation<RegisterInput, unknown>;

/** Checks that a reported violation is illegal, and legal again without any one of its reads. */
function assertMinimalWitness<S, I, O>(t: Test, witness: Operation<I, O>[] | undefined, model: Model<S, I, O>): void {
  t.ok(witness && witness.length > 0, 'a witness is given');
  if (!witness) return;
  t.equal(checkLinearizability(witness, model, { explain: false }).verdict, 'not-linearizable', 'the witness is illegal');
  const shrinkable = witness.some(
    (op, i) =>
      model.readOnly!(op) &&
      checkLinearizability(
        witness.filter((_, j) => j !== i),
        model,
        { explain: false },
      ).verdict === 'not-linearizable',
  );
  t.notOk(shrinkable, 'dropping any one of its reads makes it legal');
}

t.test('Jepsen etcd histories (compare-and-set register): every known verdict', async (t) => {
  const verdicts = new Map(
    readFileSync(`${fixtures}jepsen-etcd/VERDICTS.txt`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/) as [string, string]),
  );
  const files = readdirSync(`${fixtures}jepsen-etcd`).filter((f) => f.endsWith('.log'));
  t.equal(files.length, 50);
  for (const file of files) {
    const model = registerModel(null);
    const r = checkLinearizability(parseEtcdLog(readFileSync(`${fixtures}jepsen-etcd/${file}`, 'utf8')), model, { timeoutMs: 30_000 });
    t.equal(r.verdict, verdicts.get(file), file);
    if (r.verdict === 'not-linearizable' && file <= 'etcd_005.log') assertMinimalWitness(t, r.illegal, model);
  }
});

t.test('key-value histories, partitioned by key: every known verdict', async (t) => {
  for (const file of readdirSync(`${fixtures}kv`)) {
    const model = kvModel();
    const r = checkLinearizability(parseKvLog(readFileSync(`${fixtures}kv/${file}`, 'utf8')), model);
    t.equal(r.verdict, file.includes('-ok') ? 'linearizable' : 'not-linearizable', file);
    t.ok(r.partitions > 1, `${file} was split by key`);
    if (r.verdict === 'not-linearizable') assertMinimalWitness(t, r.illegal, model);
  }
});

const w = (client: number, value: number, call: number, ret: number): RegOp => ({
  client,
  input: { f: 'write', value },
  output: undefined,
  call,
  ret,
});
const r = (client: number, output: unknown, call: number, ret: number): RegOp => ({ client, input: { f: 'read' }, output, call, ret });

t.test("the course notes' register histories (x starts at 0)", async (t) => {
  const check = (ops: RegOp[]): string => checkLinearizability(ops, registerModel(0)).verdict;
  t.equal(check([w(1, 1, 0, 1), r(2, 0, 2, 3)]), 'not-linearizable', 'Fig 2.18: a read after an acknowledged write sees it');
  t.equal(check([w(1, 1, 0, 3), r(2, 1, 1, 4), w(3, 2, 2, 7), r(2, 2, 5, 8)]), 'linearizable', 'Fig 2.19/2.20: W1, R1, W2, R2');
  t.equal(check([w(1, 1, 0, 1), w(2, 2, 2, 3), r(3, 1, 4, 5)]), 'not-linearizable', 'Fig 2.21: stale read after an overwrite');
  t.equal(check([w(1, 3, 0, 1), r(2, 0, 2, 3)]), 'not-linearizable', 'Fig 2.17 case 4');
  t.equal(check([w(1, 3, 0, 6), r(2, 0, 1, 2)]), 'linearizable', 'Fig 2.17 case 3: the read overlaps the write');
});

t.test('indefinite outcomes: an operation that never returned may take effect, or not', async (t) => {
  const check = (ops: RegOp[]): string => checkLinearizability(ops, registerModel(0)).verdict;
  t.equal(check([w(1, 5, 0, Infinity), r(2, 5, 10, 11), r(2, 5, 12, 13)]), 'linearizable', 'it took effect');
  t.equal(check([w(1, 5, 0, Infinity), r(2, 0, 10, 11)]), 'linearizable', 'it has not (yet) taken effect');
  t.equal(check([w(1, 5, 0, Infinity), r(2, 5, 10, 11), r(2, 0, 12, 13)]), 'not-linearizable', 'once seen, it cannot be undone');
  t.equal(check([r(2, 5, 0, 1), w(1, 5, 2, Infinity)]), 'not-linearizable', 'it cannot act before its invocation');
});

/** Every order of the operations that respects real time, tried one by one: the reference. */
function bruteForce(ops: RegOp[], initial: unknown): boolean {
  const model = registerModel(initial);
  const used = new Array(ops.length).fill(false);
  const go = (state: unknown, count: number): boolean => {
    if (count === ops.length) return true;
    for (let i = 0; i < ops.length; i++) {
      if (used[i]) continue;
      // i may go next only if no unused operation returned before i was invoked.
      if (ops.some((o, j) => !used[j] && j !== i && o.ret < ops[i].call)) continue;
      const [legal, next] = model.step(state, ops[i].input, ops[i].output);
      if (!legal) continue;
      used[i] = true;
      if (go(next, count + 1)) return true;
      used[i] = false;
    }
    return false;
  };
  return go(initial, 0);
}

t.test('random register histories agree with a brute-force checker', async (t) => {
  const random = seededRandom(Number(process.env.DSMPI_SEED ?? 7));
  const int = (n: number): number => Math.floor(random() * n);
  let disagreements = 0;
  let illegal = 0;
  const runs = 1500;
  for (let run = 0; run < runs; run++) {
    const ops: RegOp[] = [];
    for (let i = 0, n = 1 + int(7); i < n; i++) {
      const call = int(20);
      const ret = random() < 0.1 ? Infinity : call + 1 + int(6);
      const kind = int(3);
      if (kind === 0) ops.push({ client: i, input: { f: 'write', value: int(3) }, output: undefined, call, ret });
      else if (kind === 1) ops.push({ client: i, input: { f: 'read' }, output: ret === Infinity ? undefined : int(3), call, ret });
      else {
        const out = ret === Infinity ? undefined : random() < 0.5;
        ops.push({ client: i, input: { f: 'cas', from: int(3), to: int(3) }, output: out, call, ret });
      }
    }
    const expected = bruteForce(ops, 0);
    const got = checkLinearizability(ops, registerModel(0), { explain: false }).verdict === 'linearizable';
    if (!expected) illegal++;
    if (got !== expected) {
      disagreements++;
      if (disagreements <= 3) t.fail(`run ${run}: checker says ${got}, brute force ${expected}: ${JSON.stringify(ops)}`);
    }
  }
  t.equal(disagreements, 0, `${runs} random histories, ${illegal} of them illegal`);
  t.ok(illegal > runs / 10 && illegal < runs * 0.9, 'the random histories mix legal and illegal ones');
});
