import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Under `--no-bundle` Node resolves the program's imports, so `import 'dsmpi'` needs a project
 * around the program that has dsmpi (or is dsmpi). Returns the error to print when it has none,
 * undefined when the program can run (or does not import dsmpi).
 */
export function noBundleProblem(program: string): string | undefined {
  const real = realpathSync(program);
  if (!/(?:from\s*|import\s*\(?\s*)['"]dsmpi(?:\/[\w-]+)?['"]/.test(readFileSync(real, 'utf8'))) return undefined;
  for (let dir = dirname(real); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules', 'dsmpi', 'package.json'))) return undefined;
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'dsmpi') return undefined;
    if (dirname(dir) === dir) break;
  }
  return (
    `--no-bundle: ${program} imports dsmpi, but no project around it has dsmpi, and with --no-bundle Node resolves its imports. ` +
    `Run it without --no-bundle (dsrun then gives it its own dsmpi), or put it in a project that depends on dsmpi (npm install dsmpi)`
  );
}
