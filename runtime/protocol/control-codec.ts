import { Packr } from 'msgpackr';

/**
 * The codec of control frames: what ranks, the coordinator, dsrun and its agents send one another
 * (rendezvous.ts, agent-messages.ts), and the stamps of traced messages. Every frame is one
 * MessagePack value.
 */
const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export function encodeValue(value: unknown): Uint8Array {
  return packr.pack(value);
}

export function decodeValue(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}
