import { ANY_SOURCE, ANY_TAG } from './constants.ts';
import type { Completion, PendingOperation } from './request.ts';

/** A received message: who sent it (rank in the communicator), its tag, and the payload. */
export interface Message<T = unknown> {
  source: number;
  tag: number;
  data: T;
}

/** What probe reports about a message without receiving it. */
export interface Status {
  source: number;
  tag: number;
}

interface Pattern {
  source: number;
  tag: number;
}

export interface PostedReceive extends Pattern {
  request: Completion<Message>;
  /** Cancels the receive's timeout timer, if it has one. */
  clearTimer?: () => void;
}

interface PostedProbe extends Pattern {
  request: Completion<Status>;
  clearTimer?: () => void;
}

function matches(p: Pattern, m: Pattern): boolean {
  return (p.source === ANY_SOURCE || p.source === m.source) && (p.tag === ANY_TAG || p.tag === m.tag);
}

/**
 * MPI matching for one communicator context: receives posted before their message wait in
 * `posted`; messages that arrive first wait in `unexpected`. Both are searched in order, so two
 * messages from one sender that match one receive are received in the order sent (non-overtaking).
 */
export class Matcher {
  private unexpected: Message[] = [];
  /** Index of the first live entry of `unexpected` (avoids O(n) shifts when streaming). */
  private head = 0;
  private posted: PostedReceive[] = [];
  private probes: PostedProbe[] = [];

  /** A message has arrived: hand it to the first matching receive, or keep it. */
  arrive(msg: Message): void {
    if (this.probes.length > 0) {
      this.probes = this.probes.filter((p) => {
        if (!matches(p, msg)) return true;
        p.clearTimer?.();
        p.request.resolve({ source: msg.source, tag: msg.tag });
        return false;
      });
    }
    for (let i = 0; i < this.posted.length; i++) {
      const p = this.posted[i];
      if (matches(p, msg)) {
        removeAt(this.posted, i);
        p.clearTimer?.();
        p.request.resolve(msg);
        return;
      }
    }
    this.unexpected.push(msg);
  }

  /** Removes and returns the first kept message matching the pattern. */
  take(source: number, tag: number): Message | undefined {
    const i = this.find(source, tag);
    if (i < 0) return undefined;
    const msg = this.unexpected[i];
    if (i === this.head) {
      this.unexpected[i] = undefined as unknown as Message;
      this.head++;
      if (this.head === this.unexpected.length) {
        this.unexpected = [];
        this.head = 0;
      } else if (this.head > 1024 && this.head * 2 > this.unexpected.length) {
        this.unexpected = this.unexpected.slice(this.head);
        this.head = 0;
      }
    } else {
      removeAt(this.unexpected, i);
    }
    return msg;
  }

  /** The first kept message matching the pattern, left in place (iprobe). */
  peek(source: number, tag: number): Message | undefined {
    const i = this.find(source, tag);
    return i < 0 ? undefined : this.unexpected[i];
  }

  post(receive: PostedReceive): void {
    this.posted.push(receive);
  }

  postProbe(probe: PostedProbe): void {
    this.probes.push(probe);
  }

  /** Withdraws a posted receive or probe (cancel, timeout). False if it had already matched. */
  withdraw(request: PendingOperation): boolean {
    const i = this.posted.findIndex((p) => p.request === request);
    if (i >= 0) {
      this.posted[i].clearTimer?.();
      this.posted.splice(i, 1);
      return true;
    }
    const j = this.probes.findIndex((p) => p.request === request);
    if (j >= 0) {
      this.probes[j].clearTimer?.();
      this.probes.splice(j, 1);
      return true;
    }
    return false;
  }

  /** Rejects every receive and probe waiting on exactly `source` (that peer is gone). */
  failSource(source: number, error: (description: string) => Error): void {
    const gone = [...this.posted, ...this.probes].filter((p) => p.source === source);
    this.posted = this.posted.filter((p) => p.source !== source);
    this.probes = this.probes.filter((p) => p.source !== source);
    for (const p of gone) {
      p.clearTimer?.();
      p.request.reject(error(p.request.description));
    }
  }

  /** Rejects everything waiting (the communicator closed). */
  failAll(error: (description: string) => Error): void {
    for (const p of [...this.posted, ...this.probes]) {
      p.clearTimer?.();
      p.request.reject(error(p.request.description));
    }
    this.posted = [];
    this.probes = [];
  }

  /** Requests still waiting, for status reports. */
  waiting(): PendingOperation[] {
    return [...this.posted.map((p) => p.request), ...this.probes.map((p) => p.request)];
  }

  /** Number of messages kept and not yet received. */
  get backlog(): number {
    return this.unexpected.length - this.head;
  }

  private find(source: number, tag: number): number {
    for (let i = this.head; i < this.unexpected.length; i++) {
      const m = this.unexpected[i];
      if ((source === ANY_SOURCE || source === m.source) && (tag === ANY_TAG || tag === m.tag)) return i;
    }
    return -1;
  }
}

/** Removes the item at `i`, keeping the order (splice would allocate an array of what it removes). */
function removeAt<T>(list: T[], i: number): void {
  if (i === 0) {
    list.shift();
    return;
  }
  for (let j = i + 1; j < list.length; j++) list[j - 1] = list[j];
  list.pop();
}
