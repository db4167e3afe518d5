import { test, expect, snapshot, hydrated, signUp, sell } from './fixtures';
import { SHORT_WINDOW_URL, SHORT_WINDOW_SECONDS } from '../playwright.config';

// A second server of its own (fresh data, its own NATS) whose orders expire after a few seconds.
test.use({ baseURL: SHORT_WINDOW_URL });

test('a fresh marketplace shows its empty state', async ({ page }) => {
  await page.goto('/');
  await hydrated(page);
  await expect(page.getByTestId('empty-state')).toHaveText(/No tickets for sale right now/);
  await snapshot(page, 'landing-empty');
});

test('an unpaid order counts down to "This order expired" and the ticket is on sale again', async ({ page, newUserPage }) => {
  const title = `Short hold ${Date.now()}`;
  await signUp(page, 'seller');
  const ticketPath = await sell(page, title, '8');
  const buyer = await newUserPage();
  await signUp(buyer, 'buyer');
  await buyer.goto(ticketPath);
  await hydrated(buyer);
  await buyer.getByRole('button', { name: 'Purchase' }).click();
  await expect(buyer.getByTestId('countdown')).toContainText('Time left to pay');
  // The countdown says it ran out; the order's cancellation, a moment later, reaches the open page
  // by itself (live.spec.ts) and then says the ticket went back on sale.
  await expect(buyer.getByText(/^This order expired at \d\d:\d\d UTC(\.|; the ticket went back on sale\.)$/)).toBeVisible({
    timeout: (SHORT_WINDOW_SECONDS + 3) * 1000,
  });
  await expect(buyer.getByTestId('order-status')).toHaveText('Expired');
  await expect(buyer.getByRole('button', { name: /^Pay/ })).toHaveCount(0);
  await snapshot(buyer, 'order-expired');

  await expect
    .poll(
      async () => {
        await page.goto('/');
        return page.getByRole('link', { name: `View ${title}` }).count();
      },
      { timeout: 5_000 },
    )
    .toBe(1);
});
