// Every algorithm takes its message tags from the one registry (defineTags), so that two
// algorithms composed in one program never share a number: loads every algorithm module into one
// process and checks each exported tag table against the registry.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join, relative } from 'node:path';
import { FIRST_ALLOCATED_TAG, tagName } from '../../runtime/tag-registry.ts';

const root = fileURLToPath(new URL('../../algorithms/', import.meta.url));
// The checkers are pure (no messages); the fuzz targets hold command-line programs.
const skipped = new Set(['checkers', 'fuzz-targets']);

function modules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.isDirectory()) return skipped.has(e.name) ? [] : modules(join(dir, e.name));
    return e.name.endsWith('.ts') ? [join(dir, e.name)] : [];
  });
}

t.test('every exported tag table of an algorithm is allocated by the registry, and no number is used twice', async (t) => {
  const owners = new Map<number, { table: object; where: string }>();
  let tables = 0;
  for (const file of modules(root)) {
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    for (const [exported, table] of Object.entries(mod)) {
      if (!/Tag$/.test(exported) || typeof table !== 'object' || table === null) continue;
      const where = `${relative(root, file)}: ${exported}`;
      tables++;
      for (const [name, tag] of Object.entries(table)) {
        if (typeof tag !== 'number') continue;
        t.ok(tag >= FIRST_ALLOCATED_TAG, `${where}.${name} = ${tag} is allocated, not a literal below ${FIRST_ALLOCATED_TAG}`);
        t.equal(tagName(tag), name, `${where}.${name} is registered under its name`);
        const owner = owners.get(tag);
        // A table re-exported by another module (an entry file) is the same object, not a second user.
        t.ok(owner === undefined || owner.table === table, `${where}.${name} = ${tag}, also ${owner?.where}`);
        owners.set(tag, { table, where: `${where}.${name}` });
      }
    }
  }
  t.ok(tables >= 20, `${tables} tag tables found`);
});
