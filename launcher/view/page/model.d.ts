// Types of what model.js exports to Node (the page uses it as a plain script).
import type { TraceEvent } from '../../../runtime/protocol/trace-event.ts';

/** One run as the page embeds it. */
export interface RunData {
  title?: string;
  seed?: number;
  command?: string;
  events: readonly TraceEvent[];
}

/** A rank-local event of the model: the trace event with its sequence number, vector clock and logical step. */
export interface ModelEvent extends TraceEvent {
  rank: number;
  index: number;
  seq: number;
  vc: Int32Array | number[];
  level: number;
  message?: number;
}

export interface ModelMessage {
  index: number;
  from: number;
  to: number;
  msg?: number;
  label: string;
  preview?: string;
  /** Index of its send event, -1 when its sender left no trace. */
  send: number;
  deliveries: number[];
  drop?: { t: number; reason?: string; level?: number };
}

export interface Model {
  title?: string;
  ranks: number;
  duration: number;
  events: ModelEvent[];
  /** Each rank's events (indices into events), in order. */
  byRank: number[][];
  messages: ModelMessage[];
  maxLevel: number;
}

/** Where two runs first differ: the earliest logical step at which a rank's event differs. */
export interface Difference {
  rank: number;
  /** The event's place among its rank's events, from 1. */
  position: number;
  level: number;
  /** What each run did there (`nothing more` when it had no such event). */
  a: string;
  b: string;
  eventA?: number;
  eventB?: number;
}

export function rankCountOf(events: readonly TraceEvent[]): number;
export function buildModel(run: RunData): Model;
/** Cuts per rank of an event's causal past (seq <= past[rank]) and future (seq >= future[rank]). */
export interface CausalCone {
  past: Int32Array;
  future: Int32Array;
  inPast(event: number): boolean;
  inFuture(event: number): boolean;
}

export function causalCone(model: Model, e: ModelEvent): CausalCone;
export function happenedBefore(a: ModelEvent, b: ModelEvent): boolean;
export function firstDifference(a: Model, b: Model): Difference | undefined;
export function describeDifference(d: Difference | undefined): string;
