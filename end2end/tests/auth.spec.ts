import { test, expect, uniqueEmail, PASSWORD, snapshot, hydrated, signUp } from './fixtures';

const header = (page: import('@playwright/test').Page) => page.getByRole('navigation', { name: 'Main' });

test('sign up, see the signed-in header, sign out, sign in again', async ({ page }) => {
  const email = uniqueEmail('journey');

  await page.goto('/');
  await hydrated(page);
  await snapshot(page, 'landing-signed-out');
  await expect(header(page).getByRole('link', { name: 'Sign Up' })).toBeVisible();
  await expect(header(page).getByRole('link', { name: 'Sign In' })).toBeVisible();

  await header(page).getByRole('link', { name: 'Sign Up' }).click();
  await expect(page).toHaveURL(/\/auth\/signup$/);
  await hydrated(page);
  await snapshot(page, 'signup');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign Up' }).click();

  await expect(page).toHaveURL(/\/$/);
  for (const name of ['Sell a ticket', 'My tickets', 'My orders', 'Sign Out']) {
    await expect(header(page).getByRole('link', { name })).toBeVisible();
  }
  await expect(page.getByTestId('session-status')).toHaveText(`You are signed in as ${email}`);
  await snapshot(page, 'landing-signed-in');

  await header(page).getByRole('link', { name: 'Sign Out' }).click();
  await page.getByRole('main').getByRole('button', { name: 'Sign Out', exact: true }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(header(page).getByRole('link', { name: 'Sign In' })).toBeVisible();
  await expect(header(page).getByRole('link', { name: 'Sign Out' })).toHaveCount(0);

  await header(page).getByRole('link', { name: 'Sign In' }).click();
  await hydrated(page);
  await snapshot(page, 'signin');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign In' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(header(page).getByRole('link', { name: 'Sign Out' })).toBeVisible();
});

test('a wrong password shows Invalid credentials above the form', async ({ page }) => {
  const email = uniqueEmail('wrong');
  await page.request.post('/api/users/signup', { data: { email, password: PASSWORD } });

  await page.goto('/auth/signin');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign In' }).click();
  await expect(page.getByRole('alert')).toHaveText('Invalid credentials');
  await expect(page).toHaveURL(/\/auth\/signin$/);
  await snapshot(page, 'signin-invalid-credentials');
});

test('field errors show next to their field', async ({ page }) => {
  await page.goto('/auth/signup');
  await hydrated(page);
  await page.getByLabel('Email').fill('not-an-email');
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Sign Up' }).click();
  await expect(page.locator('#field-email-error')).toHaveText('Email must be valid');
  await expect(page.locator('#field-password-error')).toHaveText('Password must be between 8 and 128 characters');
  await expect(page.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true');
});

test('an unknown page is a 404 with the app around it', async ({ page }) => {
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await snapshot(page, 'not-found');
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('sign up works with plain form posts', async ({ page }) => {
    const email = uniqueEmail('nojs');
    await page.goto('/auth/signup');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign Up' }).click();
    await expect(page).toHaveURL(/\/$/);
    await expect(header(page).getByRole('link', { name: 'Sign Out' })).toBeVisible();
    await expect(page.getByTestId('session-status')).toHaveText(`You are signed in as ${email}`);
    await snapshot(page, 'nojs-landing-signed-in');
  });

  test('a next address that a browser would read as another site is ignored', async ({ page, baseURL }) => {
    const email = uniqueEmail('next');
    await page.request.post('/api/users/signup', { data: { email, password: PASSWORD } });
    // Browsers drop the tab, so `/<tab>/evil.example` is `//evil.example`: another host.
    for (const next of ['/\t/evil.example', '/\\evil.example', '//evil.example']) {
      await page.goto(`/auth/signin?next=${encodeURIComponent(next)}`);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign In' }).click();
      await expect(page).toHaveURL(`${baseURL}/`);
    }
  });

  test('errors come back to the form after a plain post', async ({ page }) => {
    await page.goto('/auth/signup');
    await page.getByLabel('Email').fill('not-an-email');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign Up' }).click();
    await expect(page).toHaveURL(/\/auth\/signup\?/);
    await expect(page.locator('#field-email-error')).toHaveText('Email must be valid');
    await snapshot(page, 'nojs-signup-error');
  });
});

test('the API answers on the same port as the pages', async ({ request }) => {
  const missing = await request.get('/api/nothing');
  expect(missing.status()).toBe(404);
  expect(await missing.json()).toEqual({ errors: [{ message: 'Not Found', code: 'not_found' }] });
  const current = await request.get('/api/users/currentuser');
  expect(await current.json()).toEqual({ currentUser: null });
});

test('cross-site form posts to server functions are refused', async ({ request }) => {
  const response = await request.post('/_fn/signup', {
    headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
    data: 'email=a%40b.co&password=12345678',
  });
  expect(response.status()).toBe(403);
});

// Another site could link to (or frame) the sign-out page: opening it must sign nobody out, and
// a sign-out posted from another origin is refused.
test('opening the sign-out page signs nobody out; its button does', async ({ page }) => {
  await signUp(page, 'stay');
  await page.goto('/auth/signout');
  await hydrated(page);
  await expect(page.getByText('Sign out of Ticketing on this device?')).toBeVisible();
  await page.goto('/');
  await hydrated(page);
  await expect(header(page).getByRole('link', { name: 'Sign Out' })).toBeVisible();
  const forged = await page.request.post('/_fn/signout', {
    headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
    data: '',
    maxRedirects: 0,
  });
  expect(forged.status()).toBeGreaterThanOrEqual(400);
  await page.reload();
  await expect(header(page).getByRole('link', { name: 'Sign Out' })).toBeVisible();
  await page.goto('/auth/signout');
  await page.getByRole('main').getByRole('button', { name: 'Sign Out', exact: true }).click();
  await expect(header(page).getByRole('link', { name: 'Sign In' })).toBeVisible();
});

// A lost phone: from the laptop, "Sign out everywhere" ends the phone's session too.
test('sign out everywhere ends the sessions of every device', async ({ page, newUserPage }) => {
  const email = await signUp(page, 'everywhere');
  const phonePage = await newUserPage();
  await phonePage.goto('/auth/signin');
  await hydrated(phonePage);
  await phonePage.getByLabel('Email').fill(email);
  await phonePage.getByLabel('Password').fill(PASSWORD);
  await phonePage.getByRole('button', { name: 'Sign In' }).click();
  await expect(header(phonePage).getByRole('link', { name: 'Sign Out' })).toBeVisible();

  await header(page).getByRole('link', { name: 'Sign Out' }).click();
  await page.getByRole('main').getByRole('button', { name: 'Sign out everywhere' }).click();
  await expect(header(page).getByRole('link', { name: 'Sign In' })).toBeVisible();
  // The phone still has its cookie; the session behind it has ended.
  await expect(async () => {
    await phonePage.reload();
    await expect(header(phonePage).getByRole('link', { name: 'Sign In' })).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 10_000 });
});
