// Lighthouse scores of a few pages, mobile and desktop, in Debian's Chromium, for scripts/measure.
// Prints one line per page and form factor, then `lowest <score>` as the last line.
//
//   PAGES='home=http://127.0.0.1:3290/ ticket=http://127.0.0.1:3290/tickets/x' \
//   COOKIE='session=...' node lighthouse.mjs
//
// COOKIE is sent with every request (an order page is only its buyer's). Each run gets a fresh
// browser: a warm cache would flatter the second form factor.
import lighthouse from 'lighthouse';
import desktopConfig from 'lighthouse/core/config/desktop-config.js';
import * as chromeLauncher from 'chrome-launcher';
import { measuredPages } from './measured-pages.mjs';

const pages = measuredPages();
const extraHeaders = process.env.COOKIE ? { Cookie: process.env.COOKIE } : undefined;
const categories = ['performance', 'accessibility', 'best-practices', 'seo'];

let lowest = 100;
for (const { name, url } of pages) {
  for (const formFactor of ['mobile', 'desktop']) {
    const chrome = await chromeLauncher.launch({
      chromePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const flags = { port: chrome.port, output: 'json', logLevel: 'error', onlyCategories: categories, extraHeaders };
      const result = await lighthouse(url, flags, formFactor === 'desktop' ? desktopConfig : undefined);
      const lhr = result.lhr;
      if (lhr.runtimeError) throw new Error(`${name} ${formFactor}: ${lhr.runtimeError.message}`);
      const scores = categories.map((id) => Math.round((lhr.categories[id].score ?? 0) * 100));
      lowest = Math.min(lowest, ...scores);
      const line = categories.map((id, i) => `${id} ${scores[i]}`).join(', ');
      console.log(`${name.padEnd(7)} ${formFactor.padEnd(8)} ${line}`);
      // What cost points, so a low score says where to look.
      for (const id of categories) {
        for (const ref of lhr.categories[id].auditRefs) {
          const audit = lhr.audits[ref.id];
          if (ref.weight > 0 && audit.score !== null && audit.score < 0.9) {
            console.log(`        ${id}: ${audit.id} ${Math.round(audit.score * 100)} ${audit.displayValue ?? ''}`);
          }
        }
      }
    } finally {
      await chrome.kill();
    }
  }
}
console.log(`lowest ${lowest}`);
