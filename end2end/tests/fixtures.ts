import { test as base, expect, type Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';

/// Every test fails on a console error or a hydration warning. Two failed loads are expected and
/// are checked through the page instead: a server function that answers an error status (a
/// refused sign-in), and the document itself when a test visits a missing page.
export const test = base.extend<{ consoleProblems: string[] }>({
  consoleProblems: [
    async ({ page }, use) => {
      const problems: string[] = [];
      page.on('console', (message) => {
        const text = message.text();
        const url = message.location().url;
        const expectedFailure = text.startsWith('Failed to load resource') && (url.includes('/_fn/') || url === page.url());
        if ((message.type() === 'error' && !expectedFailure) || /hydrat/i.test(text) && message.type() === 'warning') {
          problems.push(`${message.type()}: ${text}`);
        }
      });
      page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
      await use(problems);
      expect(problems, 'console errors or hydration warnings').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

export function uniqueEmail(prefix: string): string {
  return `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

export const PASSWORD = 'correct horse battery';

/// Keeps a full-page screenshot of each page under screenshots/ (a test artifact).
export async function snapshot(page: Page, name: string) {
  const dir = path.join(__dirname, '..', 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

/// Waits until the app has hydrated, so clicks are handled by Leptos, not by a plain form post.
export async function hydrated(page: Page) {
  await page.locator('body[data-hydrated="true"]').waitFor({ state: 'attached' });
}
