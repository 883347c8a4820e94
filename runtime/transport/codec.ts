import { Packr } from 'msgpackr';
import { DsError, ErrorCode } from '../errors.ts';

/**
 * Wire format. A message is one MessagePack array `[kind, context, tag, data]`; a frame is one or
 * more messages back to back. The sender's rank is not in the message: the transport knows who is
 * on the other end of an authenticated connection.
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

const packr = new Packr({ useRecords: false, mapsAsObjects: true});

export function encodeMessage(kind: number, context: number, tag: number, data: unknown): Uint8Array {
  return packr.pack([kind, context, tag, data]);
}

export function encodeValue(value: unknown): Uint8Array {
  return packr.pack(value);
}

export function decodeValue(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}

/** Joins queued messages into one frame. */
export function joinFrame(messages: Uint8Array[]): Uint8Array {
  return messages.length === 1 ? messages[0] : Buffer.concat(messages);
}

/** Splits a frame into envelopes; throws DS_ERR_DECODE on anything malformed or truncated. */
export function decodeFrame(frame: Uint8Array): Envelope[] {
  let values: unknown[];
  try {
    values = packr.unpackMultiple(frame as Buffer) as unknown[];
  } catch (err) {
    throw new DsError(ErrorCode.Decode, `malformed frame (${frame.length} bytes): ${(err as Error).message}`);
  }
  for (const v of values) {
    if (
      !Array.isArray(v) ||
      v.length !== 4 ||
      !Number.isInteger(v[0]) ||
      !Number.isInteger(v[1]) ||
      !Number.isInteger(v[2])
    ) {
      throw new DsError(ErrorCode.Decode, `malformed message in frame: expected [kind, context, tag, data]`);
    }
  }
  return values as Envelope[];
}
