import type { Page } from '@playwright/test';
import { test, expect, hydrated, signUp, sell, unique, purchase } from './fixtures';
import { SHORT_WINDOW_URL, SHORT_WINDOW_SECONDS } from '../playwright.config';

// Live updates: what one browser does shows in another's open page within moments, with no
// reload and no navigation (the web server's /live streams, server/src/live.rs). Each watched
// page is marked once its stream is open; a reload would lose the mark.

/// How long a change may take to show here: the issue asks for a second, the rest is slack for a
/// loaded machine running the debug server.
const SOON = 3_000;

/// Opens `path`, waits for the app and for its live stream (a URL containing `stream`) to be
/// open, then marks the document.
async function watch(page: Page, path: string, stream = '/live/tickets') {
  const opened = page.waitForResponse((response) => response.url().includes(stream) && response.status() === 200);
  await page.goto(path);
  await hydrated(page);
  await opened;
  await page.evaluate(() => {
    (window as unknown as { liveMark?: string }).liveMark = 'this document';
  });
}

/// The page is still the document `watch` opened at `path`: nothing reloaded it or went elsewhere.
async function sameDocument(page: Page, path: string) {
  expect(new URL(page.url()).pathname).toBe(path);
  expect(await page.evaluate(() => (window as unknown as { liveMark?: string }).liveMark), 'the page was not reloaded').toBe(
    'this document',
  );
}

const idOf = (path: string) => path.split('/').pop() ?? '';

test('a ticket reserved in one browser leaves the list open in another, without a reload', async ({ page, newUserPage }) => {
  const title = `Live reserve ${unique()}`;
  const seller = await newUserPage();
  await signUp(seller, 'live-seller');
  const ticketPath = await sell(seller, title, '12');

  await watch(page, '/');
  const card = page.getByRole('heading', { name: title });
  await expect(card).toBeVisible();

  const buyer = await newUserPage();
  await signUp(buyer, 'live-buyer');
  await purchase(buyer, ticketPath);

  await expect(card).toHaveCount(0, { timeout: SOON });
  await sameDocument(page, '/');
});

test('a ticket listed through the API appears in a list already open, without a reload', async ({ page, newUserPage }) => {
  const title = `Live listing ${unique()}`;
  const seller = await newUserPage();
  await signUp(seller, 'live-lister');

  await watch(page, '/');
  const listed = await seller.request.post('/api/tickets', { data: { title, price: 9 } });
  expect(listed.status()).toBe(201);

  await expect(page.getByRole('heading', { name: title })).toBeVisible({ timeout: SOON });
  await sameDocument(page, '/');
});

test("a ticket's page shows its seller's new price, its reservation and its sale, without a reload", async ({ page, newUserPage }) => {
  test.slow(); // three users and a payment
  const title = `Live ticket ${unique()}`;
  const seller = await newUserPage();
  await signUp(seller, 'live-editor');
  const ticketPath = await sell(seller, title, '10');

  await watch(page, ticketPath);
  await expect(page.getByText('$10.00', { exact: true })).toBeVisible();
  await expect(page.getByTestId('ticket-state')).toHaveText('On sale');

  const edited = await seller.request.put(`/api${ticketPath}`, { data: { title, price: 42 } });
  expect(edited.status()).toBe(200);
  await expect(page.getByText('$42.00', { exact: true })).toBeVisible({ timeout: SOON });

  const buyer = await newUserPage();
  await signUp(buyer, 'live-holder');
  const orderPath = await purchase(buyer, ticketPath);
  await expect(page.getByTestId('ticket-state')).toHaveText(/^Reserved until \d\d:\d\d UTC$/, { timeout: SOON });

  const paid = await buyer.request.post('/api/payments', { data: { orderId: idOf(orderPath), token: 'pm_card_visa' } });
  expect(paid.status()).toBe(201);
  // No ticket event says "sold": the page hears it from the order's, once the tickets service
  // has applied it.
  await expect(page.getByTestId('ticket-state')).toHaveText(/^Sold on \d{4}-\d{2}-\d{2}$/, { timeout: SOON });
  await sameDocument(page, ticketPath);
});

test('the order page turns Paid when the payment goes through in another tab', async ({ page, newUserPage }) => {
  const seller = await newUserPage();
  await signUp(seller, 'live-payee');
  const ticketPath = await sell(seller, `Live order ${unique()}`, '15');
  await signUp(page, 'live-payer');
  const orderPath = await purchase(page, ticketPath);

  await watch(page, orderPath, `/live/orders/${idOf(orderPath)}`);
  await expect(page.getByTestId('order-status')).toHaveText('Awaiting payment');
  // Another tab of the same browser pays (its session, not this page).
  const tab = await page.context().newPage();
  const paid = await tab.request.post('/api/payments', { data: { orderId: idOf(orderPath), token: 'pm_card_visa' } });
  expect(paid.status()).toBe(201);
  await tab.close();

  await expect(page.getByTestId('order-status')).toHaveText('Paid', { timeout: SOON });
  await expect(page.getByText('Paid. The ticket is yours.')).toBeVisible();
  await sameDocument(page, orderPath);
});

test("an order's stream is its buyer's alone", async ({ page, newUserPage }) => {
  const seller = await newUserPage();
  await signUp(seller, 'live-owner-seller');
  const ticketPath = await sell(seller, `Live private ${unique()}`, '11');
  const buyer = await newUserPage();
  await signUp(buyer, 'live-owner-buyer');
  const orderPath = await purchase(buyer, ticketPath);
  const stream = `/live/orders/${idOf(orderPath)}`;

  expect((await page.request.get(stream)).status(), 'signed out').toBe(401);
  const refused = await seller.request.get(stream);
  expect(refused.status(), "the seller's session").toBe(401);
  expect((await refused.json()).errors[0].code).toBe('not_authorized');
  expect((await buyer.request.get('/live/orders/nosuchorder')).status()).toBe(404);
});

test.describe('with holds of a few seconds', () => {
  // The second server of the run, whose orders expire after a few seconds.
  test.use({ baseURL: SHORT_WINDOW_URL });

  test('an expired hold shows on the order page and puts the ticket back on the list, without a reload', async ({ page, newUserPage }) => {
    const title = `Live expiry ${unique()}`;
    const seller = await newUserPage();
    await signUp(seller, 'live-expiry-seller');
    const ticketPath = await sell(seller, title, '8');

    await watch(page, '/');
    const card = page.getByRole('heading', { name: title });
    await expect(card).toBeVisible();

    const buyer = await newUserPage();
    await signUp(buyer, 'live-expiry-buyer');
    const orderPath = await purchase(buyer, ticketPath);
    await watch(buyer, orderPath, `/live/orders/${idOf(orderPath)}`);
    await expect(card).toHaveCount(0, { timeout: SOON });

    // The countdown says it ran out; the order's cancellation (a moment after) says the ticket
    // went back on sale, and the list shows it again.
    const expiry = (SHORT_WINDOW_SECONDS + 6) * 1000;
    await expect(buyer.getByText(/^This order expired at \d\d:\d\d UTC; the ticket went back on sale\.$/)).toBeVisible({ timeout: expiry });
    await expect(buyer.getByTestId('order-status')).toHaveText('Expired');
    await expect(card).toBeVisible({ timeout: SOON });
    await sameDocument(buyer, orderPath);
    await sameDocument(page, '/');
  });
});
