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
  /** Flow control: the receiver returns `data` bytes of credit to the sender (runtime/flow-control.ts). */
  Credit: 3,
  /** Flow control: a point-to-point message held at its sender, matched like one; `data` is [id, bytes, raw]. */
  Rts: 4,
  /** Flow control: a receive matched held message `tag`: send its data (`data` true), or forget it (false). */
  Cts: 5,
  /** Flow control: the next piece of held message `tag`'s data (`data` is its bytes). */
  Chunk: 6,
  /** The communicator of point-to-point context `context` is revoked (comm.revoke()); passed on by every member. */
  Revoke: 7,
} as const;

export type Envelope = [kind: number, context: number, tag: number, data: unknown];

/** Turns messages into frame bytes and back. */
export interface Codec {
  /** One message's bytes; a frame is such messages back to back. Throws for data it cannot carry. */
  encodeMessage(kind: number, context: number, tag: number, data: unknown): Uint8Array;
  /**
   * The messages of a frame; throws DS_ERR_DECODE on anything malformed or truncated. With `sizes`,
   * the byte length of each message is appended to it.
   */
  decodeFrame(frame: Uint8Array, sizes?: number[]): Envelope[];
  /** Bytes of one message's payload: its data without the envelope (and without a byte array's length header). */
  payloadLength(message: Uint8Array): number;
  /**
   * Bytes `from` to `to` of `data` as a Kind.Chunk message of held message `id` (flow control), in
   * memory of its own that a thread link may hand over without a copy.
   */
  encodeChunk(id: number, data: Uint8Array, from: number, to: number): Uint8Array;
  /** The bytes of a Kind.Chunk message of held message `id` that come before its `bytes` bytes of data. */
  encodeChunkHead(id: number, bytes: number): Uint8Array;
}
