/** Tags of the CRDT modules (appended only). */
export const Tag = {
  /** A replica's whole state, pushed to a peer (anti-entropy). */
  Gossip: 1,
  /** Majority read: "send me your entry for this key". */
  ReadRequest: 2,
  /** Majority read: a replica's entry for the key (or null). */
  ReadReply: 3,
} as const;
