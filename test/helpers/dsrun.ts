import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const dsrunBin = `${root}launcher/dsrun.mjs`;

export interface DsrunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs dsrun with `args` from the repository root and collects its output. Kills it (and fails) if
 * it has not ended within `limitMs` (default 60 s: the machine may be loaded). `onLine` sees stdout lines as they come.
 */
export function dsrun(
  args: string[],
  options: { limitMs?: number; onLine?: (line: string) => void; input?: string } = {},
): Promise<DsrunResult> {
  // As a user runs it: without the test runner's own NODE_OPTIONS hooks.
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, [dsrunBin, ...args], {
    cwd: root,
    env,
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (options.input !== undefined) child.stdin!.end(options.input);
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    const lines = (partial + d).split('\n');
    partial = lines.pop()!;
    for (const l of lines) options.onLine?.(l);
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    const limit = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dsrun ${args.join(' ')} did not end within ${options.limitMs ?? 60000} ms\n${stdout}\n${stderr}`));
    }, options.limitMs ?? 60000);
    child.on('close', (code) => {
      clearTimeout(limit);
      resolve({ code, stdout, stderr });
    });
  });
}

/** True if a process with this pid is still running. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
