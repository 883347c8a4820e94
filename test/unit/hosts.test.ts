import t from 'tap';
import { DEFAULT_AGENT_PORT, parseHostfile, parseHostList, placeRanks } from '../../launcher/hosts.ts';

t.test('--hosts lists', async (t) => {
  t.same(parseHostList('a:4,b:7000:2,c'), [
    { host: 'a', port: DEFAULT_AGENT_PORT, slots: 4 },
    { host: 'b', port: 7000, slots: 2 },
    { host: 'c', port: DEFAULT_AGENT_PORT, slots: 1 },
  ]);
  t.same(parseHostList('[fe80::1]:7000:2'), [{ host: 'fe80::1', port: 7000, slots: 2 }]);
  t.throws(() => parseHostList('a:0'), /slots/);
  t.throws(() => parseHostList(''), /no hosts/);
});

t.test('hostfiles', async (t) => {
  const text = '# the lab\nnode1 slots=4\n\nnode2:7000 slots=2   # second\nnode3\n';
  t.same(parseHostfile(text), [
    { host: 'node1', port: DEFAULT_AGENT_PORT, slots: 4 },
    { host: 'node2', port: 7000, slots: 2 },
    { host: 'node3', port: DEFAULT_AGENT_PORT, slots: 1 },
  ]);
  t.throws(() => parseHostfile('a cores=2', 'hf'), /hf:1: unknown 'cores=2'/);
  t.throws(() => parseHostfile('# nothing\n'), /no hosts/);
});

t.test('placement in slot order; oversubscription only when asked', async (t) => {
  const hosts = parseHostList('a:2,b:1');
  t.same(placeRanks(hosts, 3, false), [0, 0, 1]);
  t.same(placeRanks(hosts, 2, false), [0, 0]);
  t.throws(() => placeRanks(hosts, 4, false), /4 ranks but only 3 slot\(s\).*--oversubscribe/);
  t.same(placeRanks(hosts, 5, true), [0, 0, 1, 0, 0]);
});
