/**
 * Totally ordered multicast with Lamport clocks (course notes C4): every rank multicasts Msg{ts} to
 * all ranks (itself included); every receiver puts it in a hold-back queue ordered by (ts, sender)
 * and multicasts an Ack. A rank delivers the head of its queue once every rank has acknowledged it.
 * Every rank then delivers the same messages in the same order, the order of (ts, sender). It needs
 * reliable FIFO channels: an Ack from k proves no earlier message from k is still on its way.
 *
 * The bank of the notes: the replicated account starts at $1000; even ranks deposit $100, odd ranks
 * add 1% interest. Applied in different orders, replicas would differ ($1111 against $1110); applied
 * in the total order, they agree.
 */
import { defineTags, ANY_SOURCE, ANY_TAG, type Communicator } from 'dsmpi';
import { LamportClock } from '../clocks/lamport-clock.ts';
import { Net, type SentCounts } from './common.ts';
import { precedes } from './mutex-driver.ts';

export const Tag = defineTags('total-order-multicast', ['Msg', 'Ack']);

export type BankOp = { op: 'deposit'; amount: number } | { op: 'interest'; percent: number };

export interface Delivered {
  ts: number;
  sender: number;
  body: BankOp;
}

export interface TotalOrderOptions {
  /** Multicasts per rank (default 2). */
  count?: number;
  /** Longest random pause before each multicast (default 2 ms). */
  pauseMs?: number;
  initialBalance?: number;
}

export interface TotalOrderResult {
  rank: number;
  delivered: Delivered[];
  balance: number;
  sent: SentCounts;
}

export function applyOp(balance: number, op: BankOp): number {
  return op.op === 'deposit' ? balance + op.amount : Math.round(balance * (1 + op.percent / 100) * 100) / 100;
}

/** The operation rank r multicasts. */
export function bankOp(rank: number): BankOp {
  return rank % 2 === 0 ? { op: 'deposit', amount: 100 } : { op: 'interest', percent: 1 };
}

export async function totalOrderMulticast(comm: Communicator, options: TotalOrderOptions = {}): Promise<TotalOrderResult> {
  const count = options.count ?? 2;
  const n = comm.size;
  const net = new Net(comm, Tag);
  const clock = new LamportClock();
  const queue: Delivered[] = [];
  const acks = new Map<string, number>();
  const delivered: Delivered[] = [];
  let balance = options.initialBalance ?? 1000;
  const key = (ts: number, sender: number): string => `${ts}:${sender}`;

  const sender = async (): Promise<void> => {
    for (let i = 0; i < count; i++) {
      await comm.clock.sleep(comm.random() * (options.pauseMs ?? 2));
      const ts = clock.send();
      for (let r = 0; r < n; r++) net.post(r, Tag.Msg, { ts, body: bankOp(comm.rank) });
    }
  };

  const receiver = async (): Promise<void> => {
    while (delivered.length < n * count) {
      const m = await comm.recv(ANY_SOURCE, ANY_TAG);
      if (m.tag === Tag.Msg) {
        const { ts, body } = m.data as { ts: number; body: BankOp };
        clock.receive(ts);
        queue.push({ ts, sender: m.source, body });
        queue.sort((a, b) => (precedes([a.ts, a.sender], [b.ts, b.sender]) ? -1 : 1));
        const ackTs = clock.send();
        for (let r = 0; r < n; r++) net.post(r, Tag.Ack, { ts: ackTs, of: [ts, m.source] });
      } else {
        const { ts, of } = m.data as { ts: number; of: [number, number] };
        clock.receive(ts);
        const k = key(of[0], of[1]);
        acks.set(k, (acks.get(k) ?? 0) + 1);
      }
      while (queue.length > 0 && acks.get(key(queue[0].ts, queue[0].sender)) === n) {
        const head = queue.shift()!;
        delivered.push(head);
        comm.note('deliver', { ts: head.ts, from: head.sender });
        balance = applyOp(balance, head.body);
      }
    }
  };

  await Promise.all([sender(), receiver()]);
  return { rank: comm.rank, delivered, balance, sent: net.sent };
}
