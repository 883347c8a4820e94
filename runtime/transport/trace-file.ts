import { closeSync, openSync, writeSync } from 'node:fs';
import { formatTraceEvent, type TraceEvent } from '../protocol/trace-event.ts';

/** How often buffered events are written out: a rank killed by SIGKILL loses at most this much. */
const FLUSH_MS = 50;
const FLUSH_BYTES = 256 * 1024;

/**
 * One rank's trace file in a real run (dsrun --trace): JSONL lines, buffered and written every
 * FLUSH_MS and when the process exits. dsrun merges the ranks' files at the end of the job.
 */
export class TraceFile {
  private fd: number | undefined;
  private buffer: string[] = [];
  private bufferedBytes = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly onExit = (): void => this.close();

  constructor(path: string) {
    this.fd = openSync(path, 'w');
    this.timer = setInterval(() => this.flush(), FLUSH_MS);
    this.timer.unref();
    process.on('exit', this.onExit);
  }

  record(event: TraceEvent): void {
    if (this.fd === undefined) return;
    const line = formatTraceEvent(event) + '\n';
    this.buffer.push(line);
    this.bufferedBytes += line.length;
    if (this.bufferedBytes >= FLUSH_BYTES) this.flush();
  }

  flush(): void {
    if (this.fd === undefined || this.buffer.length === 0) return;
    writeSync(this.fd, this.buffer.join(''));
    this.buffer = [];
    this.bufferedBytes = 0;
  }

  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    closeSync(this.fd);
    this.fd = undefined;
    clearInterval(this.timer);
    process.off('exit', this.onExit);
  }
}
