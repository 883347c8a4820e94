import type { Readable, Writable } from 'node:stream';

/**
 * Copies a child's output to `out` line by line, each line behind `prefix`, so that lines of
 * different ranks never interleave mid-line. A last line without a newline is written at the end.
 */
export function pipeLines(from: Readable, out: Writable, prefix: string): Promise<void> {
  let partial = '';
  ignoreClosedPipe(out);
  from.setEncoding('utf8');
  from.on('data', (chunk: string) => {
    const text = partial + chunk;
    const cut = text.lastIndexOf('\n');
    if (cut < 0) {
      partial = text;
      return;
    }
    partial = text.slice(cut + 1);
    const lines = text.slice(0, cut).split('\n');
    out.write(prefix ? lines.map((l) => prefix + l).join('\n') + '\n' : text.slice(0, cut + 1));
  });
  return new Promise((resolve) => {
    from.on('end', () => {
      if (partial) out.write(prefix + partial + '\n');
      resolve();
    });
  });
}

const guarded = new WeakSet<Writable>();

/**
 * `dsrun … | head` closes dsrun's stdout early: the rest of the output is dropped (the job still
 * runs to its end and exits with its own code) instead of crashing the launcher with EPIPE.
 */
function ignoreClosedPipe(out: Writable): void {
  if (guarded.has(out)) return;
  guarded.add(out);
  out.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    out.write = () => true;
  });
}
