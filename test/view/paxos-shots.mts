// Regenerates the two screenshots of docs/viewer.md: the Paxos example with drops, at 1400×900, in
// the real-time and the logical layout, zoomed onto the run's first phases.
//   node --import tsx test/view/paxos-shots.mts
import { execFileSync } from 'node:child_process';
import { openBrowser, load } from './browser.ts';

const root = new URL('../../', import.meta.url).pathname;
const html = `/tmp/dsmpi-paxos-shots-${process.pid}.html`;
execFileSync('node', [`${root}launcher/dsrun.mjs`, 'view', `${root}docs/viewer/traces/paxos-drop.jsonl`, '-o', html], { stdio: 'ignore' });
const session = await openBrowser(1400, 900);
try {
  await load(session.page, html);
  for (const layout of ['time', 'logical']) {
    await session.page.evaluate((l) => {
      const v = (window as unknown as { dsmpiView: { setLayout(l: string): void; zoom(f: number, x?: number): number } }).dsmpiView;
      v.setLayout(l);
      // The first third of the run: client proposals, both phases, the first decisions.
      v.zoom(3, 0);
    }, layout);
    if (layout === 'time') {
      // Centred on the second Prepare to rank 2 (the first is lost), selected: its causal past
      // green, its future orange. The camera is first moved away so that the search centres on it.
      await session.page.evaluate(() => ((window as unknown as { dsmpiView: { camera: { left: number } } }).dsmpiView.camera.left = 1e12));
      await session.page.fill('#search', 'Prepare to:2');
      for (let i = 0; i < 2; i++) await session.page.press('#search', 'Enter');
    }
    await session.page.screenshot({ path: `${root}docs/viewer/paxos-drop-${layout}.png`, clip: { x: 0, y: 0, width: 1400, height: 720 } });
  }
} finally {
  await session.close();
}
