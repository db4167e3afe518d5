import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect, snapshot, hydrated, signUp, sell } from './fixtures';
import { ELEMENTS_URL } from '../playwright.config';

// The server has a Stripe publishable key: the order page mounts Stripe's Payment Element.
test.use({ baseURL: ELEMENTS_URL });

const stub = fs.readFileSync(path.join(__dirname, '..', 'stripe-stub.js'), 'utf8');

async function withStripeJs(page: Page) {
  await page.route('https://js.stripe.com/v3/', (route) => route.fulfill({ contentType: 'application/javascript', body: stub }));
}

test('with a publishable key, the Payment Element takes the card and only its PaymentMethod reaches us', async ({ page, newUserPage }) => {
  const title = `Elements ${Date.now()}`;
  await signUp(page, 'seller');
  const ticketPath = await sell(page, title, '15');

  const buyer = await newUserPage();
  await withStripeJs(buyer);
  const posted: string[] = [];
  buyer.on('request', (request) => {
    if (request.method() === 'POST') posted.push(request.postData() ?? '');
  });
  await signUp(buyer, 'buyer');
  await buyer.goto(ticketPath);
  await hydrated(buyer);
  await buyer.getByRole('button', { name: 'Purchase' }).click();
  await expect(buyer).toHaveURL(/\/orders\/[0-9a-f]+$/);
  await expect(buyer.getByTestId('test-mode')).toHaveCount(0);
  const card = buyer.getByLabel('Card number');
  await expect(card).toBeVisible();

  await buyer.getByRole('button', { name: 'Pay $15.00' }).click();
  await expect(buyer.getByRole('alert')).toHaveText('Your card number is incomplete.');
  await card.fill('4000 0000 0000 0002');
  await buyer.getByRole('button', { name: 'Pay $15.00' }).click();
  await expect(buyer.getByRole('alert')).toHaveText('Your card was declined.');
  await expect(buyer.getByTestId('order-status')).toHaveText('Awaiting payment');
  await snapshot(buyer, 'order-payment-element');

  await card.fill('4242 4242 4242 4242');
  await buyer.getByRole('button', { name: 'Pay $15.00' }).click();
  await expect(buyer.getByTestId('order-status')).toHaveText('Paid');
  expect(posted.some((body) => body.includes('pm_card_visa')), 'the PaymentMethod id was posted').toBe(true);
  expect(posted.filter((body) => /4242|0002/.test(body.replace(/pm_card_\w+/g, ''))), 'no card number was posted').toEqual([]);
});
