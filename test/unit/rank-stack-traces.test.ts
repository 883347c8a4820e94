// Ranks map stack traces to the sources lazily (launcher/rank-stack-traces.cjs): what they print
// must be what `node --enable-source-maps` prints for the same bundle, frame for frame, down to the
// program's top level (below it, Node.js's module loader runs one and launcher/rank-main.cjs the
// other). (Under tap, whose preloaded module turns Node.js's source maps on in every child, the
// module turns them off again.)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { bundleNodeArgs, bundleProgram } from '../../launcher/bundle.ts';

const program = `
class Store {
  constructor(size: number) {
    if (size < 0) throw new RangeError('a negative size');
  }
  fill(n: number): Buffer {
    return Buffer.alloc(n); // Node.js's own error: RangeError [ERR_OUT_OF_RANGE]
  }
}
async function later(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  throw new Error('after a turn');
}
const stacks: string[] = [];
const keep = (f: () => unknown): void => {
  try {
    f();
  } catch (err) {
    stacks.push((err as Error).stack!);
  }
};
keep(() => new Store(-1));
keep(() => new Store(1).fill(-1));
keep(() => [1].map(() => JSON.parse('{')));
await later().catch((err: Error) => stacks.push(err.stack!));
console.log(stacks.join('\\n--\\n'));
`;

/** The frames of Node.js's ES module loader, below a program's top level when node runs it as the main module. */
const withoutModuleLoader = (text: string): string =>
  text
    .split('\n')
    .filter((line) => !/^ +at .*\(node:internal\/modules\/(esm|run_main)/.test(line))
    .join('\n');

t.test('stack traces of a bundle are the ones --enable-source-maps prints, pointing into the sources', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), `dsmpi-stacks-${process.pid}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const main = join(dir, 'main.ts');
  writeFileSync(main, program);
  const { file, remove } = await bundleProgram(main, 'stacks');
  t.teardown(() => {
    void remove();
    for (const f of [file, `${file}.map`, file.replace(/-[0-9a-f]+\.mjs$/, '.json')]) rmSync(f, { force: true });
  });
  const run = (args: string[]): string =>
    withoutModuleLoader(execFileSync(process.execPath, args, { encoding: 'utf8' }).replaceAll(file, 'BUNDLE'));
  const lazy = run(bundleNodeArgs(file));
  const eager = run(['--enable-source-maps', file]);
  t.equal(lazy, eager, 'the same stacks, frame for frame');
  t.match(lazy, `RangeError [ERR_OUT_OF_RANGE]`, "Node.js's errors name their code");
  t.match(lazy, `at new Store (${main}:4:`, 'a constructor, at its line in the source');
  t.match(lazy, `at Store.fill (${main}:7:`, 'a method');
  t.match(lazy, `at later (${main}:12:`, 'an async function, after an await');
  t.notMatch(lazy, 'BUNDLE', 'no frame left in the bundle');
});

t.test(
  'an exception nothing catches while the program loads is reported at its line of the source, as --enable-source-maps does',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), `dsmpi-stacks-${process.pid}-`));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const main = join(dir, 'main.ts');
    writeFileSync(
      main,
      `function configure(size: number): number {\n  if (size < 1) throw new RangeError(\`a size of \${size}\`);\n  return size;\n}\nawait Promise.resolve(configure(Number(process.argv[2])));\n`,
    );
    const { file, remove } = await bundleProgram(main, 'load-error');
    t.teardown(() => {
      void remove();
      for (const f of [file, `${file}.map`, file.replace(/-[0-9a-f]+\.mjs$/, '.json')]) rmSync(f, { force: true });
    });
    const run = (args: string[]): { status: number | null; stderr: string } => {
      const r = spawnSync(process.execPath, [...args, '0'], { encoding: 'utf8' });
      return { status: r.status, stderr: withoutModuleLoader(r.stderr.replaceAll(file, 'BUNDLE')) };
    };
    const lazy = run(bundleNodeArgs(file));
    const eager = run(['--enable-source-maps', file]);
    t.equal(lazy.status, 1, 'exits as Node.js does');
    t.equal(lazy.stderr, eager.stderr, 'the same report');
    t.match(lazy.stderr, `${main}:2\n  if (size < 1) throw new RangeError(\`a size of \${size}\`);\n`, 'headed by the line of the source');
    t.notMatch(lazy.stderr, 'BUNDLE', 'no line of the bundle');
  },
);
