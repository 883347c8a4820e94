// `dsrun view a --compare b`: where two runs first differ, checked against fixtures whose first
// difference is known by hand: two seeds of one program, a run with one payload changed, a run with
// one message lost, and runs compared with themselves. The page's banner says the same words
// (viewer.test.ts checks it in a browser).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseTrace, type TraceEvent } from 'dsmpi';
import { compareSummary } from '../../launcher/view/command.ts';

const fixture = (name: string): string => new URL(`../fixtures/view/${name}`, import.meta.url).pathname;
const read = (file: string): TraceEvent[] => parseTrace(readFileSync(file, 'utf8'));
const seed1 = read(fixture('three-ranks-seed-1.jsonl'));
const seed2 = read(fixture('three-ranks-seed-2.jsonl'));
const paxos = read(new URL('../../docs/viewer/traces/paxos-drop.jsonl', import.meta.url).pathname);
const same = 'The two runs are the same, event for event on every rank.';

t.test('a run compared with itself (or an identical copy) has no difference', async (t) => {
  t.equal(compareSummary(seed1, seed1), same);
  t.equal(compareSummary(paxos, structuredClone(paxos)), same, 'the Paxos run with drops, 1,500 events');
  // Times are not compared: only what each rank did, in its order.
  t.equal(
    compareSummary(
      seed1,
      seed1.map((e) => ({ ...e, t: e.t * 2 })),
    ),
    same,
    'slower, but the same run',
  );
});

t.test('two seeds of one program: the first step where a rank did something else', async (t) => {
  // Seed 1: ranks 1 and 2 both send first (logical step 1); seed 2: rank 1 first receives from 0 and
  // rank 2 sends to 0 instead of 1. Both differ at step 1; the lower rank is reported.
  t.equal(
    compareSummary(seed1, seed2),
    'First difference at logical step 1, rank 1, its event 1: left: send tag 1 to 2 0 · right: receive tag 1 from 0 1',
  );
  t.equal(
    compareSummary(seed2, seed1),
    'First difference at logical step 1, rank 1, its event 1: left: receive tag 1 from 0 1 · right: send tag 1 to 2 0',
    'and the other way round',
  );
});

t.test('one payload changed: found at its send, not at its later delivery', async (t) => {
  // Rank 0's second message (to rank 2) carries 9 instead of 1. Its send is rank 0's third event, at
  // step 5 (after rank 2 → 1 → 0); the receive on rank 2 (step 6) differs too, but later.
  const changed = seed1.map((e) => (e.ev === 'send' && e.rank === 0 && e.msg === 2 ? { ...e, preview: '9' } : e));
  t.equal(
    compareSummary(seed1, changed),
    'First difference at logical step 5, rank 0, its event 3: left: send tag 1 to 2 1 · right: send tag 1 to 2 9',
  );
});

t.test('one message lost: found at the receiver, where the other run went on without it', async (t) => {
  // Rank 1's first message to rank 2 is dropped instead of delivered: rank 2's fourth event (after its
  // send and two receives from rank 0) was that receive, at step 7 (one after rank 0's receive at 6),
  // and is now its note.
  const lost = seed1.map((e) =>
    e.ev === 'deliver' && e.rank === 2 && e.from === 1 && e.msg === 1
      ? { t: e.t, ev: 'drop' as const, rank: 1, to: 2, msg: 1, reason: 'random' }
      : e,
  );
  t.equal(
    compareSummary(seed1, lost),
    'First difference at logical step 7, rank 2, its event 4: left: receive tag 1 from 1 0 · right: note done 2',
  );
  // A run whose rank 0 stops before its note: the missing event is "nothing more" (rank 0's sixth
  // event, after its send at step 7).
  const cut = seed1.filter((e) => !(e.rank === 0 && e.t > 10));
  t.equal(compareSummary(seed1, cut), 'First difference at logical step 8, rank 0, its event 6: left: note done 0 · right: nothing more');
});

t.test('dsrun view a --compare b prints the summary and writes the page', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dsmpi-compare-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const dsrun = new URL('../../launcher/dsrun.mjs', import.meta.url).pathname;
  const run = (a: string, b: string): string =>
    execFileSync('node', [dsrun, 'view', a, '--compare', b, '-o', join(dir, 'page.html')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
  t.equal(
    run(fixture('three-ranks-seed-1.jsonl'), fixture('three-ranks-seed-2.jsonl')),
    'First difference at logical step 1, rank 1, its event 1: left: send tag 1 to 2 0 · right: receive tag 1 from 0 1\n',
  );
  t.match(
    readFileSync(join(dir, 'page.html'), 'utf8'),
    /three-ranks-seed-1\.jsonl <small>compared with<\/small> three-ranks-seed-2\.jsonl/,
  );
  const copy = join(dir, 'copy.jsonl');
  writeFileSync(copy, readFileSync(fixture('three-ranks-seed-1.jsonl')));
  t.equal(run(fixture('three-ranks-seed-1.jsonl'), copy), `${same}\n`);
});
