import { defineConfig } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// The release build of the web server, started by Playwright itself; it is ready when /readyz
// answers 200. Each run gets a fresh data folder, so runs never see each other's users.
const port = Number(process.env.E2E_PORT ?? 3210);
const natsPort = Number(process.env.E2E_NATS_PORT ?? 4310);
const baseURL = `http://127.0.0.1:${port}`;
const repo = path.resolve(__dirname, '..');
const targetDir = process.env.CARGO_TARGET_DIR ?? path.join(repo, 'target');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ticketing-e2e-'));

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
    {
      // A JetStream server of its own, store in this run's data folder (setup put it on PATH).
      command: `nats-server -js -a 127.0.0.1 -p ${natsPort} -sd ${path.join(dataDir, 'nats')} -l ${path.join(dataDir, 'nats.log')}`,
      port: natsPort,
      timeout: 30_000,
      reuseExistingServer: false,
    },
    {
      command: path.join(targetDir, 'release', 'server'),
      cwd: repo,
      url: `${baseURL}/readyz`,
      timeout: 120_000,
      reuseExistingServer: false,
      stdout: 'pipe',
      stderr: 'pipe',
      env: {
        LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
        LEPTOS_SITE_ROOT: path.join(repo, 'target', 'site'),
        LEPTOS_SITE_PKG_DIR: 'pkg',
        LEPTOS_OUTPUT_NAME: 'ticketing',
        LEPTOS_ENV: 'PROD',
        DATA_DIR: dataDir,
        NATS_URL: `nats://127.0.0.1:${natsPort}`,
        EXPIRATION_WINDOW_SECONDS: process.env.EXPIRATION_WINDOW_SECONDS ?? '900',
        RUST_LOG: process.env.RUST_LOG ?? 'warn',
      },
    },
  ],
});
