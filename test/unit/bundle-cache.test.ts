// The launcher's bundle cache (launcher/bundle.ts): a program compiled once is reused while none of
// the files that went into it changes, and compiled again when one does.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { bundleProgram } from '../../launcher/bundle.ts';

t.test('a bundle is reused until the program or an import of it changes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), `dsmpi-bundle-${process.pid}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const program = join(dir, 'main.ts');
  const helper = join(dir, 'helper.ts');
  writeFileSync(program, "import { word } from './helper.ts';\nconsole.log(word);\n");
  writeFileSync(helper, "export const word: string = 'first';\n");
  const first = await bundleProgram(program, 'a');
  t.match(readFileSync(first.file, 'utf8'), '"first"');
  t.match(readFileSync(first.file, 'utf8'), /sourceMappingURL=[^\n]+\.mjs\.map\n?$/, 'the bundle names its own source map');
  readFileSync(`${first.file}.map`);
  const again = await bundleProgram(program, 'b');
  t.equal(again.file, first.file, 'unchanged: the same bundle');
  writeFileSync(helper, "export const word: string = 'second';\n");
  const changed = await bundleProgram(program, 'c');
  t.not(changed.file, first.file, 'an import changed: a new bundle');
  t.match(readFileSync(changed.file, 'utf8'), '"second"');
  await Promise.all([first.remove(), again.remove(), changed.remove()]);
  t.ok(readFileSync(changed.file, 'utf8'), 'a cached bundle stays for the next job');
  for (const file of [first.file, changed.file]) {
    for (const f of [file, `${file}.map`, file.replace(/-[0-9a-f]+\.mjs$/, '.json')]) rmSync(f, { force: true });
  }
});

t.test('a bundle is minified and ASCII (what every rank parses at start), and runs as its sources do', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), `dsmpi-bundle-${process.pid}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const program = join(dir, 'main.ts');
  const padding = Array.from({ length: 50 }, (_, i) => `// padding comment line ${i}, naïve … and long enough to count\n`).join('');
  writeFileSync(program, `${padding}const word: string = 'café …';\nconsole.log(word);\n`);
  const { file, remove } = await bundleProgram(program, 'ascii');
  t.teardown(() => {
    void remove();
    for (const f of [file, `${file}.map`, file.replace(/-[0-9a-f]+\.mjs$/, '.json')]) rmSync(f, { force: true });
  });
  const code = readFileSync(file, 'utf8');
  t.notMatch(code, 'padding comment', 'comments are left out');
  t.match(code, /^[\x00-\x7f]*$/, 'only ASCII: a one-byte string in V8, however the sources are written');
  t.equal(execFileSync(process.execPath, [file], { encoding: 'utf8' }), 'café …\n', 'the program still prints what it did');
});
