import { test, expect, snapshot, hydrated, uniqueEmail, PASSWORD, unique } from './fixtures';
import type { Page } from '@playwright/test';

/// A browser whose language is Japanese (`Accept-Language: ja-JP`): the pages are in Japanese
/// from the first one, rendered so on the server and kept so by hydration.
const JAPANESE = { locale: 'ja-JP' };

async function signUpJa(page: Page, prefix: string) {
  await page.goto('/auth/signup');
  await hydrated(page);
  await page.getByLabel('メールアドレス').fill(uniqueEmail(prefix));
  await page.getByLabel('パスワード').fill(PASSWORD);
  await page.getByRole('button', { name: '新規登録' }).click();
  await expect(page.getByRole('navigation', { name: 'メイン' }).getByRole('link', { name: 'サインアウト' })).toBeVisible();
}

test('in Japanese: sign up, sell (a malformed price refused by its code), buy and pay; then switch to English, remembered', async ({ newUserPage }) => {
  test.slow(); // two users, a sale and a payment
  const seller = await newUserPage(JAPANESE);
  await seller.goto('/');
  await expect(seller.locator('html')).toHaveAttribute('lang', 'ja');
  await expect(seller.getByRole('heading', { name: '販売中のチケット' })).toBeVisible();
  await signUpJa(seller, 'ja-seller');

  const title = `コンサート ${unique()}`;
  await seller.goto('/tickets/new');
  await hydrated(seller);
  await seller.getByLabel('タイトル').fill(title);
  // The API's English message is shown in Japanese, by its code (`price_malformed`).
  await seller.getByLabel('価格（USD）').fill('12.345');
  await seller.getByRole('button', { name: '出品する' }).click();
  await expect(seller.locator('#field-price-error')).toHaveText('価格は小数点以下2桁までの数字で入力してください。');
  await seller.getByLabel('価格（USD）').fill('1250');
  await seller.getByRole('button', { name: '出品する' }).click();
  await expect(seller.getByRole('heading', { name: title })).toBeVisible();
  const ticketPath = new URL(seller.url()).pathname;

  const buyer = await newUserPage(JAPANESE);
  await signUpJa(buyer, 'ja-buyer');
  await buyer.goto(ticketPath);
  await hydrated(buyer);
  await buyer.getByRole('button', { name: '購入する' }).click();
  await expect(buyer).toHaveURL(/\/orders\/[0-9a-f]+$/);
  const orderPath = new URL(buyer.url()).pathname;
  await expect(buyer.getByRole('heading', { name: 'ご注文内容' })).toBeVisible();
  await expect(buyer.getByTestId('order-status')).toHaveText('お支払い待ち');
  await expect(buyer.getByTestId('countdown')).toHaveText(/^お支払いの残り時間：\d+:[0-5]\d$/);
  // Prices stay US dollars, written as Japanese writes them too.
  await expect(buyer.getByRole('button', { name: '$1,250.00を支払う' })).toBeVisible();
  await snapshot(buyer, 'order-ja');

  await buyer.getByLabel('末尾0002のVisa（拒否）').check();
  await buyer.getByRole('button', { name: '$1,250.00を支払う' }).click();
  await expect(buyer.getByRole('alert')).toHaveText('カードが拒否されました。別のカードをお試しください。');
  await buyer.getByLabel('末尾4242のVisa（成功）').check();
  await buyer.getByRole('button', { name: '$1,250.00を支払う' }).click();
  await expect(buyer.getByTestId('order-status')).toHaveText('お支払い済み');

  // The ticket page says the day it sold as Japanese writes a day.
  await seller.goto(ticketPath);
  await expect(seller.getByTestId('ticket-state')).toHaveText(/^販売済み（\d{4}年\d{1,2}月\d{1,2}日）$/);

  // The switch, at the foot of every page: the same page in English, and it stays English.
  await buyer.getByRole('button', { name: 'English' }).click();
  await expect(buyer).toHaveURL(new RegExp(`${orderPath}$`));
  await expect(buyer.locator('html')).toHaveAttribute('lang', 'en');
  await expect(buyer.getByTestId('order-status')).toHaveText('Paid');
  await buyer.reload();
  await hydrated(buyer);
  await expect(buyer.getByRole('heading', { name: 'Your order' })).toBeVisible();
  await buyer.getByRole('button', { name: '日本語' }).click();
  await expect(buyer.getByTestId('order-status')).toHaveText('お支払い済み');
});

test('without JavaScript: a Japanese browser gets Japanese, and the switch works as a plain form', async ({ newUserPage }) => {
  const page = await newUserPage({ ...JAPANESE, javaScriptEnabled: false });
  await page.goto('/auth/signin?next=/orders');
  await expect(page.getByRole('heading', { name: 'サインイン' })).toBeVisible();
  await page.getByRole('button', { name: 'English' }).click();
  await expect(page).toHaveURL(/\/auth\/signin\?next=\/orders$/);
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.getByRole('heading', { name: 'Sign In' })).toBeVisible();
});
