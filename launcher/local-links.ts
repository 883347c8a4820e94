/**
 * The directory where the process ranks that one launcher starts on this host listen on Unix
 * sockets besides TCP (Env.localLinks, runtime/transport/ws.ts): made by mkdtemp, so private to the
 * user who runs the job, and removed when the job ends.
 */
import { Buffer } from 'node:buffer';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A socket's path must fit in sun_path: 108 bytes on Linux, 104 on macOS, with its final NUL. */
const MAX_SOCKET_PATH = 103;
/** The longest name of a rank's socket in the directory: `/<rank>.<pid>.sock` (ws.ts), ranks below 2^16, pids below 2^22. */
const LONGEST_NAME = '/65535.4194304.sock'.length;

/** A new directory for the ranks' Unix sockets; undefined where there can be none (they use TCP only). */
export function makeLocalLinksDir(): string | undefined {
  if (process.platform === 'win32') return undefined;
  let dir: string;
  try {
    dir = mkdtempSync(join(tmpdir(), 'dsmpi-links-'));
  } catch {
    return undefined;
  }
  if (Buffer.byteLength(dir) + LONGEST_NAME <= MAX_SOCKET_PATH) return dir;
  removeLocalLinksDir(dir);
  return undefined;
}

export function removeLocalLinksDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}
