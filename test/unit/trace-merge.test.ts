// Merging the ranks' trace files (launcher/trace-merge.ts): clocks that disagree must not show an
// effect before its cause, and each rank's events keep their order.
import t from 'tap';
import { formatTrace, type TraceEvent } from '../../runtime/protocol/trace-event.ts';
import { mergeTraces } from '../../launcher/trace-merge.ts';

const T0 = 1_000_000;
const at = (ms: number): number => T0 + ms;
const file = (events: TraceEvent[]): string => formatTrace(events);
const brief = (events: TraceEvent[]): string[] => events.map((e) => `${e.t} ${e.ev} r${e.rank}${e.msg !== undefined ? ` m${e.msg}` : ''}`);

t.test('one clock: sorted by time, a send before its delivery at equal times', async (t) => {
  const r0 = file([
    { t: at(1), ev: 'send', rank: 0, to: 1, msg: 1 },
    { t: at(5), ev: 'exit', rank: 0 },
  ]);
  const r1 = file([
    { t: at(1), ev: 'deliver', rank: 1, from: 0, msg: 1 },
    { t: at(2), ev: 'exit', rank: 1 },
  ]);
  const { events } = mergeTraces([{ text: r1 }, { text: r0 }], [{ t: at(3), ev: 'crash', rank: 2, reason: 'kill' }], T0);
  t.same(brief(events), ['1 send r0 m1', '1 deliver r1 m1', '2 exit r1', '3 crash r2', '5 exit r0']);
});

t.test("a host's measured clock offset moves its ranks' times to the launcher's clock", async (t) => {
  // Rank 1's host runs 250 ms ahead.
  const r0 = file([{ t: at(10), ev: 'send', rank: 0, to: 1, msg: 1 }]);
  const r1 = file([
    { t: at(260.5), ev: 'deliver', rank: 1, from: 0, msg: 1 },
    { t: at(261), ev: 'send', rank: 1, to: 0, msg: 1 },
  ]);
  const { events } = mergeTraces([{ text: r0 }, { text: r1, clockOffsetMs: 250 }], [], T0);
  t.same(brief(events), ['10 send r0 m1', '10.5 deliver r1 m1', '11 send r1 m1']);
});

t.test('a clock behind: a delivery takes its send time, and its rank keeps its order', async (t) => {
  // Rank 1's clock is 5 ms behind and unmeasured: its delivery would come 4 ms before the send.
  const r0 = file([
    { t: at(10), ev: 'send', rank: 0, to: 1, msg: 1 },
    { t: at(10.2), ev: 'exit', rank: 0 },
  ]);
  const r1 = file([
    { t: at(6), ev: 'deliver', rank: 1, from: 0, msg: 1 },
    { t: at(6.1), ev: 'send', rank: 1, to: 2, msg: 1 },
    { t: at(20), ev: 'exit', rank: 1 },
  ]);
  const r2 = file([{ t: at(7), ev: 'deliver', rank: 2, from: 1, msg: 1 }]);
  const { events, text } = mergeTraces([{ text: r0 }, { text: r1 }, { text: r2 }], [], T0);
  t.same(brief(events), ['10 send r0 m1', '10 deliver r1 m1', '10 send r1 m1', '10 deliver r2 m1', '10.2 exit r0', '20 exit r1']);
  t.equal(text.split('\n').length, events.length + 1, 'one line per event');
  for (let i = 1; i < events.length; i++) t.ok(events[i].t >= events[i - 1].t, 'times never go backwards');
});

t.test('a delivery whose sender left no trace, a cut-off last line, and inconsistent files still merge', async (t) => {
  const r1 =
    file([
      { t: at(3), ev: 'deliver', rank: 1, from: 0, msg: 1 },
      { t: at(4), ev: 'deliver', rank: 1, from: 2, msg: 1 },
    ]) + '{"t":1000005,"ev":"se';
  // Rank 2 claims to have delivered rank 1's message before sending the one rank 1 got: a cycle.
  const r2 = file([
    { t: at(1), ev: 'deliver', rank: 2, from: 1, msg: 9 },
    { t: at(2), ev: 'send', rank: 2, to: 1, msg: 1 },
  ]);
  const r1b = file([{ t: at(5), ev: 'send', rank: 1, to: 2, msg: 9 }]);
  const { events } = mergeTraces(
    [{ text: r1 + '\n' + r1b }, { text: r2 }],
    [{ t: at(0), ev: 'untraced', rank: 0, reason: 'host lost' }],
    T0,
  );
  t.equal(events.length, 6, 'every whole line is kept');
  t.same(events[0], { t: 0, ev: 'untraced', rank: 0, reason: 'host lost' });
  t.ok(events.findIndex((e) => e.ev === 'send' && e.rank === 2) < events.findIndex((e) => e.ev === 'deliver' && e.from === 2));
});
