import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { dsrun } from '../helpers/dsrun.ts';

const dir = mkdtempSync(join(tmpdir(), 'dsmpi-check-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('dsrun check: a violation is printed and drawn, exit 1', async (t) => {
  const out = join(dir, 'etcd_000.html');
  const r = await dsrun(['check', 'test/fixtures/linearizability/jepsen-etcd/etcd_000.log', '-o', out]);
  t.equal(r.code, 1, r.stderr);
  t.match(r.stdout, /etcd_000\.log: \d+ operations, 1 partition\(s\): not-linearizable/);
  t.match(r.stdout, /an illegal sub-history \(\d+ operations/);
  t.match(r.stdout, /client \d+ \[\d+, \d+\] read → \d/);
  const html = readFileSync(out, 'utf8');
  t.match(html, /<g class="op illegal/, 'the illegal operations are drawn in red');
  t.match(html, /<g class="op( open)?"/, 'the rest of the history is drawn too');
});

t.test('dsrun check: a linearizable history, exit 0; JSON histories are read too', async (t) => {
  const kv = await dsrun(['check', '--model', 'kv', 'test/fixtures/linearizability/kv/c10-ok.txt']);
  t.equal(kv.code, 0, kv.stderr);
  t.match(kv.stdout, /10 partition\(s\): linearizable/);
  const file = join(dir, 'stale.json');
  writeFileSync(
    file,
    JSON.stringify([
      { client: 1, input: { f: 'write', value: 1 }, call: 0, ret: 1 },
      { client: 2, input: { f: 'read' }, output: null, call: 2, ret: 3 },
      { client: 3, input: { f: 'write', value: 2 }, call: 0, ret: null },
    ]),
  );
  const stale = await dsrun(['check', file, '-o', join(dir, 'stale.html')]);
  t.equal(stale.code, 1);
  t.match(stale.stdout, /client 2 \[2, 3\] read → null/);
  const bad = await dsrun(['check', '--model', 'queue', file]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /Allowed choices are register, kv/);
});

t.test('dsrun check: JSON lines are read; bad input names the line and the field, exit 2', async (t) => {
  const good = join(dir, 'stale.jsonl');
  writeFileSync(
    good,
    [
      '{"client":1,"input":{"f":"write","value":1},"call":0,"ret":1}',
      '{"client":2,"input":{"f":"read"},"output":null,"call":2,"ret":3}',
    ].join('\n') + '\n',
  );
  const r = await dsrun(['check', good, '-o', join(dir, 'stale-lines.html')]);
  t.equal(r.code, 1, r.stderr);
  t.match(r.stdout, /stale\.jsonl: 2 operations, 1 partition\(s\): not-linearizable/);
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, '{"client":1,"input":{"f":"write","value":1},"call":0,"ret":1}\n{"client":2,"input":{},"call":2,"ret":3}\n');
  const refused = await dsrun(['check', bad]);
  t.equal(refused.code, 2);
  t.match(refused.stderr, /dsrun check: line 2: field "input\.f" is missing \(one of read, write, cas/);
  t.notMatch(refused.stderr, /Cannot read properties/);
});

t.test('dsrun check --explain-timeout: the verdict is not held up, and a cut-short explanation says so', async (t) => {
  const r = await dsrun([
    'check',
    'test/fixtures/linearizability/jepsen-etcd/etcd_000.log',
    '--explain-timeout',
    '0',
    '-o',
    join(dir, 'cut.html'),
  ]);
  t.equal(r.code, 1, r.stderr);
  t.match(r.stdout, /not-linearizable/);
  t.match(
    r.stdout,
    /an illegal sub-history \(\d+ operations; not minimal: the explanation ran out of time, --explain-timeout gives it more\)/,
  );
  const full = await dsrun(['check', 'test/fixtures/linearizability/jepsen-etcd/etcd_000.log', '-o', join(dir, 'full.html')]);
  t.match(full.stdout, /writes up to the violation, and only the reads it needs/);
});
