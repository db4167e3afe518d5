// What a visitor on a slow phone waits for, for scripts/measure: a few pages in Debian's Chromium
// with Lighthouse's mobile throttling applied for real (150 ms round trip, 1.6 Mbit/s down,
// 750 kbit/s up, CPU 4x slower), median of 5 fresh loads each: the first paint, the app
// hydrated (`body[data-hydrated]`, set by the app's first effect), the last WebAssembly module
// fetched (the page's own code), and what was fetched.
//
//   PAGES='home=http://127.0.0.1:3290/ ticket=http://127.0.0.1:3290/tickets/x' COOKIE='session=...' node slow-phone.mjs
import { chromium } from '@playwright/test';
import { measuredPages } from './measured-pages.mjs';

const pages = measuredPages();
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  for (const { name, url } of pages) {
    const runs = [];
    for (let i = 0; i < 5; i++) {
      const context = await browser.newContext({
        viewport: { width: 412, height: 823 },
        extraHTTPHeaders: process.env.COOKIE ? { Cookie: process.env.COOKIE } : {},
      });
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false, latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8,
      });
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
      await page.goto(url, { waitUntil: 'commit' });
      await page.waitForSelector('body[data-hydrated]', { timeout: 60_000 });
      const hydrated = await page.evaluate(() => performance.now());
      await page.waitForLoadState('networkidle');
      runs.push(await page.evaluate((hydrated) => {
        const resources = performance.getEntriesByType('resource');
        const wasm = resources.filter((r) => r.name.endsWith('.wasm'));
        return {
          paint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
          hydrated,
          code: Math.max(...wasm.map((r) => r.responseEnd)),
          modules: wasm.length,
          bytes: resources.reduce((sum, r) => sum + r.transferSize, 0) + performance.getEntriesByType('navigation')[0].transferSize,
          requests: resources.length + 1,
        };
      }, hydrated));
      await context.close();
    }
    const median = (key) => runs.map((run) => run[key]).sort((a, b) => a - b)[2];
    console.log(`${name.padEnd(7)} first paint ${median('paint').toFixed(0)} ms, hydrated ${median('hydrated').toFixed(0)} ms, `
      + `last module ${median('code').toFixed(0)} ms; ${median('bytes')} B in ${median('requests')} requests, ${median('modules')} of them wasm`);
  }
} finally {
  await browser.close();
}
