import type { Page } from '@playwright/test';
import { test, expect, hydrated, signUp, sell, snapshot, unique, purchase } from './fixtures';

// The web client as people use it: Delete asks first and says it happened, "Load more" keeps the
// reader's place, focus follows what an action did, a declined card stays chosen, tap targets
// are big enough, and the sign-in page says why a page sent the visitor there. With and without
// JavaScript where it applies.


/// Every visible link, button, disclosure and radio row in the page's main part is at least
/// 24 × 24 px, at a phone's width and a desktop's.
async function expectTapTargets(page: Page) {
  const before = page.viewportSize();
  for (const width of [375, 1280]) {
    await page.setViewportSize({ width, height: 800 });
    const targets = page.getByRole('main').locator('a, button, summary, label:has(input[type="radio"])');
    const count = await targets.count();
    expect(count).toBeGreaterThan(0);
    for (let i = 0; i < count; i++) {
      const target = targets.nth(i);
      if (!(await target.isVisible())) continue;
      const box = await target.boundingBox();
      const name = `"${(await target.textContent())?.trim()}" at ${width} px`;
      expect(box, name).not.toBeNull();
      expect(box!.height, `${name}: height`).toBeGreaterThanOrEqual(24);
      expect(box!.width, `${name}: width`).toBeGreaterThanOrEqual(24);
    }
  }
  if (before) await page.setViewportSize(before);
}

test('Delete asks first, can be kept, and says it happened; the edit page has a way back', async ({ page }) => {
  const title = `Delete me & “you” ${unique()}`;
  await signUp(page, 'deleter');
  const ticketPath = await sell(page, title, '12');
  await hydrated(page);

  // The edit page leads back to the ticket, and that link is not marked as the current page.
  await page.getByRole('link', { name: 'Edit' }).click();
  await expect(page).toHaveURL(new RegExp(`${ticketPath}/edit$`));
  const back = page.getByRole('link', { name: 'Back to the ticket' });
  await expect(back).not.toHaveAttribute('aria-current');
  await back.click();
  await expect(page).toHaveURL(new RegExp(`${ticketPath}$`));

  // Nothing is deleted by one click: the question comes first.
  const question = page.getByText('Delete this ticket? This cannot be undone.');
  await expect(question).toBeHidden();
  await expect(page.getByRole('button', { name: 'Delete', exact: true })).toBeHidden();
  await page.getByText('Delete…').click();
  await expect(question).toBeVisible();
  await snapshot(page, 'ticket-delete-question');
  await page.getByRole('link', { name: 'Keep it' }).click();
  await expect(question).toBeHidden();
  await expect(page).toHaveURL(new RegExp(`${ticketPath}$`));
  await expect(page.locator('summary')).toBeFocused();

  await page.getByText('Delete…').click();
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(page).toHaveURL(/\/\?deleted=/);
  const said = page.getByRole('status').filter({ hasText: 'Deleted' });
  await expect(said).toHaveText(`Deleted “${title}”.`);
  await expect(said).toBeFocused();
  await snapshot(page, 'landing-deleted');
  await expect(page.getByRole('link', { name: `View ${title}` })).toHaveCount(0);
  expect((await page.goto(ticketPath))?.status()).toBe(404);
});

test('without JavaScript: Delete asks first, can be kept, and says it happened', async ({ newUserPage }) => {
  const plain = await newUserPage({ javaScriptEnabled: false });
  const title = `Delete me, no script ${unique()}`;
  await signUp(plain, 'nojs-deleter', false);
  const ticketPath = await sell(plain, title, '12', false);

  const question = plain.getByText('Delete this ticket? This cannot be undone.');
  await expect(question).toBeHidden();
  await plain.getByText('Delete…').click();
  await expect(question).toBeVisible();
  await plain.getByRole('link', { name: 'Keep it' }).click();
  await expect(plain).toHaveURL(new RegExp(`${ticketPath}$`));
  await expect(question).toBeHidden();
  await expect(plain.getByRole('heading', { name: title })).toBeVisible();

  await plain.getByText('Delete…').click();
  await plain.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(plain).toHaveURL(/\/\?deleted=/);
  await expect(plain.getByRole('status').filter({ hasText: 'Deleted' })).toHaveText(`Deleted “${title}”.`);
  expect((await plain.goto(ticketPath))?.status()).toBe(404);
});

