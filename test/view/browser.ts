// Headless Chromium for the viewer's browser tests and screenshots, through playwright-core.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's chromium, or undefined when it is not installed (tests then skip, saying so). */
export const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

export interface Session {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** A fresh browser (own profile, no network chatter) with one page of the given size. */
export async function openBrowser(width = 1400, height = 900): Promise<Session> {
  const profile = mkdtempSync(join(tmpdir(), 'dsmpi-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    viewport: { width, height },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 60_000,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Opens a page written by `dsrun view` and waits until it has drawn. */
export async function load(page: Page, file: string): Promise<void> {
  const failed = new Promise<never>((_, reject) => page.once('pageerror', reject));
  await page.goto(`file://${file}`);
  await Promise.race([page.waitForSelector('body[data-ready="true"]', { state: 'attached', timeout: 60_000 }), failed]);
}
