import type { Page } from '@playwright/test';
import { test, expect, hydrated, header, signUp, sell, snapshot, PASSWORD, unique, purchase } from './fixtures';

// What a seller sees of their own tickets: My tickets in every state, their tickets marked on
// `/`, and the signed-in header on a phone.


/// `14:05` from the API's `2030-01-02T14:05:09.123Z`: what the pages show, in UTC.
const clock = (rfc3339: string) => rfc3339.slice(11, 16);

/// The API's JSON at `path`, with the page's session.
async function api(page: Page, path: string) {
  const response = await page.request.get(path);
  expect(response.status(), path).toBe(200);
  return response.json();
}

const mine = (page: Page) => page.getByRole('list', { name: 'Your tickets' });
const myRow = (page: Page, title: string) => mine(page).getByRole('listitem').filter({ hasText: title });
const card = (page: Page, title: string) => page.getByRole('list', { name: 'Tickets for sale' }).getByRole('listitem').filter({ hasText: title });

/// The state My tickets shows for `title`, read again from the server.
async function stateAfterReload(page: Page, title: string) {
  await page.reload();
  return myRow(page, title).getByTestId('ticket-state').textContent();
}

test('a seller sees their tickets on sale, reserved and sold on My tickets, and their own marked on /', async ({ page, newUserPage }) => {
  test.slow(); // two users, two orders, a payment and the sale's event
  const batch = unique();
  const [forSale, held, sold] = [`Gig for sale ${batch}`, `Gig held ${batch}`, `Gig sold ${batch}`];
  await signUp(page, 'seller');
  const forSalePath = await sell(page, forSale, '10');
  const heldPath = await sell(page, held, '11');
  const soldPath = await sell(page, sold, '12');

  const buyer = await newUserPage();
  await signUp(buyer, 'buyer');
  const theirs = `Other seller gig ${batch}`;
  await sell(buyer, theirs, '5');
  await purchase(buyer, soldPath);
  await buyer.getByLabel('Visa ending 4242 (succeeds)').check();
  await buyer.getByRole('button', { name: 'Pay $12.00' }).click();
  await expect(buyer.getByTestId('order-status')).toHaveText('Paid');
  const orderPath = await purchase(buyer, heldPath);
  const until = clock((await api(buyer, `/api${orderPath}`)).expiresAt);

  await page.goto('/');
  await hydrated(page);
  await header(page).getByRole('link', { name: 'My tickets' }).click();
  await expect(page).toHaveURL(/\/tickets\/mine$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('My tickets');
  await expect(page).toHaveTitle('My tickets · Ticketing');
  // The order's and the payment's events reach the tickets service moments later.
  await expect.poll(() => stateAfterReload(page, held)).toBe(`Reserved until ${until} UTC`);
  await expect.poll(() => stateAfterReload(page, sold)).toMatch(/^Sold on \d{4}-\d{2}-\d{2}$/);
  const day = (await api(page, `/api${soldPath}`)).soldAt.slice(0, 10);
  await hydrated(page);

  // Newest first, each once, each with its price, its state and a link to its page.
  await expect(mine(page).getByRole('link')).toHaveText([sold, held, forSale]);
  await expect(mine(page).getByText(theirs)).toHaveCount(0);
  const rows: [string, string, string, string][] = [
    [forSale, forSalePath, '$10.00', 'On sale'],
    [held, heldPath, '$11.00', `Reserved until ${until} UTC`],
    [sold, soldPath, '$12.00', `Sold on ${day}`],
  ];
  for (const [title, path, price, state] of rows) {
    const row = myRow(page, title);
    await expect(row.getByRole('link', { name: title })).toHaveAttribute('href', path);
    await expect(row).toContainText(price);
    await expect(row.getByTestId('ticket-state')).toHaveText(state);
  }
  await snapshot(page, 'my-tickets');
  await myRow(page, held).getByRole('link', { name: held }).click();
  await expect(page).toHaveURL(new RegExp(`${heldPath}$`));
  await expect(page.getByRole('article').getByTestId('ticket-state')).toHaveText(`Reserved until ${until} UTC`);

  // On `/`: only the ticket still on sale, marked as theirs; another seller's is not.
  await page.goto('/');
  await hydrated(page);
  await expect(card(page, forSale).getByTestId('own-marker')).toHaveText('Yours');
  await expect(card(page, theirs)).toHaveCount(1);
  await expect(card(page, theirs).getByTestId('own-marker')).toHaveCount(0);
  await expect(page.getByRole('link', { name: `View ${sold}` })).toHaveCount(0);
  await expect(page.getByRole('link', { name: `View ${held}` })).toHaveCount(0);
  await snapshot(page, 'landing-own-marker');

  // And the other way round for the other seller.
  await buyer.goto('/');
  await hydrated(buyer);
  await expect(card(buyer, theirs).getByTestId('own-marker')).toHaveText('Yours');
  await expect(card(buyer, forSale)).toHaveCount(1);
  await expect(card(buyer, forSale).getByTestId('own-marker')).toHaveCount(0);
});

test('My tickets sends a signed-out visitor to sign in, then back; with no tickets it offers to sell one', async ({ page }) => {
  const email = await signUp(page, 'no-tickets');
  await header(page).getByRole('link', { name: 'Sign Out' }).click();
  await page.getByRole('main').getByRole('button', { name: 'Sign Out', exact: true }).click();
  await expect(header(page).getByRole('link', { name: 'Sign In' })).toBeVisible();
  await expect(header(page).getByRole('link', { name: 'My tickets' })).toHaveCount(0);
  await page.goto('/tickets/mine');
  await expect(page).toHaveURL(/\/auth\/signin\?next=%2Ftickets%2Fmine$|\/auth\/signin\?next=\/tickets\/mine$/);
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign In' }).click();
  await expect(page).toHaveURL(/\/tickets\/mine$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('My tickets');
  await expect(page.getByTestId('empty-state')).toContainText('You have not listed any tickets yet.');
  const sellLink = page.getByTestId('empty-state').getByRole('link', { name: 'Sell a ticket' });
  await expect(sellLink).toHaveAttribute('href', '/tickets/new');
  await snapshot(page, 'my-tickets-empty');
  await sellLink.click();
  await expect(page).toHaveURL(/\/tickets\/new$/);
});

test('without JavaScript: My tickets, the sign-in redirect and the "Yours" marker', async ({ newUserPage }) => {
  const visitor = await newUserPage({ javaScriptEnabled: false });
  const answer = await visitor.goto('/tickets/mine');
  expect(answer?.ok(), 'the redirect ends on the sign-in page').toBe(true);
  await expect(visitor).toHaveURL(/\/auth\/signin\?next=%2Ftickets%2Fmine$|\/auth\/signin\?next=\/tickets\/mine$/);

  const plain = await newUserPage({ javaScriptEnabled: false });
  await signUp(plain, 'nojs-seller', false);
  const title = `No script gig ${unique()}`;
  const ticketPath = await sell(plain, title, '7', false);
  await header(plain).getByRole('link', { name: 'My tickets' }).click();
  await expect(plain).toHaveURL(/\/tickets\/mine$/);
  await expect(plain).toHaveTitle('My tickets · Ticketing');
  await expect(plain.locator('meta[name="description"]')).toHaveAttribute('content', /\S/);
  await expect(myRow(plain, title).getByTestId('ticket-state')).toHaveText('On sale');
  await expect(myRow(plain, title)).toContainText('$7.00');
  await myRow(plain, title).getByRole('link', { name: title }).click();
  await expect(plain).toHaveURL(new RegExp(`${ticketPath}$`));
  await plain.goto('/');
  await expect(card(plain, title).getByTestId('own-marker')).toHaveText('Yours');
});

test('the signed-in header fits one row at 375 px, every link at least 24 × 24 px', async ({ page }) => {
  await signUp(page, 'narrow');
  await page.setViewportSize({ width: 375, height: 800 });
  await page.goto('/');
  await hydrated(page);
  const nav = header(page);
  const brand = await nav.getByRole('link', { name: 'Ticketing', exact: true }).boundingBox();
  expect(brand, 'the brand is shown').not.toBeNull();
  const middle = (box: { y: number; height: number }) => box.y + box.height / 2;
  for (const name of ['Sell a ticket', 'My tickets', 'My orders', 'Sign Out']) {
    const box = await nav.getByRole('link', { name, exact: true }).boundingBox();
    expect(box, name).not.toBeNull();
    expect(box!.width, `${name}: width`).toBeGreaterThanOrEqual(24);
    expect(box!.height, `${name}: height`).toBeGreaterThanOrEqual(24);
    expect(box!.x + box!.width, `${name}: inside the viewport`).toBeLessThanOrEqual(375);
    // On the brand's row: the same vertical middle, within a few pixels.
    expect(Math.abs(middle(box!) - middle(brand!)), `${name}: on the brand's row`).toBeLessThanOrEqual(4);
  }
  expect(brand!.width).toBeGreaterThanOrEqual(24);
  expect(brand!.height).toBeGreaterThanOrEqual(24);
  expect(await page.evaluate(() => document.documentElement.scrollWidth), 'no sideways scrolling').toBeLessThanOrEqual(375);
  await snapshot(page, 'header-signed-in');
});
