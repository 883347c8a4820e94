// The price of "encrypted by default": a 2-host job (two network namespaces made here, one rank on
// each, the launcher in the first) over TLS-PSK, the default, and over --insecure-plaintext.
// Round trip of a small message and throughput of 1 MiB messages; medians, same-run ratios.
import { median } from './stats.ts';
import { collect, createHosts, netnsUnavailable, waitForLine } from '../test/helpers/netns.ts';

export async function benchSecureHosts(reps: number): Promise<string> {
  const why = netnsUnavailable();
  if (why) return `## 2 hosts, TLS-PSK vs plain\n\nskipped: ${why}`;
  const env = { DSMPI_SECRET: `bench-secret-${process.pid}` };
  const hosts = createHosts(2);
  try {
    // On each host an agent serving TLS-PSK (7411, the default) and one serving plain ws:// (7412).
    const agents = hosts.addresses.flatMap((address, i) => [
      hosts.dsrun(i, ['agent', '--listen', `${address}:7411`], env),
      hosts.dsrun(i, ['agent', '--listen', `${address}:7412`, '--insecure-plaintext'], env),
    ]);
    await Promise.all(agents.map((a) => waitForLine(a, /listening on/)));
    const job = async (secure: boolean, program: string, arg: string): Promise<Record<string, number>> => {
      const port = secure ? 7411 : 7412;
      const list = hosts.addresses.map((a) => `${a}:${port}:1`).join(',');
      const args = ['-n', '2', '--quiet', '--hosts', list, ...(secure ? [] : ['--insecure-plaintext']), program, arg];
      const r = await collect(hosts.dsrun(0, args, env), 120_000);
      if (r.code !== 0) throw new Error(`dsrun ${args.join(' ')} exited ${r.code}\n${r.stderr}`);
      return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, number>;
    };
    const rtt = { tls: [] as number[], plain: [] as number[] };
    const bulk = { tls: [] as number[], plain: [] as number[] };
    for (let r = 0; r < reps; r++) {
      // Alternating, so a noisy moment hits both sides alike.
      rtt.tls.push((await job(true, 'bench/programs/pingpong.ts', '5000')).rttUs);
      rtt.plain.push((await job(false, 'bench/programs/pingpong.ts', '5000')).rttUs);
      bulk.tls.push((await job(true, 'bench/programs/bulk.ts', '200')).mibPerSec);
      bulk.plain.push((await job(false, 'bench/programs/bulk.ts', '200')).mibPerSec);
      process.stderr.write(`2-host repetition ${r + 1}/${reps} done\n`);
    }
    const ratio = (a: number[], b: number[]): string => median(a.map((x, i) => x / b[i])).toFixed(2);
    return [
      `## 2 hosts (network namespaces), TLS-PSK (default) vs --insecure-plaintext (${reps} repetitions; medians)`,
      '',
      '| measure | TLS-PSK | plain | ratio TLS/plain |',
      '|---|---|---|---|',
      `| small-message round trip (µs) | ${median(rtt.tls).toFixed(1)} | ${median(rtt.plain).toFixed(1)} | ${ratio(rtt.tls, rtt.plain)}× |`,
      `| 1 MiB messages, one way (MiB/s) | ${median(bulk.tls).toFixed(0)} | ${median(bulk.plain).toFixed(0)} | ${ratio(bulk.tls, bulk.plain)}× |`,
    ].join('\n');
  } finally {
    hosts.destroy();
  }
}
