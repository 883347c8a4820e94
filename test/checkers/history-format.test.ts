// dsrun check's input: the formats it reads, and bad input refused with the line and the field.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { detectFormat, HistoryFormatError, parseHistory } from '../../algorithms/checkers/history-format.ts';
import { checkLinearizability } from '../../algorithms/checkers/linearizability.ts';
import { registerModel } from '../../algorithms/checkers/models.ts';

const fixture = (f: string) => readFileSync(new URL(`../fixtures/linearizability/${f}`, import.meta.url), 'utf8');
const refused = (text: string, model: 'register' | 'kv', message: RegExp) => () =>
  t.throws(() => parseHistory(text, model), { constructor: HistoryFormatError, message });

t.test('each format is recognised and read', async (t) => {
  const lines =
    '{"client":1,"input":{"f":"write","value":1},"call":0,"ret":1}\n\n{"client":"b","input":{"f":"read"},"output":1,"call":2,"ret":null}\n';
  const jl = parseHistory(lines, 'register');
  t.equal(jl.format, 'json-lines');
  t.same(
    jl.ops,
    [
      { client: 1, input: { f: 'write', value: 1 }, output: undefined, call: 0, ret: 1 },
      { client: 'b', input: { f: 'read' }, output: undefined, call: 2, ret: Infinity },
    ],
    'an operation that never returned has an unknown outcome',
  );
  t.equal(parseHistory(`[${lines.trim().split('\n').filter(Boolean).join(',')}]`, 'register').ops.length, 2, 'a JSON array');
  t.equal(detectFormat(fixture('jepsen-etcd/etcd_000.log')), 'jepsen-etcd');
  t.ok(parseHistory(fixture('jepsen-etcd/etcd_000.log'), 'register').ops.length > 50);
  t.equal(detectFormat(fixture('kv/c01-ok.txt')), 'porcupine-kv');
  t.ok(parseHistory(fixture('kv/c01-ok.txt'), 'kv').ops.length > 10);
});

t.test('a line that is not JSON names its line', async () => {
  refused('{"client":1,"input":{"f":"read"},"call":0,"ret":1}\n{"client":2,', 'register', /^line 2: not JSON/)();
  refused('[{"client":1}', 'register', /^not a JSON array/)();
  refused('{"client":1,"input":{"f":"read"},"call":0,"ret":1}\n[1]', 'register', /^line 2: an operation is a JSON object, got \[1\]/)();
});

t.test('a missing field names the line and the field', async () => {
  refused('{"client":1,"input":{"f":"read"},"ret":1}', 'register', /^line 1: field "call" is missing/)();
  refused('{"client":1,"call":0,"ret":1}', 'register', /^line 1: field "input" is missing/)();
  refused(
    '{"client":1,"input":{"value":3},"call":0,"ret":1}',
    'register',
    /^line 1: field "input.f" is missing \(one of read, write, cas/,
  )();
  refused('{"client":1,"input":{"f":"write"},"call":0,"ret":1}', 'register', /^line 1: field "input.value" is missing/)();
  refused('{"client":1,"input":{"f":"put","value":"x"},"call":0,"ret":1}', 'kv', /^line 1: field "input.key" is missing/)();
  refused('[{"input":{"f":"read"},"call":0,"ret":1}]', 'register', /^operation 1 of the array: field "client" is missing/)();
  refused('{:process 0, :type :invoke, :key "1", :value nil}', 'kv', /^line 1: field :f is missing/)();
});

t.test('a field of the wrong type names the line, the field and what it holds', async () => {
  refused(
    '{"client":1,"input":{"f":"push"},"call":0,"ret":1}',
    'register',
    /^line 1: field "input.f" must be one of read, write, cas \(the register model\), got "push"/,
  )();
  refused(
    '{"client":1,"input":{"f":"read"},"call":"0","ret":1}',
    'register',
    /^line 1: field "call" must be a number \(the invocation time\), got "0"/,
  )();
  refused('{"client":1,"input":{"f":"read"},"call":5,"ret":2}', 'register', /^line 1: field "ret" must be at least call \(5\), got 2/)();
  refused(
    '{"client":1,"input":{"f":"cas","from":1,"to":2},"output":"yes","call":0,"ret":1}',
    'register',
    /^line 1: field "output" must be a boolean/,
  )();
  refused(
    '{"client":true,"input":{"f":"read"},"call":0,"ret":1}',
    'register',
    /^line 1: field "client" must be a number or a string, got true/,
  )();
  refused('{:process 0, :type :start, :f :get, :key "1", :value nil}', 'kv', /^line 1: field :type is :start/)();
  refused('INFO  jepsen.util - 0\t:invoke\t:push\t1', 'register', /^line 1: operation :push/)();
});

t.test('a history in the wrong model, or in no format, says so', async () => {
  refused(fixture('kv/c01-ok.txt'), 'register', /--model kv/)();
  refused('hello\nworld\n', 'register', /^no operations found/)();
});

// Two clients write 1 and 2 one after the other, then many reads see 1: not linearizable.
const stale = Array.from({ length: 200 }, (_, i) => ({
  client: 3 + i,
  input: { f: 'read' as const },
  output: 1,
  call: 10 + 2 * i,
  ret: 11 + 2 * i,
}));
const history = [
  { client: 1, input: { f: 'write' as const, value: 1 }, output: undefined, call: 0, ret: 1 },
  { client: 2, input: { f: 'write' as const, value: 2 }, output: undefined, call: 2, ret: 3 },
  ...stale,
];

t.test('the explanation has its own budget, and says when its sub-history is not minimal', async (t) => {
  const model = registerModel(null);
  const full = checkLinearizability(history, model, { timeoutMs: 60_000 });
  t.equal(full.verdict, 'not-linearizable');
  t.equal(full.minimal, true, 'with time enough, the sub-history is minimal');
  t.equal(full.illegal!.length, 3, 'the two writes and one stale read');
  const cut = checkLinearizability(history, model, { timeoutMs: 60_000, explainMs: 0 });
  t.equal(cut.verdict, 'not-linearizable', 'the verdict does not depend on the explanation');
  t.equal(cut.minimal, false, 'no time to explain: not minimal, and said so');
  t.ok(cut.illegal!.length > 3, `${cut.illegal!.length} operations shown`);
  t.equal(checkLinearizability(cut.illegal!, model).verdict, 'not-linearizable', 'what is shown is still illegal');
});
