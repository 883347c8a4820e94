import { ANY_SOURCE, ANY_TAG } from './constants.ts';
import { receiveInto, type Rendezvous } from './flow-control.ts';
import type { Completion, PendingOperation } from './request.ts';
import type { Message } from './message.ts';

export type { Message } from './message.ts';

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
  /** Where a Uint8Array payload is to be written (recv's `into`). */
  into?: Uint8Array;
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
 * What a kept message holds: the bytes it takes of its sender's receive buffer (0: not counted), or,
 * for a message whose data is still at its sender, how to fetch it (runtime/flow-control.ts).
 */
export type Held = number | Rendezvous;

/**
 * MPI matching for one communicator context: receives posted before their message wait in
 * `posted`; messages that arrive first wait in `unexpected`. Both are searched in order, so two
 * messages from one sender that match one receive are received in the order sent (non-overtaking).
 */
export class Matcher {
  private unexpected: Message[] = [];
  /** What each kept message holds, in step with `unexpected`. */
  private held: Held[] = [];
  /** Index of the first live entry of `unexpected` (avoids O(n) shifts when streaming). */
  private head = 0;
  private posted: PostedReceive[] = [];
  private probes: PostedProbe[] = [];
  /** Bytes held by kept messages that count against their senders' buffers. */
  private heldBytes = 0;
  /** Told when a counted message leaves the buffer: `cost` bytes of `source`'s are free again. */
  private readonly release: ((source: number, cost: number) => void) | undefined;
  /** Told when a receive or probe starts to wait (a rank may then poll for its message). */
  private readonly waitBegan: (() => void) | undefined;

  constructor(release?: (source: number, cost: number) => void, waitBegan?: () => void) {
    this.release = release;
    this.waitBegan = waitBegan;
  }

  /** A message has arrived: hand it to the first matching receive, or keep it. */
  arrive(msg: Message, held: Held = 0): void {
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
        if (typeof held === 'number') {
          if (held > 0) this.release?.(msg.source, held);
          if (!p.into) return p.request.resolve(msg);
        }
        this.complete(msg, held, p.into).then(
          (m) => p.request.resolve(m),
          (err) => p.request.reject(err),
        );
        return;
      }
    }
    this.unexpected.push(msg);
    this.held.push(held);
    if (typeof held === 'number') this.heldBytes += held;
  }

  /**
   * Removes the first kept message matching the pattern and completes a receive with it: at once,
   * or, for a message whose data is still at its sender, once the data is here.
   */
  receive(source: number, tag: number, into?: Uint8Array): Message | Promise<Message> | undefined {
    const i = this.find(source, tag);
    if (i < 0) return undefined;
    const held = this.held[i];
    const msg = this.removeKept(i);
    if (typeof held === 'object') return held.fetch(into);
    return into ? receiveInto(msg, into) : msg;
  }

  /** Removes and returns the first kept message matching the pattern (contexts without flow control). */
  take(source: number, tag: number): Message | undefined {
    const i = this.find(source, tag);
    return i < 0 ? undefined : this.removeKept(i);
  }

  private removeKept(i: number): Message {
    const msg = this.unexpected[i];
    const held = this.held[i];
    if (i === this.head) {
      this.unexpected[i] = undefined as unknown as Message;
      this.held[i] = 0;
      this.head++;
      if (this.head === this.unexpected.length) {
        this.unexpected = [];
        this.held = [];
        this.head = 0;
      } else if (this.head > 1024 && this.head * 2 > this.unexpected.length) {
        this.unexpected = this.unexpected.slice(this.head);
        this.held = this.held.slice(this.head);
        this.head = 0;
      }
    } else {
      removeAt(this.unexpected, i);
      removeAt(this.held, i);
    }
    if (typeof held === 'number' && held > 0) {
      this.heldBytes -= held;
      this.release?.(msg.source, held);
    }
    return msg;
  }

  /** A matched message as its receive gets it (what it held of the buffer is already released). */
  private complete(msg: Message, held: Held, into: Uint8Array | undefined): Promise<Message> {
    if (typeof held === 'object') return held.fetch(into);
    try {
      return Promise.resolve(into ? receiveInto(msg, into) : msg);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The first kept message matching the pattern, left in place (iprobe). */
  peek(source: number, tag: number): Message | undefined {
    const i = this.find(source, tag);
    return i < 0 ? undefined : this.unexpected[i];
  }

  post(receive: PostedReceive): void {
    this.posted.push(receive);
    this.waitBegan?.();
  }

  postProbe(probe: PostedProbe): void {
    this.probes.push(probe);
    this.waitBegan?.();
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

  /**
   * Rejects everything waiting and drops every kept message (the communicator was revoked): counted
   * ones give their bytes back, and the senders of held ones are told not to send them.
   */
  revoke(error: (description: string) => Error): void {
    this.failAll(error);
    for (let i = this.head; i < this.unexpected.length; i++) {
      const held = this.held[i];
      if (typeof held === 'object') held.drop();
      else if (held > 0) this.release?.(this.unexpected[i].source, held);
    }
    this.unexpected = [];
    this.held = [];
    this.head = 0;
    this.heldBytes = 0;
  }

  /**
   * Drops every kept message and leaves every receive waiting for ever: the rank's process is gone
   * (a simulated crash), and code of it still finishing must not act on what had arrived.
   */
  halt(): void {
    this.unexpected = [];
    this.held = [];
    this.head = 0;
    this.heldBytes = 0;
  }

  /** Requests still waiting, for status reports. */
  waiting(): PendingOperation[] {
    return [...this.posted.map((p) => p.request), ...this.probes.map((p) => p.request)];
  }

  /** True while a receive or probe waits for a message. */
  get waitingForMessage(): boolean {
    return this.posted.length > 0 || this.probes.length > 0;
  }

  /** Bytes of kept messages that count against their senders' buffers (runtime/flow-control.ts). */
  get bufferedBytes(): number {
    return this.heldBytes;
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
