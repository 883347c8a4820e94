// docs/architecture.md matches the code: every file or folder it names exists, and every arrow it
// lists ("- `from` → `to`") is an import of some file under `from` from some file under `to`.
import t from 'tap';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8');

/** Every source file under `dir` (a folder ending in / or a single file), as paths from the root. */
function sources(path: string): string[] {
  const full = join(root, path);
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|js|mjs)$/.test(f))
    .map((f) => join(path, f));
}

/** The repository files `file` imports; the package's own name stands for its public API. */
function imports(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/(?:from\s*|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)].map(([, spec]) =>
    spec === 'dsmpi' ? 'runtime/index.ts' : spec.startsWith('.') ? relative(root, resolve(root, dirname(file), spec)) : spec,
  );
}

const under = (path: string, prefix: string): boolean => (prefix.endsWith('/') ? path.startsWith(prefix) : path === prefix);

t.test('every file and folder the page names exists', async (t) => {
  const named = new Set(
    [...doc.matchAll(/`([a-z-]+\/[\w./-]*|[\w-]+\.(?:ts|js|mjs))`/g)].map(([, p]) => p).filter((p) => !p.startsWith('dsmpi')),
  );
  t.ok(named.size > 30, `${named.size} paths named`);
  for (const path of named) t.ok(existsSync(join(root, path)), path);
});

t.test('every arrow is an import in the code', async (t) => {
  const arrows = [...doc.matchAll(/^- `([^`]+)` → `([^`]+)`$/gm)].map(([, from, to]) => [from, to]);
  t.ok(arrows.length >= 10, `${arrows.length} arrows`);
  for (const [from, to] of arrows) {
    const found = sources(from).find((file) => imports(file).some((target) => under(target, to)));
    t.ok(found, `${from} → ${to}${found ? ` (${found})` : ''}`);
  }
});
