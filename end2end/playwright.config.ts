import { defineConfig } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// The web server, started by Playwright itself: WEB_SERVER_BIN (scripts/test sets the debug build,
// which shares the tests' compiled dependencies) or else the release build. Either way the browser
// gets the site in target/site, which scripts/test builds in release. It is ready when /readyz
// answers 200. Each run gets a fresh data folder, so runs never see each other's users.
const port = Number(process.env.E2E_PORT ?? 3210);
const natsPort = Number(process.env.E2E_NATS_PORT ?? 4310);
const baseURL = `http://127.0.0.1:${port}`;
const repo = path.resolve(__dirname, '..');
const targetDir = process.env.CARGO_TARGET_DIR ?? path.join(repo, 'target');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ticketing-e2e-'));
const shortDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ticketing-e2e-short-'));

// A second marketplace whose orders expire after a few seconds, for the expiry journey.
const shortPort = port + 1;
const shortNatsPort = natsPort + 1;
export const SHORT_WINDOW_SECONDS = 6;
export const SHORT_WINDOW_URL = `http://127.0.0.1:${shortPort}`;

// A third one with a Stripe publishable key: the order page mounts Stripe's Payment Element
// (Stripe.js is replaced in the browser by stripe-stub.js; payments still go to the Stripe double).
const elementsPort = port + 2;
const elementsNatsPort = natsPort + 2;
const elementsDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ticketing-e2e-elements-'));
export const ELEMENTS_URL = `http://127.0.0.1:${elementsPort}`;

function server(listen: number, nats: number, data: string, window: string, extra: Record<string, string> = {}) {
  return {
    command: process.env.WEB_SERVER_BIN ?? path.join(targetDir, 'release', 'server'),
    cwd: repo,
    url: `http://127.0.0.1:${listen}/readyz`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: 'pipe' as const,
    stderr: 'pipe' as const,
    env: {
      LEPTOS_SITE_ADDR: `127.0.0.1:${listen}`,
      LEPTOS_SITE_ROOT: path.join(repo, 'target', 'site'),
      LEPTOS_SITE_PKG_DIR: 'pkg',
      LEPTOS_OUTPUT_NAME: 'ticketing',
      LEPTOS_ENV: 'PROD',
      DATA_DIR: data,
      NATS_URL: `nats://127.0.0.1:${nats}`,
      EXPIRATION_WINDOW_SECONDS: window,
      RUST_LOG: process.env.RUST_LOG ?? 'warn',
      // Every browser of the tests signs up from 127.0.0.1.
      SIGNUPS_PER_ADDRESS_PER_MINUTE: '1000',
      ...extra,
    },
  };
}

function natsServer(port: number, data: string) {
  // A JetStream server of its own, store in this run's data folder (setup put it on PATH), with the
  // users and permissions of a development run (each service connects as its own user).
  return {
    command: `nats-server -c ${path.join(repo, 'scripts', 'nats-dev.conf')} -js -a 127.0.0.1 -p ${port} -sd ${path.join(data, 'nats')} -l ${path.join(data, 'nats.log')}`,
    port,
    timeout: 30_000,
    reuseExistingServer: false,
  };
}

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      // Playwright cannot download its own browsers here: use Debian's Chromium.
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  webServer: [
    natsServer(natsPort, dataDir),
    server(port, natsPort, dataDir, process.env.EXPIRATION_WINDOW_SECONDS ?? '900'),
    natsServer(shortNatsPort, shortDataDir),
    server(shortPort, shortNatsPort, shortDataDir, String(SHORT_WINDOW_SECONDS)),
    natsServer(elementsNatsPort, elementsDataDir),
    server(elementsPort, elementsNatsPort, elementsDataDir, '900', { STRIPE_PUBLISHABLE_KEY: 'pk_test_e2e' }),
  ],
});
