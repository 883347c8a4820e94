import t from 'tap';
import type { TraceEvent } from 'dsmpi';
import { buildModel } from '../../launcher/view/page/model.js';
import { renderHtml } from '../../launcher/view/space-time-html.ts';
import { renderText } from '../../launcher/view/space-time-text.ts';

// r0 → r1 (msg 1), then r1 → r2 (msg 1, sent after r1 got r0's), r2 → r0 lost.
const small: TraceEvent[] = [
  { t: 0, ev: 'send', rank: 0, lamport: 1, to: 1, msg: 1, tag: 7, bytes: 9 },
  { t: 1, ev: 'deliver', rank: 1, lamport: 2, from: 0, msg: 1, tag: 7, bytes: 9 },
  { t: 2, ev: 'send', rank: 1, lamport: 3, to: 2, msg: 1, tag: 8, bytes: 9 },
  { t: 3, ev: 'deliver', rank: 2, lamport: 4, from: 1, msg: 1, tag: 8, bytes: 9 },
  { t: 4, ev: 'send', rank: 2, lamport: 5, to: 0, msg: 1, tag: 9, bytes: 9 },
  { t: 4.5, ev: 'drop', rank: 2, to: 0, msg: 1, tag: 9, reason: 'partition' },
  { t: 5, ev: 'crash', rank: 2 },
];

t.test('messages are paired with their fate, with vector times and logical steps', async (t) => {
  const model = buildModel({ events: small });
  const m = model.messages;
  const at = (i: number): { vc: number[]; level: number } => ({ vc: [...model.events[i].vc], level: model.events[i].level });
  t.equal(m.length, 3);
  t.same(at(m[0].send), { vc: [1, 0, 0], level: 1 });
  t.same(m[0].deliveries.map(at), [{ vc: [1, 1, 0], level: 2 }]);
  t.same(at(m[1].send), { vc: [1, 2, 0], level: 3 });
  t.same(m[1].deliveries.map(at), [{ vc: [1, 2, 1], level: 4 }]);
  t.same(at(m[2].send), { vc: [1, 2, 2], level: 5 }, 'causally after both earlier messages');
  t.same(m[2].deliveries, []);
  t.match(m[2].drop, { t: 4.5, reason: 'partition' });
  t.same(
    m.map((x) => x.label),
    ['tag 7', 'tag 8', 'tag 9'],
  );
});

t.test('text form: a column per rank, one line per event', async (t) => {
  const text = renderText(small, { 7: 'Prepare' });
  const lines = text.trimEnd().split('\n');
  t.equal(lines.length, small.length + 1);
  t.match(lines[0], /t \(ms\) │ +r0 +r1 +r2 │ event/);
  t.match(lines[1], /0\.000 │ +● +· +· │ rank 0 sends Prepare to rank 1 \(9 B\)/);
  t.match(lines[6], /✗ │ lost: tag 9 from rank 2 to rank 0 \(partition\)/);
  t.match(lines[7], /✖ │ rank 2 crashes/);
});

t.test('the page is self-contained: no fetches, data cannot close its script', async (t) => {
  const html = renderHtml([...small, { t: 6, ev: 'exit', rank: 0, reason: '</script><script>alert(1)</script>' }]);
  t.notMatch(html, /<script[^>]+src=|<link[^>]+href=|@import|url\(http/i);
  t.notMatch(html, /<\/script><script>alert/, 'a payload cannot end the data script');
  t.match(html, /3 ranks · 3 messages · 1 dropped/);
});
