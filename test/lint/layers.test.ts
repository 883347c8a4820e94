// The layering rules of eslint.config.js: each fixture under test/fixtures/layers/ is linted as if
// it stood at the path it names, and must get exactly the error it expects (or none).
import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = join(root, 'test/fixtures/layers');
const eslint = new ESLint({ cwd: root });

/** The repository files a file imports (relative specifiers only), as paths from the root. */
function localImports(file: string): string[] {
  const source = readFileSync(join(root, file), 'utf8');
  const specifiers = [...source.matchAll(/(?:from\s*|import\s*\(\s*|import\s+)['"](\.[^'"]+)['"]/g)].map((m) => m[1]);
  return specifiers.map((s) => relative(root, resolve(root, dirname(file), s)));
}

for (const name of readdirSync(fixtures).filter((f) => f.endsWith('.ts'))) {
  t.test(name, async (t) => {
    const code = readFileSync(join(fixtures, name), 'utf8');
    const [, lintAs] = /^\/\/ lint as: (\S+)/m.exec(code) ?? [];
    const [, expect] = /^\/\/ expect: (.+)$/m.exec(code) ?? [];
    t.ok(lintAs && expect, 'names its path and what it expects');
    for (const target of localImports(join('test/fixtures/layers', name)).map((p) =>
      relative(root, resolve(root, dirname(lintAs), relative('test/fixtures/layers', p))),
    ))
      t.ok(existsSync(join(root, target)), `imports ${target}, which exists (else the rule would not see it)`);
    const [result] = await eslint.lintText(code, { filePath: join(root, lintAs) });
    const messages = result.messages.map((m) => `${m.ruleId}: ${m.message}`);
    if (expect === 'nothing') t.same(messages, [], 'allowed');
    else {
      t.equal(messages.length, 1, `one error: ${messages.join(' | ')}`);
      t.match(messages[0], expect, 'the layering error');
    }
  });
}
