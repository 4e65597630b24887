/**
 * Buying tokens from the console when the platform's payment provider is Stripe: the console
 * sends the buyer to Stripe's hosted Checkout page and shows the credited balance when they come
 * back. A local server stands in for api.stripe.com and for the Checkout page (its Pay button
 * posts the signed webhook events, as Stripe would, and redirects to the session's success_url).
 * axe-core on the console's pages; screenshots under test-output/stripe-checkout/.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { type ApiClient, PASSWORD, registerTenant, startApi } from '../support/api';
import { launchBrowser, newConsolePage, screenshotAndCheck } from '../support/browser';
import { StripeStub } from '../support/stripe-stub';

const SHOTS = join(__dirname, '../../test-output/stripe-checkout');
const SECRET_KEY = 'sk_test_browser4242';
const WEBHOOK_SECRET = 'whsec_browser4242';

jest.setTimeout(90_000);

let api: ApiClient;
let stripe: StripeStub;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  browser = await launchBrowser({ built: ['index.html'], shots: SHOTS });
  stripe = new StripeStub(SECRET_KEY);
  // Read when the billing handler loads, as a Lambda reads its environment.
  Object.assign(process.env, {
    STRIPE_SECRET_KEY: SECRET_KEY,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_API_BASE: await stripe.start(),
  });
  api = await startApi();
  stripe.webhook = { url: `${api.platform.url}/v1/webhooks/stripe`, secret: WEBHOOK_SECRET };
  page = await newConsolePage(browser);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await api?.platform.stop();
  await stripe?.stop();
});

const visit = (name: string) => screenshotAndCheck(page, SHOTS, name);

const heading = (name: string) => page.getByRole('heading', { level: 1, name });

describe('buying tokens through Stripe Checkout', () => {
  let tenant: Awaited<ReturnType<typeof registerTenant>>;

  it('signs in', async () => {
    tenant = await registerTenant(api, 'Checkout Dental');
    await page.goto(`${api.platform.url}/`);
    await page.getByLabel('Email').fill(tenant.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('Password').press('Enter');
    await heading('Agents').waitFor();
  });

  it("goes to Stripe's page, pays there, and comes back to the credited balance", async () => {
    await page.getByRole('link', { name: 'Tokens' }).click();
    await heading('Tokens').waitFor();
    await page.getByText('tokens available').waitFor();
    await page.getByLabel('Tokens', { exact: true }).fill('1500');
    // Stripe's page held back until the console has said where it is taking the buyer.
    let said: () => void = () => undefined;
    const saidSo = new Promise<void>((resolve) => {
      said = resolve;
    });
    await page.route(`${stripe.url}/pay/**`, async (route) => {
      await saidSo;
      await route.continue();
    });
    // Read from the page itself: while a navigation is pending, locators wait for it to finish.
    await page.exposeFunction('statusSaid', (text: string) => {
      if (text.includes('Taking you to Stripe to pay…')) said();
    });
    await page.evaluate(() => {
      const inPage = globalThis as any;
      new inPage.MutationObserver(() => {
        for (const status of inPage.document.querySelectorAll('[role=status]')) {
          inPage.statusSaid(status.textContent ?? '');
        }
      }).observe(inPage.document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.getByRole('button', { name: 'Buy' }).click();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      saidSo,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error('the console did not say it was taking the buyer to Stripe')),
          10_000,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    // The stand-in's hosted page: the console's own origin left behind, no card data on it.
    await page.waitForURL(`${stripe.url}/pay/cs_*`);
    await page.unroute(`${stripe.url}/pay/**`);
    await page.getByRole('heading', { name: /Pay 15\.00 USD/ }).waitFor();
    expect(await page.getByText('1500 agent tokens').isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Pay' }).click();
    await page.waitForURL(`${api.platform.url}/#/tokens?purchase=pur*`);
    await heading('Tokens').waitFor();
    await page.getByText('Paid: 1500 tokens were added to your balance.').waitFor();
    await page.locator('.figure', { hasText: '1500' }).waitFor();
    await visit('tokens-paid');
    const balance = await api.request('GET', '/v1/tokens/balance', { token: tenant.token });
    expect(balance.body.available).toBe(1500);
  });

  it('says so when the buyer cancels on Stripe’s page, and nothing is charged', async () => {
    await page.goto(`${api.platform.url}/#/tokens`);
    await heading('Tokens').waitFor();
    await page.getByLabel('Tokens', { exact: true }).fill('200');
    await page.getByRole('button', { name: 'Buy' }).click();
    await page.waitForURL(`${stripe.url}/pay/cs_*`);
    await page.getByRole('link', { name: 'Cancel and go back' }).click();
    await page.waitForURL(`${api.platform.url}/#/tokens?purchase=*&cancelled=1`);
    await page.getByText('You cancelled the payment: nothing was charged.', { exact: false }).waitFor();
    await page.locator('.figure', { hasText: '1500' }).waitFor();
    await visit('tokens-cancelled');
    // The purchase's card within a phone's width too.
    await page.setViewportSize({ width: 360, height: 740 });
    const overflow = await page.evaluate(() => {
      const root = (globalThis as any).document.documentElement;
      return root.scrollWidth - root.clientWidth;
    });
    expect(overflow).toBe(0);
    await page.setViewportSize({ width: 1280, height: 860 });
    const balance = await api.request('GET', '/v1/tokens/balance', { token: tenant.token });
    expect(balance.body.available).toBe(1500);
  });
});
