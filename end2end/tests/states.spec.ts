import type { Page } from '@playwright/test';
import { test, expect, hydrated, header, signUp, sell, snapshot, PASSWORD, unique, purchase } from './fixtures';
import { SHORT_WINDOW_URL, SHORT_WINDOW_SECONDS } from '../playwright.config';

// What a visitor reads in each state of an order and a ticket, the prices' words and every
// page's title, with and without JavaScript.


/// `14:05` from the API's `2030-01-02T14:05:09.123Z`: what the pages show, in UTC.
const clock = (rfc3339: string) => rfc3339.slice(11, 16);

/// The API's JSON at `path`, with the page's session.
async function api(page: Page, path: string) {
  const response = await page.request.get(path);
  expect(response.status(), path).toBe(200);
  return response.json();
}

async function signIn(page: Page, email: string) {
  await page.goto('/auth/signin');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign In' }).click();
  await expect(header(page).getByRole('link', { name: 'Sign Out' })).toBeVisible();
}

const orderRow = (page: Page, title: string) => page.getByRole('list', { name: 'Orders' }).getByRole('listitem').filter({ hasText: title });

test('the countdown reads as minutes and seconds, with and without JavaScript', async ({ page, newUserPage }) => {
  await signUp(page, 'seller');
  const withScript = await sell(page, `Countdown ${unique()}`, '10');
  const withoutScript = await sell(page, `Countdown, no script ${unique()}`, '10');

  const buyer = await newUserPage();
  await signUp(buyer, 'buyer');
  await purchase(buyer, withScript);
  // A 15-minute hold: `15:00` or `14:59` at first, then it ticks down.
  const countdown = buyer.getByTestId('countdown');
  await expect(countdown).toHaveText(/^Time left to pay: 1[45]:[0-5]\d$/);
  const first = await countdown.textContent();
  await expect(countdown).not.toHaveText(first ?? '', { timeout: 5_000 });
  await expect(countdown).toHaveText(/^Time left to pay: 14:[0-5]\d$/);
  await expect(buyer.getByText('seconds')).toHaveCount(0);

  const plain = await newUserPage({ javaScriptEnabled: false });
  await signUp(plain, 'nojs-buyer', false);
  await purchase(plain, withoutScript, false);
  await expect(plain.getByTestId('countdown')).toHaveText(/^Time left to pay: 1[45]:[0-5]\d$/);
});

