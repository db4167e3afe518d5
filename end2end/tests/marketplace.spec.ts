import { test, expect, snapshot, hydrated, header, signUp, sell, PASSWORD, unique, purchase } from './fixtures';
import type { Page } from '@playwright/test';

/// The countdown (`Time left to pay: 14:58`) in seconds.
async function secondsLeft(page: Page): Promise<number> {
  const text = (await page.getByTestId('countdown').textContent()) ?? '';
  const match = text.match(/^Time left to pay: (\d+):([0-5]\d)$/);
  expect(match, text).not.toBeNull();
  return Number(match![1]) * 60 + Number(match![2]);
}

test('a seller lists a ticket, a buyer buys and pays, the ticket is sold', async ({ page, newUserPage }) => {
  const title = `Concert ${unique()}`;
  await signUp(page, 'seller');
  await page.goto('/tickets/new');
  await hydrated(page);
  await snapshot(page, 'sell');
  await page.getByLabel('Title').fill(title);
  await page.getByLabel('Price (USD)').fill('25');
  await page.getByRole('button', { name: 'List ticket' }).click();
  await expect(page.getByRole('heading', { name: title })).toBeVisible();
  await expect(page.getByTestId('seller-marker')).toBeVisible();
  const ticketPath = new URL(page.url()).pathname;
  await snapshot(page, 'ticket-own');

  const buyer = await newUserPage();
  await signUp(buyer, 'buyer');
  await buyer.goto('/');
  await hydrated(buyer);
  await snapshot(buyer, 'landing-with-tickets');
  // From here on every step is a click: the marker survives only if no page reloads fully.
  await buyer.evaluate(() => ((window as unknown as { stillHere?: boolean }).stillHere = true));
  await buyer.getByRole('link', { name: `View ${title}` }).click();
  await expect(buyer).toHaveURL(new RegExp(`${ticketPath}$`));
  await expect(buyer.getByTestId('seller-marker')).toHaveCount(0);
  await expect(buyer.getByRole('link', { name: 'Edit' })).toHaveCount(0);
  await snapshot(buyer, 'ticket');
  await buyer.getByRole('button', { name: 'Purchase' }).click();
  await expect(buyer).toHaveURL(/\/orders\/[0-9a-f]+$/);
  const orderPath = new URL(buyer.url()).pathname;

  // The countdown runs in the browser, second by second.
  const first = await secondsLeft(buyer);
  await expect.poll(() => secondsLeft(buyer), { timeout: 5_000 }).toBeLessThan(first);
  await expect(buyer.getByTestId('test-mode')).toBeVisible();
  await snapshot(buyer, 'order-open');
  await buyer.getByRole('button', { name: 'Pay $25.00' }).click();
  await expect(buyer.getByTestId('order-status')).toHaveText('Paid');
  await expect(buyer).toHaveURL(new RegExp(`${orderPath}$`));
  await snapshot(buyer, 'order-paid');

  await header(buyer).getByRole('link', { name: 'My orders' }).click();
  await expect(buyer).toHaveURL(/\/orders$/);
  const row = buyer.getByRole('listitem').filter({ hasText: title });
  await expect(row.getByTestId('order-status')).toHaveText('Paid');
  expect(await buyer.evaluate(() => (window as unknown as { stillHere?: boolean }).stillHere), 'no full page reload').toBe(true);
  await snapshot(buyer, 'orders');

  await page.goto('/');
  await hydrated(page);
  await expect(page.getByRole('link', { name: `View ${title}` })).toHaveCount(0);
  await page.goto(ticketPath);
  await expect(page.getByTestId('ticket-state')).toHaveText(/^Sold on \d{4}-\d{2}-\d{2}$/);
  await expect(page.getByRole('link', { name: 'Edit' })).toHaveCount(0);
  await page.goto(`${ticketPath}/edit`);
  await hydrated(page);
  await expect(page.getByText(/^You sold this ticket on \d{4}-\d{2}-\d{2}, so it cannot be edited\.$/)).toBeVisible();
  await snapshot(page, 'edit-reserved');
});

