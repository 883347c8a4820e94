/**
 * What the runtime core needs from a network (the implementations live under runtime/transport/).
 * Peers are world ranks. A transport carries opaque encoded messages (a Codec's, wire.ts); it may
 * coalesce several into one frame, and it must keep them in order per peer (FIFO), which MPI's
 * non-overtaking rule rests on.
 */
export interface TransportEvents {
  /** A frame from `peer`: one or more encoded messages, in the order they were sent. */
  onFrame(peer: number, frame: Uint8Array): void;
  /** The connection to `peer` is gone and will not come back (its process died or was cut off). */
  onPeerLost(peer: number, reason: string): void;
  /** Something to report on this rank that does not stop it (a refused connection, a bad frame). */
  onError(err: Error): void;
  /** Injected faults lost a message this rank sent to `peer`: it never arrives (flow control takes back its share). */
  onDropped?(peer: number, message: Uint8Array): void;
  /** Injected faults duplicated a message this rank sent to `peer`: it arrives twice. */
  onDuplicated?(peer: number, message: Uint8Array): void;
}

export interface Transport {
  /** Largest payload this transport accepts, in bytes (the envelope around it not counted). */
  readonly maxPayload: number;
  /**
   * Whether the engine must do without flow control: the network reorders messages, or forgets
   * what a rank that restarts was owed (the simulator's breakFifo and crash-recovery), which credits
   * cannot follow. Losses and duplicates are not a reason: fault layers report them (onDropped,
   * onDuplicated) and never lose, duplicate or reorder flow control's own messages.
   */
  readonly withoutFlowControl?: boolean;
  /** Begins delivering events. Called once, before any send. */
  start(events: TransportEvents): void;
  /**
   * Queues one encoded message for `peer` (never this rank itself). Returns a promise only when the
   * peer's outgoing buffer is over its high-water mark; the promise resolves when it has drained.
   */
  send(peer: number, message: Uint8Array): void | Promise<void>;
  /**
   * Optional: queues the message `head` followed by `body` (a chunk of a large message) without
   * joining them, so `body` is written out from the caller's memory, not copied. Resolves once
   * `body` has been written out (the caller must not change it before); rejects if the peer is lost
   * first. A transport without it is sent the two joined.
   */
  sendParts?(peer: number, head: Uint8Array, body: Uint8Array): Promise<void>;
  /** Drops the connection to `peer` after a protocol violation; later sends may reconnect. */
  drop(peer: number, reason: string): void;
  /** Resolves when everything queued so far has been handed to the network. */
  flush(): Promise<void>;
  /** Flushes, then closes every connection. */
  close(): Promise<void>;
}