test('"Load more" keeps the reader’s place and is not marked as the current page, with and without JavaScript', async ({ page, newUserPage }) => {
  await signUp(page, 'reader');
  const batch = unique();
  for (let i = 0; i < 21; i++) {
    const response = await page.request.post('/api/tickets', { data: { title: `Place ${batch} #${i}`, price: 2 } });
    expect(response.status()).toBe(201);
  }

  await page.goto('/');
  await hydrated(page);
  const more = page.getByRole('link', { name: 'Load more' });
  await expect(more).not.toHaveAttribute('aria-current');
  await more.scrollIntoViewIfNeeded();
  expect(await page.evaluate(() => window.scrollY)).toBeGreaterThan(0);
  await more.click();
  // Newest first: the oldest of the batch is the first ticket the click shows.
  await expect(page.getByRole('link', { name: `View Place ${batch} #0` })).toBeVisible();
  await expect(page).toHaveURL(/\?show=40#t-20$/);
  // Focus is on the first new ticket, and the page did not jump back to the top.
  await expect.poll(() => page.evaluate(() => document.activeElement?.closest('li')?.id)).toBe('t-20');
  expect(await page.evaluate(() => window.scrollY)).toBeGreaterThan(0);
  await expect(page.locator('#t-20')).toBeInViewport();

  // Without JavaScript the link leads to the first new ticket.
  const plain = await newUserPage({ javaScriptEnabled: false });
  await plain.goto('/');
  const plainMore = plain.getByRole('link', { name: 'Load more' });
  await expect(plainMore).not.toHaveAttribute('aria-current');
  await plainMore.click();
  await expect(plain).toHaveURL(/\?show=40#t-20$/);
  await expect(plain.locator('#t-20')).toBeInViewport();
  await expect(plain.getByRole('heading', { name: 'Tickets for sale' })).not.toBeInViewport();
});

test('a failed submit puts focus on the first field with an error, with and without JavaScript', async ({ page, newUserPage }) => {
  await signUp(page, 'focus');
  await page.goto('/tickets/new');
  await hydrated(page);
  await page.getByRole('button', { name: 'List ticket' }).click();
  const title = page.getByLabel('Title');
  const price = page.getByLabel('Price (USD)');
  await expect(page.locator('#field-title-error')).toHaveText('Title is required');
  await expect(title).toBeFocused();
  await expect(title).toHaveAttribute('aria-invalid', 'true');
  await expect(title).toHaveAttribute('aria-describedby', 'field-title-error');
  await title.fill(`Focus ${unique()}`);
  await page.getByRole('button', { name: 'List ticket' }).click();
  await expect(page.locator('#field-price-error')).toHaveText('Price is required');
  await expect(price).toBeFocused();
  await expect(price).toHaveAttribute('aria-invalid', 'true');
  await expect(price).toHaveAttribute('aria-describedby', 'field-price-error');
  await expect(title).toHaveAttribute('aria-invalid', 'false');

  const plain = await newUserPage({ javaScriptEnabled: false });
  await signUp(plain, 'nojs-focus', false);
  await plain.goto('/tickets/new');
  await plain.getByRole('button', { name: 'List ticket' }).click();
  await expect(plain.locator('#field-title-error')).toHaveText('Title is required');
  await expect(plain.getByLabel('Title')).toBeFocused();
  await expect(plain.getByLabel('Title')).toHaveAttribute('aria-describedby', 'field-title-error');
  await plain.getByLabel('Title').fill(`Focus, no script ${unique()}`);
  await plain.getByRole('button', { name: 'List ticket' }).click();
  await expect(plain.locator('#field-price-error')).toHaveText('Price is required');
  await expect(plain.getByLabel('Price (USD)')).toBeFocused();
  await expect(plain.getByLabel('Price (USD)')).toHaveAttribute('aria-invalid', 'true');
});

test('after Purchase, a decline, Pay and Cancel order focus goes to what changed; a declined card stays chosen; "Paid" is announced', async ({ page, newUserPage }) => {
  test.slow(); // two purchases, a decline, a payment and a cancellation
  await signUp(page, 'seller');
  const paidPath = await sell(page, `Focus pay ${unique()}`, '14');
  const cancelledPath = await sell(page, `Focus cancel ${unique()}`, '15');

  const buyer = await newUserPage();
  await signUp(buyer, 'buyer');
  await purchase(buyer, paidPath);
  await expect(buyer.getByRole('heading', { name: 'Your order' })).toBeFocused();

  const declined = buyer.getByLabel('Visa ending 0002 (declined)');
  await declined.check();
  await buyer.getByRole('button', { name: 'Pay $14.00' }).click();
  const alert = buyer.getByRole('alert');
  await expect(alert).toHaveText('Your card was declined.');
  await expect(alert).toBeFocused();
  await expect(declined).toBeChecked();
  await expect(buyer.getByTestId('order-status')).toHaveText('Awaiting payment');

  await buyer.getByLabel('Visa ending 4242 (succeeds)').check();
  await buyer.getByRole('button', { name: 'Pay $14.00' }).click();
  const status = buyer.getByRole('status');
  await expect(status).toHaveText('Paid. The ticket is yours.');
  await expect(status).toBeFocused();
  await expect(buyer.getByTestId('order-status')).toHaveText('Paid');

  await purchase(buyer, cancelledPath);
  await buyer.getByRole('button', { name: 'Cancel order' }).click();
  const cancelled = buyer.getByRole('status');
  await expect(cancelled).toHaveText('You cancelled this order; the ticket went back on sale.');
  await expect(cancelled).toBeFocused();
});

test('without JavaScript: a declined card stays chosen, and "Paid" is a status', async ({ newUserPage }) => {
  const seller = await newUserPage({ javaScriptEnabled: false });
  await signUp(seller, 'nojs-seller', false);
  const ticketPath = await sell(seller, `Card kept ${unique()}`, '16', false);

  const buyer = await newUserPage({ javaScriptEnabled: false });
  await signUp(buyer, 'nojs-buyer', false);
  await purchase(buyer, ticketPath, false);
  await expect(buyer.getByLabel('Visa ending 4242 (succeeds)')).toBeChecked();

  await buyer.getByLabel('Visa ending 0002 (declined)').check();
  await buyer.getByRole('button', { name: 'Pay $16.00' }).click();
  await expect(buyer.getByRole('alert')).toHaveText('Your card was declined.');
  await expect(buyer.getByLabel('Visa ending 0002 (declined)')).toBeChecked();
  await expect(buyer.getByLabel('Visa ending 4242 (succeeds)')).not.toBeChecked();

  await buyer.getByLabel('Visa ending 3220 (needs 3-D Secure)').check();
  await buyer.getByRole('button', { name: 'Pay $16.00' }).click();
  await expect(buyer.getByRole('alert')).toContainText('needs 3-D Secure authentication');
  await expect(buyer.getByLabel('Visa ending 3220 (needs 3-D Secure)')).toBeChecked();

  await buyer.getByLabel('Visa ending 4242 (succeeds)').check();
  await buyer.getByRole('button', { name: 'Pay $16.00' }).click();
  await expect(buyer.getByRole('status')).toHaveText('Paid. The ticket is yours.');
  await expect(buyer.getByTestId('order-status')).toHaveText('Paid');
});

test('tap targets on the order page and the seller’s ticket page are at least 24 px, at 375 px and 1280 px', async ({ page, newUserPage }) => {
  await signUp(page, 'seller');
  const ticketPath = await sell(page, `Tap ${unique()}`, '17');
  const ownPath = await sell(page, `Tap, own ${unique()}`, '18');

  const buyer = await newUserPage();
  await signUp(buyer, 'buyer');
  await purchase(buyer, ticketPath);
  const cancel = buyer.getByRole('button', { name: 'Cancel order' });
  expect((await cancel.boundingBox())!.height).toBeGreaterThanOrEqual(24);
  await expectTapTargets(buyer);

  await page.goto(ownPath);
  await hydrated(page);
  await page.getByText('Delete…').click();
  await expect(page.getByRole('button', { name: 'Delete', exact: true })).toBeVisible();
  await expectTapTargets(page);
});

test('the sign-in page a page sent the visitor to says why, with and without JavaScript', async ({ page, newUserPage }) => {
  await page.goto('/auth/signin');
  await hydrated(page);
  await expect(page.getByRole('status')).toHaveCount(0);

  await page.goto('/orders');
  await expect(page).toHaveURL(/\/auth\/signin\?next=/);
  await expect(page.getByRole('status')).toHaveText('Please sign in to see your orders.');
  await snapshot(page, 'signin-why');

  await page.goto('/tickets/new');
  await expect(page).toHaveURL(/\/auth\/signin\?next=/);
  await expect(page.getByRole('status')).toHaveText('Please sign in to sell a ticket.');

  const plain = await newUserPage({ javaScriptEnabled: false });
  await plain.goto('/orders');
  await expect(plain).toHaveURL(/\/auth\/signin\?next=/);
  await expect(plain.getByRole('status')).toHaveText('Please sign in to see your orders.');
  await plain.goto('/auth/signin?next=/somewhere/else');
  await expect(plain.getByRole('status')).toHaveText('Please sign in to continue.');
});