test('a declined card shows the error and the order stays payable', async ({ page, newUserPage }) => {
  const title = `Declined ${unique()}`;
  await signUp(page, 'seller');
  const ticketPath = await sell(page, title, '12.5');
  const buyer = await newUserPage();
  await signUp(buyer, 'buyer');
  await purchase(buyer, ticketPath);
  await buyer.getByLabel('Visa ending 0002 (declined)').check();
  await buyer.getByRole('button', { name: 'Pay $12.50' }).click();
  await expect(buyer.getByRole('alert')).toHaveText('Your card was declined.');
  await expect(buyer.getByTestId('order-status')).toHaveText('Awaiting payment');
  await snapshot(buyer, 'order-declined');
  await buyer.getByLabel('Visa ending 4242 (succeeds)').check();
  await buyer.getByRole('button', { name: 'Pay $12.50' }).click();
  await expect(buyer.getByTestId('order-status')).toHaveText('Paid');
});

test('a card that needs 3-D Secure says in test mode that nothing was charged, and another card pays', async ({ page, newUserPage }) => {
  const title = `Three D ${unique()}`;
  await signUp(page, 'seller');
  const ticketPath = await sell(page, title, '9');
  const buyer = await newUserPage();
  await signUp(buyer, 'buyer');
  await purchase(buyer, ticketPath);
  await buyer.getByLabel('Visa ending 3220 (needs 3-D Secure)').check();
  await buyer.getByRole('button', { name: 'Pay $9.00' }).click();
  await expect(buyer.getByRole('alert')).toContainText('needs 3-D Secure authentication');
  await expect(buyer.getByRole('alert')).toContainText('Nothing was charged');
  await expect(buyer.getByTestId('order-status')).toHaveText('Awaiting payment');
  await buyer.getByLabel('Visa ending 4242 (succeeds)').check();
  await buyer.getByRole('button', { name: 'Pay $9.00' }).click();
  await expect(buyer.getByTestId('order-status')).toHaveText('Paid');
});

test('a buyer cancels an order and the ticket is on sale again', async ({ page, newUserPage }) => {
  const title = `Changed my mind ${unique()}`;
  await signUp(page, 'seller');
  const ticketPath = await sell(page, title, '30');
  const buyer = await newUserPage();
  await signUp(buyer, 'buyer');
  await purchase(buyer, ticketPath);
  await buyer.getByRole('button', { name: 'Cancel order' }).click();
  await expect(buyer.getByTestId('order-status')).toHaveText('Cancelled');
  await expect(buyer.getByText('You cancelled this order; the ticket went back on sale.')).toBeVisible();
  await expect(buyer.getByRole('button', { name: /^Pay/ })).toHaveCount(0);
  await snapshot(buyer, 'order-cancelled');
  await expect
    .poll(async () => {
      await page.goto('/');
      return page.getByRole('link', { name: `View ${title}` }).count();
    })
    .toBe(1);
});

test('the owner edits and deletes a ticket; a stranger sees neither Edit nor Delete', async ({ page, newUserPage }) => {
  const title = `Editable ${unique()}`;
  await signUp(page, 'owner');
  const ticketPath = await sell(page, title, '40');

  const stranger = await newUserPage();
  await signUp(stranger, 'stranger');
  await stranger.goto(ticketPath);
  await hydrated(stranger);
  await expect(stranger.getByRole('button', { name: 'Purchase' })).toBeVisible();
  await expect(stranger.getByRole('link', { name: 'Edit' })).toHaveCount(0);
  await expect(stranger.getByRole('button', { name: 'Delete' })).toHaveCount(0);

  await page.getByRole('link', { name: 'Edit' }).click();
  await expect(page).toHaveURL(new RegExp(`${ticketPath}/edit$`));
  await hydrated(page);
  await snapshot(page, 'edit');
  await page.getByLabel('Title').fill('');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('alert')).toHaveText('Title is required');
  await page.getByLabel('Title').fill(`${title} (moved)`);
  await page.getByLabel('Price (USD)').fill('45');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page).toHaveURL(new RegExp(`${ticketPath}$`));
  await expect(page.getByRole('heading', { name: `${title} (moved)` })).toBeVisible();
  await expect(page.getByText('$45.00')).toBeVisible();

  // Delete asks first (care.spec.ts checks the question), then says it happened.
  await page.getByText('Delete…').click();
  await page.getByRole('button', { name: 'Delete' }).click();
  await expect(page).toHaveURL(/\/\?deleted=/);
  await expect(page.getByRole('link', { name: `View ${title} (moved)` })).toHaveCount(0);
  const gone = await page.goto(ticketPath);
  expect(gone?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'This ticket is gone' })).toBeVisible();
});

