import { test, expect, hydrated } from './fixtures';

// The app's code waits for the first paint (app/src/shell.rs): the page is server-rendered and
// usable without it, and on a slow link it would share the wire with what the paint needs.

test('the app’s code is fetched after the page is first painted, then hydrates it', async ({ page }) => {
  await page.goto('/');
  await hydrated(page);
  const { paint, code } = await page.evaluate(() => ({
    paint: performance.getEntriesByName('first-paint')[0]?.startTime,
    code: performance.getEntriesByType('resource').filter((r) => r.name.endsWith('.wasm')).map((r) => r.startTime),
  }));
  expect(paint, 'a first paint').toBeGreaterThan(0);
  expect(code.length, 'the app’s modules were fetched').toBeGreaterThan(0);
  for (const start of code) expect(start, 'no module fetched before the first paint').toBeGreaterThanOrEqual(paint!);
});

test('a page opened in a tab that is not shown hydrates all the same', async ({ page }) => {
  // Such a tab runs no frame callbacks: the code must not wait for one.
  await page.addInitScript(() => {
    Object.defineProperty(document, 'visibilityState', { get: () => 'hidden' });
    window.requestAnimationFrame = () => 0;
  });
  await page.goto('/');
  await hydrated(page);
});

test('a tab hidden before its first frame’s callback hydrates all the same', async ({ page }) => {
  await page.addInitScript(() => {
    window.requestAnimationFrame = () => 0;
  });
  await page.goto('/');
  await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
  await hydrated(page);
});
