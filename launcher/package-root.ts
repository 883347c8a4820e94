import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The dsmpi package root (where its package.json is, and its own dependencies resolve from). Found
 * from this module's file, wherever it runs from: the sources of a checkout, dist/ in the installed
 * package, or the launcher's cached bundle under node_modules/.cache (launcher/launcher-bundle.mjs).
 */
export const packageRoot = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
})();

/** True in a checkout of the repository (TypeScript sources), false in the installed package (dist/). */
export const fromSources = existsSync(join(packageRoot, 'launcher', 'cli.ts'));

/** Where a file of the launcher or runtime is: `launcher/view/page` in a checkout, `dist/launcher/view/page` installed. */
export const packageFile = (path: string): string => join(packageRoot, ...(fromSources ? [] : ['dist']), path);