test('a signed-out visitor is sent to sign in and comes back', async ({ page }) => {
  const email = await signUp(page, 'returning');
  await header(page).getByRole('link', { name: 'Sign Out' }).click();
  await page.getByRole('main').getByRole('button', { name: 'Sign Out', exact: true }).click();
  await expect(header(page).getByRole('link', { name: 'Sign In' })).toBeVisible();
  await page.goto('/orders');
  await expect(page).toHaveURL(/\/auth\/signin\?next=%2Forders$|\/auth\/signin\?next=\/orders$/);
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign In' }).click();
  await expect(page).toHaveURL(/\/orders$/);
  await expect(page.getByRole('heading', { name: 'My Orders' })).toBeVisible();
});

test('a title with markup is shown as text', async ({ page }) => {
  const title = `<script>window.pwned=1</script><b>bold</b> ${unique()}`;
  await signUp(page, 'markup');
  await sell(page, title, '5');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(title);
  expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
  await page.goto('/');
  await expect(page.getByText(title)).toBeVisible();
});

test('without JavaScript: sign up, sell, buy and pay in test mode', async ({ newUserPage }) => {
  const seller = await newUserPage({ javaScriptEnabled: false });
  const title = `No script ${unique()}`;
  await signUp(seller, 'nojs-seller', false);
  const ticketPath = await sell(seller, title, '9.99', false);

  const buyer = await newUserPage({ javaScriptEnabled: false });
  await signUp(buyer, 'nojs-buyer', false);
  await buyer.goto('/');
  await buyer.getByRole('link', { name: `View ${title}` }).click();
  await expect(buyer).toHaveURL(new RegExp(`${ticketPath}$`));
  await purchase(buyer, ticketPath, false);
  await expect(buyer.getByTestId('countdown')).toHaveText(/^Time left to pay: 1[45]:[0-5]\d$/);
  await buyer.getByLabel('Visa ending 0002 (declined)').check();
  await buyer.getByRole('button', { name: 'Pay $9.99' }).click();
  await expect(buyer.getByRole('alert')).toHaveText('Your card was declined.');
  await buyer.getByLabel('Visa ending 4242 (succeeds)').check();
  await buyer.getByRole('button', { name: 'Pay $9.99' }).click();
  await expect(buyer.getByTestId('order-status')).toHaveText('Paid');

  // Cancelling works without JavaScript too.
  const other = `No script, cancelled ${unique()}`;
  const otherPath = await sell(seller, other, '4', false);
  await purchase(buyer, otherPath, false);
  await buyer.getByRole('button', { name: 'Cancel order' }).click();
  await expect(buyer.getByTestId('order-status')).toHaveText('Cancelled');
  await expect(buyer.getByText('You cancelled this order; the ticket went back on sale.')).toBeVisible();
});

test('"Load more" shows older tickets', async ({ page }) => {
  await signUp(page, 'bulk');
  const batch = unique();
  for (let i = 0; i < 21; i++) {
    const response = await page.request.post('/api/tickets', { data: { title: `Bulk ${batch} #${i}`, price: 3 } });
    expect(response.status()).toBe(201);
  }
  await page.goto('/');
  await hydrated(page);
  const list = page.getByRole('list', { name: 'Tickets for sale' });
  await expect(list.getByRole('listitem')).toHaveCount(20);
  // Newest first: the first one listed is on the first page, the oldest only after "Load more".
  await expect(page.getByRole('link', { name: `View Bulk ${batch} #20` })).toBeVisible();
  await expect(page.getByRole('link', { name: `View Bulk ${batch} #0` })).toHaveCount(0);
  await page.getByRole('link', { name: 'Load more' }).click();
  await expect(page).toHaveURL(/\?show=40#t-20$/);
  await expect(page.getByRole('link', { name: `View Bulk ${batch} #0` })).toBeVisible();
});
