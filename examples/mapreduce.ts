// Map-reduce word count (book 8.4.2) in both cases: rank 0 holds the text and scatters it, or each
// rank already holds its share. The partial counts are reduced inside groups of ranks (split), then
// across the group leaders; rank 0 compares the total with a sequential count.
// Usage: dsrun -n 6 examples/mapreduce.ts [scatter|spread] [group size=2] [text file]
import { readFileSync } from 'node:fs';
import { run } from 'dsmpi';
import { countWords, top, wordCount } from '../algorithms/mapreduce/word-count.ts';
import { choiceArg, intArg } from './lib/args.ts';

const mode = choiceArg(1, 'mode', ['scatter', 'spread'], 'scatter');
const groupSize = intArg(2, 'group size', 2, 1);
const TEXT = [
  "What we know is a drop, what we don't know is an ocean.",
  'A distributed system is a set of processes that talk by passing messages.',
  'The processes share no memory and no clock, and any of them may fail.',
  'Messages may be lost, delayed, duplicated or delivered out of order.',
  'Consensus lets the processes agree on one value despite the failures.',
  'Paxos reaches consensus with proposers, acceptors and learners.',
  'Raft reaches consensus with a leader that replicates a log.',
  'Map-reduce splits the data, maps each part, and reduces the results.',
  'The map step counts the words of each part on its own process.',
  'The reduce step adds the counts of the parts into one table.',
  'A secondary reduction adds the counts inside each group first.',
  'Then the leaders of the groups add the group totals into the final count.',
  'The final count must equal the count of one process reading all the text.',
];
const file = process.argv[4];
const all = (file ? readFileSync(file, 'utf8').split('\n') : TEXT).filter((l) => l.trim() !== '');

await run(async (world) => {
  // scatter: only rank 0 has the text; spread: rank r has lines r, r + n, ... (already distributed).
  const mine = mode === 'scatter' ? (world.rank === 0 ? all : []) : all.filter((_, i) => i % world.size === world.rank);
  const r = await wordCount(world, mode, mine, groupSize);
  console.log(`group ${r.group}${r.leader ? ' (leader)' : ''}: mapped ${r.lines} line(s), ${r.partialWords} distinct word(s)`);
  if (world.rank !== 0) return;
  const counts = r.counts!;
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  console.log(
    `${mode}: ${total} words, ${Object.keys(counts).length} distinct; top 5: ${top(counts, 5)
      .map(([w, c]) => `${w}=${c}`)
      .join(' ')}`,
  );
  const sequential = countWords(all);
  const same = JSON.stringify(top(counts, Infinity)) === JSON.stringify(top(sequential, Infinity));
  console.log(`CHECK equals the sequential count: ${same ? 'OK' : 'FAIL'}`);
  if (!same) process.exitCode = 1;
});
