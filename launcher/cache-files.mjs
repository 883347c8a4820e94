// What both bundle caches do with their files: the launcher's (launcher-bundle.mjs, which runs before
// any TypeScript is compiled, hence plain JavaScript) and the programs' (bundle.ts).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';

/**
 * A hash of the contents of `files`; undefined if one cannot be read (it was removed). The files are
 * read synchronously: every job checks its launcher's 56 sources and its program's 100 or so before
 * any rank starts, and reading them one await at a time took 20–75 ms there (4 trips through
 * libuv's thread pool per file), against 3–10 ms.
 */
export async function contentHash(files) {
  const hash = createHash('sha256');
  try {
    for (const file of [...files].sort()) hash.update(file).update('\0').update(readFileSync(file)).update('\0');
  } catch {
    return undefined;
  }
  return hash.digest('hex').slice(0, 32);
}

/**
 * Writes `data` to `file` whole or not at all (another dsrun may be reading or writing it), through
 * `temporary`, which names the writing process so that a killed writer's leftovers can be told apart.
 */
export async function writeWhole(file, data, temporary = `${file}.${process.pid}.tmp`) {
  await writeFile(temporary, data);
  await rename(temporary, file);
}
