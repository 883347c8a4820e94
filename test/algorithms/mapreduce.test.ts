// Map-reduce word count (book 8.4.2): both cases, secondary reductions on split communicators; the
// total must equal a sequential count for every n and group size.
import t from 'tap';
import assert from 'node:assert/strict';
import { simulate } from 'dsmpi';
import { chunk, countWords, mergeCounts, wordCount } from '../../algorithms/mapreduce/word-count.ts';

t.test('map and reduce steps', async (t) => {
  t.same(countWords(['The cat, the hat.', "don't stop"]), {
    the: 2,
    cat: 1,
    hat: 1,
    "don't": 1,
    stop: 1,
  });
  t.same(mergeCounts({ a: 1, b: 2 }, { b: 3, c: 1 }), { a: 1, b: 5, c: 1 });
  t.same(chunk([1, 2, 3, 4, 5], 3), [[1, 2], [3, 4], [5]]);
  t.same(chunk([1], 3), [[1], [], []]);
});

const vocabulary = ['alpha', 'beta', 'gamma', 'delta', 'paxos', 'raft', 'map', 'reduce', 'the', 'a'];
function text(seed: number, lines: number): string[] {
  let s = seed;
  const next = (): number => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: lines }, () =>
    Array.from({ length: 1 + Math.floor(next() * 9) }, () => vocabulary[Math.floor(next() * vocabulary.length)]).join(' '),
  );
}
const sorted = (c: Record<string, number>): string => JSON.stringify(Object.entries(c).sort());

t.test('equals the sequential count: both cases, n = 1..8, groups of 1, 2, 3', async (t) => {
  for (const n of [1, 2, 3, 5, 8]) {
    for (const groupSize of [1, 2, 3]) {
      for (const mode of ['scatter', 'spread'] as const) {
        const all = text(n * 10 + groupSize, 23);
        const r = await simulate({ n, seed: n + groupSize }, (comm) =>
          wordCount(comm, mode, mode === 'scatter' ? (comm.rank === 0 ? all : []) : all.filter((_, i) => i % n === comm.rank), groupSize),
        );
        assert.equal(sorted(r.results[0]!.counts!), sorted(countWords(all)), `n=${n} groups of ${groupSize} ${mode}`);
        assert.equal(
          r.results.reduce((s, x) => s + x!.lines, 0),
          23,
          'every line mapped once',
        );
        assert.deepEqual(
          r.results.map((x) => x!.leader),
          Array.from({ length: n }, (_, i) => i % groupSize === 0),
          'one leader per group',
        );
        assert.ok(r.results.slice(1).every((x) => x!.counts === undefined));
      }
    }
  }
  t.pass();
});
