import type { Page } from '@playwright/test';
import { test, expect, header, hydrated } from './fixtures';

/// Records every Content-Security-Policy violation of the page (the console guard sees them too,
/// as errors; this names the directive).
async function recordViolations(page: Page) {
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (event) => {
      seen.push(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
}

async function violations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);
}

function nonceOf(policy: string): string {
  const nonce = /'nonce-([^']+)'/.exec(policy)?.[1];
  expect(nonce, `a nonce in ${policy}`).toBeTruthy();
  return nonce!;
}

test('pages carry the security headers and hydrate under the Content-Security-Policy', async ({ page }) => {
  await recordViolations(page);
  const response = await page.goto('/');
  const headers = response!.headers();
  const policy = headers['content-security-policy'];
  expect(policy, 'a Content-Security-Policy').toBeTruthy();
  for (const directive of [
    "default-src 'self'",
    "'wasm-unsafe-eval'",
    'https://js.stripe.com',
    "connect-src 'self' https://api.stripe.com",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ]) {
    expect(policy).toContain(directive);
  }
  expect(policy).not.toContain('unsafe-inline');
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['strict-transport-security'], 'no HSTS outside production').toBeUndefined();

  // Every inline script (Leptos' hydration bootstrap, its resource data) carries this answer's nonce.
  const nonce = nonceOf(policy);
  const inline = await page.locator('script:not([src])').evaluateAll((scripts) => scripts.map((s) => (s as HTMLScriptElement).nonce));
  expect(inline.length).toBeGreaterThan(0);
  expect(inline.every((n) => n === nonce), `inline script nonces ${inline} vs ${nonce}`).toBe(true);

  // And the app hydrates with the policy on: nothing was blocked.
  await hydrated(page);
  expect(await violations(page)).toEqual([]);

  // Each answer has a nonce of its own.
  const again = await page.request.get('/');
  expect(nonceOf(again.headers()['content-security-policy'])).not.toBe(nonce);
});

test('the 404 page and lazily loaded pages hydrate under the policy too', async ({ page }) => {
  await recordViolations(page);
  const missing = await page.goto('/no/such/page');
  expect(missing?.status()).toBe(404);
  expect(missing!.headers()['content-security-policy']).toContain("'nonce-");
  await hydrated(page);
  expect(await violations(page)).toEqual([]);

  // A lazy route's chunk (its own wasm, fetched after hydration) loads as well.
  await page.goto('/auth/signin');
  await hydrated(page);
  await header(page).getByRole('link', { name: 'Sign Up' }).click();
  await expect(page).toHaveURL(/\/auth\/signup$/);
  await expect(page.getByRole('button', { name: 'Sign Up' })).toBeVisible();
  expect(await violations(page)).toEqual([]);
});

test('the API answers are not sniffed', async ({ request }) => {
  const tickets = await request.get('/api/tickets');
  expect(tickets.headers()['x-content-type-options']).toBe('nosniff');
  const missing = await request.get('/api/nothing');
  expect(missing.headers()['x-content-type-options']).toBe('nosniff');
});
