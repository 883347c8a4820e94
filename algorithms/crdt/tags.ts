import { defineTags } from 'dsmpi';

/** Tags of the CRDT modules (numbers from the tag registry). */
export const Tag = defineTags('crdt', [
  /** A replica's whole state, pushed to a peer (anti-entropy). */
  'Gossip',
  /** Majority read: "send me your entry for this key". */
  'ReadRequest',
  /** Majority read: a replica's entry for the key (or null). */
  'ReadReply',
]);
