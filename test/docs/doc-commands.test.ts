// The docs test's own checks, without running anything: the conventions of doc-commands.ts hold in
// every page, the output matching does what docs/README.md says, and the count of what runs and
// what is skipped (with the reasons) is printed.
import t from 'tap';
import { allBlocks, docPages, missingLines, pageBlocks, SHARDS, shardPages, where } from './doc-commands.ts';

t.test('every page is run by exactly one shard', async (t) => {
  const shards = Array.from({ length: SHARDS }, (_, i) => shardPages(i))
    .flat()
    .sort();
  t.same(shards, [...docPages()].sort());
});

t.test('commands sit in sh or console blocks', async (t) => {
  const untagged = docPages().flatMap((page) =>
    pageBlocks(page)
      .others.map((other) => ({ at: `${page}:${other.line}`, command: other.text.find((l) => /^(\$ )?(npx|npm) /.test(l.trim())) }))
      .filter((o) => o.command !== undefined)
      .map((o) => `${o.at}: ${o.command}`),
  );
  t.same(untagged, [], 'blocks without sh or console that hold commands');
});

t.test('every skip gives its reason', async (t) => {
  const blocks = allBlocks();
  const skipped = blocks.filter((b) => b.skip !== undefined);
  for (const b of skipped) t.ok(b.skip!.length >= 10, `${where(b)}: ${b.skip}`);
  const commands = blocks.filter((b) => b.skip === undefined).reduce((n, b) => n + b.commands.length, 0);
  const checked = blocks
    .filter((b) => b.skip === undefined)
    .reduce((n, b) => n + b.commands.filter((c) => c.expected.length > 0).length, 0);
  t.ok(commands >= 40, `${commands} commands run (${checked} with their output checked)`);
  t.ok(skipped.length <= 10, `${skipped.length} blocks skipped`);
  t.comment(`${commands} commands run, ${checked} with documented output; ${skipped.length} blocks skipped:`);
  for (const b of skipped) t.comment(`  ${where(b)}: ${b.skip}`);
});

t.test('documented output matches as docs/README.md says', async (t) => {
  const output = '[rank 1] decided 40\n[rank 0] max skew before: 558.397 ms,   after: 14.783 ms\nsome other line\n';
  t.same(missingLines(['[rank 1] decided 40'], output), [], 'a line printed');
  t.same(missingLines(['[rank 0] max skew before: … ms, after: … ms'], output), [], '… matches any text; spaces are loose');
  t.same(missingLines(['…', '...'], output), [], 'a line of … is left out');
  t.same(missingLines(['[rank 1] decided 41'], output), ['[rank 1] decided 41'], 'a different line is missing');
  t.same(missingLines(['decided 40'], output), ['decided 40'], 'a line matches whole, not a part');
  t.same(missingLines(['[rank 1] decided (40)'], '[rank 1] decided (40)'), [], 'regular-expression characters are literal');
});
