// Largest Contentful Paint of a page in headless Chromium (median of 5 fresh loads), for
// scripts/measure. Usage: BASE_URL=http://127.0.0.1:3290/ node lcp.mjs
import { chromium } from '@playwright/test';

const url = process.env.BASE_URL ?? 'http://127.0.0.1:3000/';
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const samples = [];
for (let i = 0; i < 5; i++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url, { waitUntil: 'load' });
  const lcp = await page.evaluate(
    () =>
      new Promise((resolve) => {
        new PerformanceObserver((list) => {
          const entries = list.getEntries();
          resolve(entries[entries.length - 1].startTime);
        }).observe({ type: 'largest-contentful-paint', buffered: true });
      }),
  );
  samples.push(lcp);
  await context.close();
}
await browser.close();
samples.sort((a, b) => a - b);
console.log(samples[2].toFixed(0));
