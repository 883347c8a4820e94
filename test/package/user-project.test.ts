/**
 * dsmpi as a user gets it: `npm pack`, installed from the tarball into a new project outside the
 * repository, then the four ways a user runs a program (a .mjs and a .ts file under dsrun, plain
 * node as a job of one rank, the user's own tsc under NodeNext and strict) and a loose file outside
 * any project. npm reaches the registry for dsmpi's dependencies (from its cache when it can).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { root } from '../helpers/dsrun.ts';

t.setTimeout(600_000);

const exec = promisify(execFile);
// As a user runs it: without the test runner's loader.
const env = { ...process.env, NODE_OPTIONS: '' };
const sh = (cmd: string, args: string[], cwd: string) => exec(cmd, args, { cwd, env, timeout: 300_000, maxBuffer: 1 << 24 });

const work = mkdtempSync(join(tmpdir(), 'dsmpi-package-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const project = join(work, 'project');
const loose = join(work, 'loose');
mkdirSync(project);
mkdirSync(loose);

const program = `import { run, type Communicator } from 'dsmpi';

await run(async (world: Communicator) => {
  const total: number = await world.allreduce(world.rank, 'sum');
  console.log(\`rank \${world.rank} of \${world.size}: sum \${total}\`);
});
`;
const programJs = program.replace(', type Communicator', '').replace(': Communicator', '').replace(': number', '');

/** The README's "Your first program" files: its TypeScript blocks that start with `// <file>`. */
const readmeFiles = [...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/```ts\n\/\/ ([\w.]+)\n([\s\S]*?)```/g)].map(
  (m) => [m[1], m[2]] as const,
);

t.before(async () => {
  const { stdout } = await sh('npm', ['pack', '--silent', '--pack-destination', work], root);
  const tarball = join(work, stdout.trim().split('\n').pop()!);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'first-program', private: true, type: 'module' }));
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'NodeNext',
        target: 'ES2022',
        strict: true,
        noEmit: true,
        allowImportingTsExtensions: true,
        // tap's own declarations do not all check (they name react); dsmpi's are checked below.
        skipLibCheck: true,
      },
    }),
  );
  writeFileSync(join(project, 'allreduce.ts'), program);
  writeFileSync(join(project, 'allreduce.mjs'), programJs);
  writeFileSync(join(loose, 'loose.ts'), program);
  for (const [file, text] of readmeFiles) writeFileSync(join(project, file), text);
  await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], project);
  await sh('npm', ['install', '-D', '--prefer-offline', '--no-audit', '--no-fund', 'typescript@5.9', '@types/node@20', 'tap@21'], project);
});

const sums = (n: number) => Array.from({ length: n }, (_, r) => `[rank ${r}] rank ${r} of ${n}: sum ${(n * (n - 1)) / 2}`);
const lines = (text: string) => text.split('\n').filter(Boolean).sort();

t.test('the tarball ships the compiled package only', async (t) => {
  const { stdout } = await sh('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], root);
  const files = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path);
  t.ok(files.includes('dist/runtime/index.js') && files.includes('dist/runtime/index.d.ts'), 'JavaScript and types');
  t.ok(files.includes('dist/runtime/index.js.map'), 'source maps');
  t.same(
    files.filter((f) => /^(test|bench|examples|algorithms|runtime)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts'))),
    [],
    'no sources, tests, fixtures or benchmarks',
  );
});

t.test('npx dsrun -n 3 allreduce.mjs in the project', async (t) => {
  const { stdout } = await sh('npx', ['dsrun', '-n', '3', 'allreduce.mjs'], project);
  t.same(lines(stdout), sums(3));
});

t.test('npx dsrun -n 3 allreduce.ts in the project', async (t) => {
  const { stdout } = await sh('npx', ['dsrun', '-n', '3', 'allreduce.ts'], project);
  t.same(lines(stdout), sums(3));
});

t.test('npx dsrun view draws a trace with the page the package ships', async (t) => {
  await sh('npx', ['dsrun', '-n', '2', '--quiet', '--trace', 'run.jsonl', 'allreduce.ts'], project);
  await sh('npx', ['dsrun', 'view', 'run.jsonl', '--out', 'run.html'], project);
  const html = readFileSync(join(project, 'run.html'), 'utf8');
  t.match(html, 'function rankCountOf(', 'the page script (model.js) is inlined');
  t.match(html, 'function render()', 'and its controls (ui.js)');
  t.match(html, /<style>\s*body \{/, 'and its style (page.css)');
});

t.test('node allreduce.mjs: a job of one rank', async (t) => {
  const { stdout } = await sh(process.execPath, ['allreduce.mjs'], project);
  t.equal(stdout, 'rank 0 of 1: sum 0\n');
});

t.test("the user's tsc --noEmit (NodeNext, strict) accepts the program against the package's types", async (t) => {
  const tsc = join(project, 'node_modules', 'typescript', 'bin', 'tsc');
  const { stdout } = await sh(process.execPath, [tsc, '--noEmit'], project);
  t.equal(stdout, '');
  // dsmpi's declarations themselves, without skipLibCheck.
  const strict = ['--noEmit', '--strict', '--module', 'NodeNext', '--target', 'ES2022', '--types', 'node', 'allreduce.ts'];
  t.equal((await sh(process.execPath, [tsc, ...strict], project)).stdout, '');
  // And it does check: a wrong type is reported.
  writeFileSync(
    join(project, 'wrong.ts'),
    "import { run } from 'dsmpi';\nawait run(async (world) => { const r: string = world.rank; });\n",
  );
  const failed = await sh(process.execPath, [tsc, '--noEmit'], project).catch((err: { stdout: string }) => err);
  rmSync(join(project, 'wrong.ts'));
  t.match(failed.stdout, /wrong\.ts.*TS2322/);
});

t.test('a loose file outside any project runs with the dsmpi dsrun belongs to', async (t) => {
  const { stdout } = await sh(join(project, 'node_modules', '.bin', 'dsrun'), ['-n', '2', join(loose, 'loose.ts')], loose);
  t.same(lines(stdout), sums(2));
});

t.test("--no-bundle from outside the project: tsx from dsmpi's installation; a loose file refused, saying what to do", async (t) => {
  const dsrunBin = join(project, 'node_modules', '.bin', 'dsrun');
  const { stdout } = await sh(dsrunBin, ['--no-bundle', '-n', '2', join(project, 'allreduce.ts')], loose);
  t.same(lines(stdout), sums(2));
  const refused = await sh(dsrunBin, ['--no-bundle', '-n', '2', join(loose, 'loose.ts')], loose).catch(
    (err: { code: number; stderr: string }) => err,
  );
  t.equal((refused as { code: number }).code, 2);
  t.match((refused as { stderr: string }).stderr, /imports dsmpi, but no project around it has dsmpi.*Run it without --no-bundle/s);
});

t.test("the README's first program: run with dsrun, tested with runLocal and simulate under tap", async (t) => {
  t.same(
    readmeFiles.map(([file]) => file),
    ['sum.ts', 'prog.ts', 'sum.test.ts'],
  );
  const { stdout } = await sh('npx', ['dsrun', '-n', '3', 'prog.ts'], project);
  t.same(lines(stdout), ['[rank 0] rank 0: 6', '[rank 1] rank 1: 6', '[rank 2] rank 2: 6']);
  const tap = await sh('npx', ['tap', '--disable-coverage', '--allow-empty-coverage', 'sum.test.ts'], project);
  t.match(tap.stdout, /^ok 1 - sum\.test\.ts/m, 'tap passes (it exits non-zero otherwise)');
});
