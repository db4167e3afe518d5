import { test, expect, hydrated } from './fixtures';

// The app's code waits for the first paint (app/src/shell.rs): the page is server-rendered and
// usable without it, and on a slow link it would share the wire with what the paint needs.

test('the app’s code is fetched after the page’s first frame is rendered, then hydrates it', async ({ page }) => {
  // The first frame's callbacks run just before it is rendered; this one is registered before
  // any of the page's own. (The paint timing entry is not the mark: it is when the frame was
  // presented, which on a loaded machine can come after the next task has started.)
  await page.addInitScript(() => {
    requestAnimationFrame(() => ((window as unknown as { firstFrame: number }).firstFrame = performance.now()));
  });
  await page.goto('/');
  await hydrated(page);
  const { frame, code } = await page.evaluate(() => ({
    frame: (window as unknown as { firstFrame?: number }).firstFrame,
    code: performance.getEntriesByType('resource').filter((r) => r.name.endsWith('.wasm')).map((r) => r.startTime),
  }));
  expect(frame, 'a first frame').toBeGreaterThan(0);
  expect(code.length, 'the app’s modules were fetched').toBeGreaterThan(0);
  for (const start of code) expect(start, 'no module fetched before the first frame').toBeGreaterThanOrEqual(frame!);
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
