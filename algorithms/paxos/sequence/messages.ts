/** Sequence Paxos's messages: their tags (from the tag registry) and the values they carry. */
import { defineTags } from 'dsmpi';

/** Message names; the tag registry gives them numbers no other algorithm uses. */
export const Tag = defineTags('sequence-paxos', ['Propose', 'Promise', 'Accepted', 'Nack', 'Prepare', 'Accept', 'Decide', 'Farewell']);

export type Value = string | number;
