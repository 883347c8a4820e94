/**
 * Three "hosts" on one machine for multi-host tests: network namespaces this test creates, each
 * with its own private address on a bridge that lives in a fourth namespace of the test's own.
 * Nothing is added to the machine's own network namespace; everything is deleted in `destroy`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { root } from './dsrun.ts';

export interface Hosts {
  names: string[];
  addresses: string[];
  /** Runs a command in host i's namespace. */
  exec(i: number, cmd: string[]): void;
  /** Starts `dsrun ...args` in host i's namespace (its own process group). */
  dsrun(i: number, args: string[], env?: NodeJS.ProcessEnv): ChildProcess;
  destroy(): void;
}

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Why namespaces cannot be used here, or undefined if they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  const probe = `dsmpi-probe-${process.pid}`;
  try {
    ip(['netns', 'add', probe]);
    ip(['netns', 'del', probe]);
  } catch (err) {
    return `cannot create a network namespace (${(err as Error).message.split('\n')[0]})`;
  }
  return undefined;
}

export function createHosts(count: number): Hosts {
  const tag = `dsm${process.pid % 100000}`;
  const bridgeNs = `${tag}-br`;
  const names = Array.from({ length: count }, (_, i) => `${tag}-h${i + 1}`);
  // 10.213.x.0/24: a private range used only inside these namespaces.
  const subnet = `10.213.${process.pid % 250}`;
  const addresses = names.map((_, i) => `${subnet}.${i + 1}`);
  const created: string[] = [];
  const children: ChildProcess[] = [];
  const destroy = (): void => {
    for (const c of children) {
      try {
        if (c.exitCode === null && c.signalCode === null) process.kill(-c.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const ns of created.splice(0)) {
      try {
        ip(['netns', 'del', ns]);
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', destroy);
  try {
    ip(['netns', 'add', bridgeNs]);
    created.push(bridgeNs);
    ip(['-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', bridgeNs, 'link', 'set', 'br0', 'up']);
    names.forEach((ns, i) => {
      ip(['netns', 'add', ns]);
      created.push(ns);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      ip(['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `vb${i + 1}`, 'netns', bridgeNs]);
      ip(['-n', ns, 'addr', 'add', `${addresses[i]}/24`, 'dev', 'eth0']);
      ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
      ip(['-n', bridgeNs, 'link', 'set', `vb${i + 1}`, 'master', 'br0']);
      ip(['-n', bridgeNs, 'link', 'set', `vb${i + 1}`, 'up']);
    });
  } catch (err) {
    destroy();
    throw err;
  }
  return {
    names,
    addresses,
    exec: (i, cmd) => execFileSync('ip', ['netns', 'exec', names[i], ...cmd], { stdio: 'ignore' }),
    dsrun: (i, args, env) => {
      const e = { ...process.env, ...env };
      delete e.NODE_OPTIONS;
      const child = spawn('ip', ['netns', 'exec', names[i], process.execPath, `${root}launcher/dsrun.mjs`, ...args], {
        cwd: root,
        env: e,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      children.push(child);
      return child;
    },
    destroy: () => {
      destroy();
      process.off('exit', destroy);
    },
  };
}

/** Collects a child's output; resolves with its exit code, or kills it after `limitMs`. */
export function collect(child: ChildProcess, limitMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL');
      stderr += `\n(test: killed after ${limitMs} ms)`;
    }, limitMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Resolves with the `count`-th line of the child's output (stdout or stderr) that matches. */
export function waitForLine(child: ChildProcess, pattern: RegExp, limitMs = 15_000, count = 1): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const stop = (): void => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stderr!.off('data', onData);
      child.off('close', onClose);
    };
    const onClose = (code: number | null): void => {
      stop();
      reject(new Error(`exited (code ${code}) before ${count} line(s) matching ${pattern}:\n${text}`));
    };
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`fewer than ${count} line(s) matching ${pattern} within ${limitMs} ms:\n${text}`));
    }, limitMs);
    const onData = (d: Buffer | string): void => {
      text += String(d);
      const matches = text.split('\n').filter((l) => pattern.test(l));
      if (matches.length >= count) {
        stop();
        resolve(matches[count - 1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('close', onClose);
  });
}
