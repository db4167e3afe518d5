import { test as base, expect, type Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';

/// Every test fails on a console error, a hydration warning, or any answer of 500 or more. Two
/// failed loads are expected and are checked through the page instead: a server function that
/// answers a 4xx (a refused sign-in), and the document itself when a test visits a missing page.
/// A server function's 5xx is a server error whatever the page shows, so it always fails.
function listen(page: Page, problems: string[]) {
  page.on('response', (response) => {
    if (response.status() >= 500) problems.push(`${response.status()} from ${response.request().method()} ${response.url()}`);
  });
  page.on('console', (message) => {
    const text = message.text();
    const url = message.location().url;
    const expectedFailure = text.startsWith('Failed to load resource') && (url.includes('/_fn/') || url === page.url());
    if ((message.type() === 'error' && !expectedFailure) || (/hydrat/i.test(text) && message.type() === 'warning')) {
      problems.push(`${message.type()}: ${text}`);
    }
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
}

export const test = base.extend<{ consoleProblems: string[]; newUserPage: (options?: { javaScriptEnabled?: boolean; locale?: string }) => Promise<Page> }>({
  consoleProblems: [
    async ({ page }, use) => {
      const problems: string[] = [];
      listen(page, problems);
      await use(problems);
      expect(problems, 'console errors or hydration warnings').toEqual([]);
    },
    { auto: true },
  ],
  /// A page in a browser context of its own (a second user), watched like `page`.
  newUserPage: async ({ browser, consoleProblems, baseURL }, use) => {
    const contexts: import('@playwright/test').BrowserContext[] = [];
    await use(async (options = {}) => {
      const context = await browser.newContext({ baseURL, javaScriptEnabled: options.javaScriptEnabled ?? true, locale: options.locale });
      contexts.push(context);
      const page = await context.newPage();
      listen(page, consoleProblems);
      return page;
    });
    for (const context of contexts) await context.close();
  },
});

export { expect };

export function uniqueEmail(prefix: string): string {
  return `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

export const PASSWORD = 'correct horse battery';

/// Keeps full-page screenshots of the page at a phone's and a desktop's width under
/// screenshots/ (a test artifact), then restores the viewport.
export async function snapshot(page: Page, name: string) {
  const dir = path.join(__dirname, '..', 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  const before = page.viewportSize();
  for (const width of [375, 1280]) {
    await page.setViewportSize({ width, height: 800 });
    await page.screenshot({ path: path.join(dir, `${name}-${width}.png`), fullPage: true });
  }
  if (before) await page.setViewportSize(before);
}

export const header = (page: Page) => page.getByRole('navigation', { name: 'Main' });

/// Signs a new user up through the form and waits for the signed-in header.
export async function signUp(page: Page, prefix: string, js = true): Promise<string> {
  const email = uniqueEmail(prefix);
  await page.goto('/auth/signup');
  if (js) await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign Up' }).click();
  await expect(header(page).getByRole('link', { name: 'Sign Out' })).toBeVisible();
  return email;
}

/// Lists a ticket through the sell form; returns its page's path.
export async function sell(page: Page, title: string, price: string, js = true): Promise<string> {
  await page.goto('/tickets/new');
  if (js) await hydrated(page);
  await page.getByLabel('Title').fill(title);
  await page.getByLabel('Price (USD)').fill(price);
  await page.getByRole('button', { name: 'List ticket' }).click();
  await expect(page).toHaveURL(/\/tickets\/[0-9a-f]+$/);
  await expect(page.getByRole('heading', { name: title })).toBeVisible();
  return new URL(page.url()).pathname;
}

/// Waits until the app has hydrated, so clicks are handled by Leptos, not by a plain form post.
export async function hydrated(page: Page) {
  await page.locator('body[data-hydrated="true"]').waitFor({ state: 'attached' });
}

/// A suffix that keeps titles apart across tests and runs (the servers keep their data per run).
export const unique = () => `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;

/// Reserves the ticket at `ticketPath` (with a plain form post when `js` is false); returns the
/// order's page's path.
export async function purchase(page: Page, ticketPath: string, js = true): Promise<string> {
  await page.goto(ticketPath);
  if (js) await hydrated(page);
  await page.getByRole('button', { name: 'Purchase' }).click();
  await expect(page).toHaveURL(/\/orders\/[0-9a-f]+$/);
  await expect(page.getByTestId('order-status')).toHaveText('Awaiting payment');
  return new URL(page.url()).pathname;
}
