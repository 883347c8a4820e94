// msgpackr without its native string reader: control frames are small (runtime/transport/codec.ts).
import { Packr } from 'msgpackr/pack';
import { DsError, ErrorCode } from '../errors.ts';
import { findWireProblem } from './strict-wire.ts';

/**
 * The codec of control frames: what ranks, the coordinator, dsrun and its agents send one another
 * (rendezvous.ts, agent-messages.ts), and the stamps of traced messages. Every frame is one
 * MessagePack value.
 */
const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export function encodeValue(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** One value from a peer; throws DS_ERR_DECODE for what a sender does not write (strict-wire.ts). */
export function decodeValue(bytes: Uint8Array): unknown {
  const problem = findWireProblem(bytes);
  if (problem) throw new DsError(ErrorCode.Decode, `malformed frame (${bytes.length} bytes): ${problem}`);
  try {
    return packr.unpack(bytes);
  } catch (err) {
    throw new DsError(ErrorCode.Decode, `malformed frame (${bytes.length} bytes): ${(err as Error).message}`);
  }
}
