/// <reference lib="dom" />
// The status page in a real browser (Debian's chromium, driven by playwright-core): it shows
// every member, colours states, draws resources as bars, follows an update, and reflects a
// member killed with SIGKILL within the detection time, all through its live feed.
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, killAll, runCli } from './agent-process';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);

/**
 * The local profile's longest path from a kill to "dead": a probe round (1 s), the probe and
 * its indirect and TCP fallbacks (under 2 s), then a suspicion that may run its full maximum
 * when no other member confirms it: suspicionMaxTimeoutMult 6 x suspicionMult 3 x probe
 * interval 1 s = 18 s (Lifeguard IV.B). Plus slack for a loaded machine.
 */
const DETECTION_MS = 1000 + 2000 + 18_000 + 4000;

// Without a browser there is nothing to drive; CI installs it (apt-get install chromium).
const title = haveChromium
  ? 'status page in headless Chromium'
  : `status page in headless Chromium (skipped: ${CHROMIUM} is missing; apt-get install chromium)`;
describe.skipIf(!haveChromium)(title, () => {
  let agents: AgentProcess[] = [];
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const a = await AgentProcess.start('pg-a', { host: '127.0.0.111' });
    agents.push(a);
    agents.push(
      ...(await Promise.all([
        AgentProcess.start('pg-b', {
          host: '127.0.0.112',
          join: [a.address],
          extra: ['--resources', 'maxInstances=4,currentInstances=1,cpuTotal=2,cpuAvailable=2', '--tag', 'zone=b'],
        }),
        AgentProcess.start('pg-c', { host: '127.0.0.113', join: [a.address] }),
      ])),
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await killAll(agents);
    agents = [];
  });

  const row = (name: string) => page.locator(`#members tr[data-member="${name}"]`);

  it('shows every member alive, coloured, with resources as bars, live', async () => {
    await page.goto(`http://${agents[0]?.http}/`);
    await page.waitForSelector('#feed[data-live="true"]');
    for (const name of ['pg-a', 'pg-b', 'pg-c']) {
      await expect.poll(() => row(name).getAttribute('data-state'), { timeout: 15_000 }).toBe('alive');
    }
    expect(await page.locator('#members tr').count()).toBe(3);
    expect(await row('pg-a').getAttribute('class')).toBe('self');
    const badge = row('pg-b').locator('.state');
    expect(await badge.textContent()).toBe('alive');
    expect(await badge.evaluate((e) => getComputedStyle(e).backgroundColor)).toBe('rgb(26, 127, 55)');
    // Instances 1 of 4 in use: a bar filled to a quarter, labelled.
    const bar = row('pg-b').locator('.bar').first();
    expect(await bar.locator('b').textContent()).toBe('1 / 4');
    expect(await bar.locator('i').evaluate((e) => (e as HTMLElement).style.width)).toBe('25%');
    expect(await row('pg-b').locator('.tag').allTextContents()).toEqual(['zone=b']);
    expect(await page.locator('#cluster').textContent()).toBe('default');
    expect(await page.locator('#recent li').count()).toBeGreaterThanOrEqual(2); // the two joins
  });

  it('follows an update without a reload', async () => {
    const { code } = await runCli(['update', '--http', agents[1]?.http as string, '--resources', 'currentInstances=3']);
    expect(code).toBe(0);
    const bar = row('pg-b').locator('.bar').first();
    await expect.poll(() => bar.locator('b').textContent(), { timeout: 10_000 }).toBe('3 / 4');
    expect(await bar.locator('i').evaluate((e) => (e as HTMLElement).style.width)).toBe('75%');
    expect(await page.locator('#recent li').first().getAttribute('data-type')).toBe('update');
  });

  it('reflects a member killed with SIGKILL as dead within the detection time', async () => {
    const victim = agents[2] as AgentProcess;
    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    await expect
      .poll(() => row('pg-c').getAttribute('data-state'), { timeout: DETECTION_MS, interval: 100 })
      .toBe('dead');
    const tookMs = Date.now() - killedAt;
    expect(tookMs).toBeLessThan(DETECTION_MS);
    const badge = row('pg-c').locator('.state');
    expect(await badge.evaluate((e) => getComputedStyle(e).backgroundColor)).toBe('rgb(207, 34, 46)');
    expect(await page.locator('#recent li[data-type="dead"][data-member="pg-c"]').count()).toBe(1);
    expect(await page.locator('#counts').textContent()).toContain('2 alive');
    expect(await page.locator('#counts').textContent()).toContain('1 dead');
  });
});