test('the buyer holding a ticket is shown the way to pay; its seller, until when it is held and then the day it sold', async ({ page, newUserPage }) => {
  test.slow(); // three users, a payment and the sale's event
  const title = `Held ${unique()}`;
  await signUp(page, 'seller');
  const ticketPath = await sell(page, title, '20');
  const buyer = await newUserPage();
  await signUp(buyer, 'buyer');
  const orderPath = await purchase(buyer, ticketPath);
  const until = clock((await api(buyer, `/api${orderPath}`)).expiresAt);

  await buyer.goto(ticketPath);
  await hydrated(buyer);
  await expect(buyer.getByTestId('ticket-state')).toHaveText(`Reserved until ${until} UTC`);
  await expect(buyer.getByText(`You hold this ticket until ${until} UTC.`)).toBeVisible();
  await expect(buyer.getByText('Someone is buying')).toHaveCount(0);
  const pay = buyer.getByRole('link', { name: 'Pay for your order' });
  await expect(pay).toHaveAttribute('href', orderPath);
  await snapshot(buyer, 'ticket-held-by-you');

  await page.goto(ticketPath);
  await hydrated(page);
  await expect(page.getByTestId('ticket-state')).toHaveText(`Reserved until ${until} UTC`);
  await expect(page.getByText(`A buyer holds this ticket until ${until} UTC, so it cannot be edited or deleted now.`)).toBeVisible();
  await expect(page.getByRole('link', { name: 'Edit' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Delete' })).toHaveCount(0);
  await snapshot(page, 'ticket-own-reserved');

  const stranger = await newUserPage();
  await signUp(stranger, 'stranger');
  await stranger.goto(ticketPath);
  await hydrated(stranger);
  await expect(stranger.getByText('Someone is buying this ticket right now.')).toBeVisible();
  await expect(stranger.getByRole('link', { name: 'Pay for your order' })).toHaveCount(0);

  await pay.click();
  await expect(buyer).toHaveURL(new RegExp(`${orderPath}$`));
  await buyer.getByRole('button', { name: 'Pay $20.00' }).click();
  await expect(buyer.getByTestId('order-status')).toHaveText('Paid');

  // The ticket is marked sold when the payment's event reaches the tickets service.
  await expect
    .poll(async () => {
      await page.goto(ticketPath);
      return page.getByTestId('ticket-state').textContent();
    })
    .toMatch(/^Sold on \d{4}-\d{2}-\d{2}$/);
  const day = (await api(page, `/api${ticketPath}`)).soldAt.slice(0, 10);
  await expect(page.getByTestId('ticket-state')).toHaveText(`Sold on ${day}`);
  await expect(page.getByText(`You sold this ticket on ${day}.`)).toBeVisible();
  await expect(page.getByText('A buyer holds')).toHaveCount(0);
  await expect(page.getByTestId('seller-marker')).toHaveCount(0);
  await snapshot(page, 'ticket-own-sold');
  await page.goto(`${ticketPath}/edit`);
  await expect(page.getByText(`You sold this ticket on ${day}, so it cannot be edited.`)).toBeVisible();

  await buyer.goto(ticketPath);
  await expect(buyer.getByText(`You bought this ticket on ${day}.`)).toBeVisible();
  await expect(buyer.getByRole('link', { name: 'See your order' })).toHaveAttribute('href', orderPath);
});

test('without JavaScript: the holder pays from the ticket page, and a cancelled order says who cancelled it', async ({ newUserPage }) => {
  const title = `Held, no script ${unique()}`;
  const seller = await newUserPage({ javaScriptEnabled: false });
  await signUp(seller, 'nojs-seller', false);
  const ticketPath = await sell(seller, title, '7', false);
  const buyer = await newUserPage({ javaScriptEnabled: false });
  await signUp(buyer, 'nojs-buyer', false);
  const orderPath = await purchase(buyer, ticketPath, false);
  const until = clock((await api(buyer, `/api${orderPath}`)).expiresAt);

  await buyer.goto(ticketPath);
  await expect(buyer.getByText(`You hold this ticket until ${until} UTC.`)).toBeVisible();
  await buyer.getByRole('link', { name: 'Pay for your order' }).click();
  await expect(buyer).toHaveURL(new RegExp(`${orderPath}$`));

  await seller.goto(ticketPath);
  await expect(seller.getByText(`A buyer holds this ticket until ${until} UTC, so it cannot be edited or deleted now.`)).toBeVisible();

  await buyer.getByRole('button', { name: 'Cancel order' }).click();
  await expect(buyer.getByTestId('order-status')).toHaveText('Cancelled');
  await expect(buyer.getByText('You cancelled this order; the ticket went back on sale.')).toBeVisible();
  await buyer.goto('/orders');
  await expect(orderRow(buyer, title).getByTestId('order-status')).toHaveText('Cancelled');

  // Back on sale: its seller may edit it again.
  await expect
    .poll(async () => {
      await seller.goto(ticketPath);
      return seller.getByRole('link', { name: 'Edit' }).count();
    })
    .toBe(1);
  await expect(seller.getByTestId('ticket-state')).toHaveText('On sale');
});

test.describe('on a marketplace whose orders expire within seconds', () => {
  // The second server (its own data) holds orders for SHORT_WINDOW_SECONDS. This file runs after
  // expiry.spec.ts, whose empty-marketplace check needs that server without tickets.
  test.use({ baseURL: SHORT_WINDOW_URL });

  test('an expired order says "Expired" on its page, after a reload and in My orders, with and without JavaScript', async ({ page, newUserPage }) => {
    test.slow(); // the hold runs out, then the expiry's event
    const title = `Lapsed ${unique()}`;
    await signUp(page, 'seller');
    const ticketPath = await sell(page, title, '8');
    const buyer = await newUserPage();
    const email = await signUp(buyer, 'buyer');
    const orderPath = await purchase(buyer, ticketPath);
    const at = clock((await api(buyer, `/api${orderPath}`)).expiresAt);

    await expect(buyer.getByTestId('countdown')).toHaveText(/^Time left to pay: 0:0\d$/);
    // The countdown reaches zero: the badge and the text both say it expired (or already what the
    // cancellation a moment later says: it reaches the open page by itself, see live.spec.ts).
    const ranOut = new RegExp(`^This order expired at ${at} UTC(\\.|; the ticket went back on sale\\.)$`);
    await expect(buyer.getByText(ranOut)).toBeVisible({ timeout: (SHORT_WINDOW_SECONDS + 3) * 1000 });
    await expect(buyer.getByTestId('order-status')).toHaveText('Expired');
    await expect(buyer.getByText('Awaiting payment')).toHaveCount(0);
    await expect(buyer.getByRole('button', { name: /^Pay/ })).toHaveCount(0);

    // A moment later the order is cancelled as expired, and a reload says so the same way.
    const notice = `This order expired at ${at} UTC; the ticket went back on sale.`;
    await expect
      .poll(async () => {
        await buyer.reload();
        return buyer.getByText(notice).count();
      })
      .toBe(1);
    await expect(buyer.getByTestId('order-status')).toHaveText('Expired');
    await expect(buyer.getByText('Cancelled')).toHaveCount(0);
    await snapshot(buyer, 'order-expired-reloaded');

    await header(buyer).getByRole('link', { name: 'My orders' }).click();
    await expect(buyer).toHaveURL(/\/orders$/);
    await expect(orderRow(buyer, title).getByTestId('order-status')).toHaveText('Expired');

    const plain = await newUserPage({ javaScriptEnabled: false });
    await signIn(plain, email);
    await plain.goto(orderPath);
    await expect(plain.getByText(notice)).toBeVisible();
    await expect(plain.getByTestId('order-status')).toHaveText('Expired');
    await plain.goto('/orders');
    await expect(orderRow(plain, title).getByTestId('order-status')).toHaveText('Expired');
  });
});

test('a price with more than two decimals is refused in the API’s words and nothing is listed; empty fields are required', async ({ page }) => {
  const title = `Three decimals ${unique()}`;
  await signUp(page, 'decimals');
  await page.goto('/tickets/new');
  await hydrated(page);
  await page.getByLabel('Title').fill(title);
  await page.getByLabel('Price (USD)').fill('12.345');
  await page.getByLabel('Title').focus();
  // Not rounded behind the seller's back.
  await expect(page.getByLabel('Price (USD)')).toHaveValue('12.345');
  await page.getByRole('button', { name: 'List ticket' }).click();
  await expect(page.locator('#field-price-error')).toHaveText('Price must be a number with at most two decimals');
  await expect(page).toHaveURL(/\/tickets\/new$/);
  await snapshot(page, 'sell-price-error');
  await page.getByLabel('Price (USD)').fill('');
  await page.getByRole('button', { name: 'List ticket' }).click();
  await expect(page.locator('#field-price-error')).toHaveText('Price is required');
  await page.goto('/');
  await hydrated(page);
  await expect(page.getByRole('link', { name: `View ${title}` })).toHaveCount(0);

  // The edit form refuses it the same way, and the price stays as it was.
  const ticketPath = await sell(page, title, '12.34');
  await page.goto(`${ticketPath}/edit`);
  await hydrated(page);
  await page.getByLabel('Price (USD)').fill('12.345');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.locator('#field-price-error')).toHaveText('Price must be a number with at most two decimals');
  await page.goto(ticketPath);
  await expect(page.getByText('$12.34')).toBeVisible();
});

test('without JavaScript: 12.345 and an empty price or email are refused next to their field', async ({ newUserPage }) => {
  const plain = await newUserPage({ javaScriptEnabled: false });
  await plain.goto('/auth/signup');
  await plain.getByLabel('Password').fill(PASSWORD);
  await plain.getByRole('button', { name: 'Sign Up' }).click();
  await expect(plain.locator('#field-email-error')).toHaveText('Email is required');

  await signUp(plain, 'nojs-decimals', false);
  const title = `Three decimals, no script ${unique()}`;
  await plain.goto('/tickets/new');
  await plain.getByLabel('Title').fill(title);
  await plain.getByLabel('Price (USD)').fill('12.345');
  await plain.getByRole('button', { name: 'List ticket' }).click();
  await expect(plain.locator('#field-price-error')).toHaveText('Price must be a number with at most two decimals');
  await plain.getByLabel('Title').fill(title);
  await plain.getByRole('button', { name: 'List ticket' }).click();
  await expect(plain.locator('#field-price-error')).toHaveText('Price is required');
  await plain.goto('/');
  await expect(plain.getByRole('link', { name: `View ${title}` })).toHaveCount(0);
});

test('an empty email on sign-up is required', async ({ page }) => {
  await page.goto('/auth/signup');
  await hydrated(page);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign Up' }).click();
  await expect(page.locator('#field-email-error')).toHaveText('Email is required');
});

test('prices show thousands separators', async ({ page }) => {
  const title = `Million ${unique()}`;
  await signUp(page, 'million');
  await sell(page, title, '999999.99');
  await expect(page.getByText('$999,999.99')).toBeVisible();
  await page.goto('/');
  await hydrated(page);
  await expect(page.getByRole('list', { name: 'Tickets for sale' }).getByRole('listitem').filter({ hasText: title })).toContainText('$999,999.99');
});

/// The document's title, and one description that says something.
async function expectHead(page: Page, title: string) {
  await expect(page).toHaveTitle(title);
  const description = page.locator('meta[name="description"]');
  await expect(description).toHaveCount(1);
  await expect(description).toHaveAttribute('content', /\S/);
}

test('every page has a title of its own and a description', async ({ page, newUserPage }) => {
  test.slow(); // every page, with and without JavaScript
  await page.goto('/');
  await hydrated(page);
  await expectHead(page, 'Ticketing');
  await page.goto('/auth/signup');
  await hydrated(page);
  await expectHead(page, 'Sign up · Ticketing');
  await page.goto('/auth/signin');
  await hydrated(page);
  await expectHead(page, 'Sign in · Ticketing');

  await signUp(page, 'titles');
  // The header and the landing page offer selling in the same words.
  await expect(header(page).getByRole('link', { name: 'Sell a ticket' })).toBeVisible();
  await expect(page.getByRole('main').getByRole('link', { name: 'Sell a ticket' })).toBeVisible();
  // A navigation inside the app replaces the description rather than adding one.
  await header(page).getByRole('link', { name: 'Sell a ticket' }).click();
  await expect(page).toHaveURL(/\/tickets\/new$/);
  await expectHead(page, 'Sell a ticket · Ticketing');

  const title = `Titled ${unique()}`;
  const ticketPath = await sell(page, title, '11');
  await expectHead(page, `${title} · Ticketing`);
  await page.goto(`${ticketPath}/edit`);
  await hydrated(page);
  await expectHead(page, `Edit ${title} · Ticketing`);
  await page.goto('/orders');
  await hydrated(page);
  await expectHead(page, 'My orders · Ticketing');

  const buyer = await newUserPage();
  const buyerEmail = await signUp(buyer, 'titles-buyer');
  const orderPath = await purchase(buyer, ticketPath);
  await expectHead(buyer, `Order for ${title} · Ticketing`);

  // Without JavaScript they are in the HTML itself.
  const plain = await newUserPage({ javaScriptEnabled: false });
  const pages: [string, string][] = [
    ['/', 'Ticketing'],
    ['/auth/signup', 'Sign up · Ticketing'],
    ['/auth/signin', 'Sign in · Ticketing'],
    [ticketPath, `${title} · Ticketing`],
    ['/orders', 'My orders · Ticketing'],
    [orderPath, `Order for ${title} · Ticketing`],
  ];
  await signIn(plain, buyerEmail);
  for (const [path, expected] of pages) {
    await plain.goto(path);
    await expectHead(plain, expected);
  }
});
