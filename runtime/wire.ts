/**
 * The wire vocabulary of the runtime core. A message is `[kind, context, tag, data]`; a frame is one
 * or more messages back to back. The sender's rank is not in the message: the transport knows who
 * is on the other end of an authenticated connection. How messages become bytes is a Codec's job
 * (the MessagePack one is runtime/transport/codec.ts); the core only holds the interface.
 */
export const Kind = {
  /** Point-to-point message, matched by (context, source, tag). */
  Message: 0,
  /** One-sided request served by the target's runtime (counters, windows). */
  RmaRequest: 1,
  /** Reply to a one-sided request. */
  RmaReply: 2,
} as const;

export type Envelope = [kind: number, context: number, tag: number, data: unknown];

/** Turns messages into frame bytes and back. */
export interface Codec {
  /** One message's bytes; a frame is such messages back to back. Throws for data it cannot carry. */
  encodeMessage(kind: number, context: number, tag: number, data: unknown): Uint8Array;
  /** The messages of a frame; throws DS_ERR_DECODE on anything malformed or truncated. */
  decodeFrame(frame: Uint8Array): Envelope[];
}
