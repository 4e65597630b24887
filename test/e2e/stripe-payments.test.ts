/**
 * Token purchases with Stripe as the platform's payment provider, over HTTP against local mode,
 * with a local server standing in for api.stripe.com and webhooks signed as Stripe signs them.
 */

import { stripeSignature } from '../../lambdas/adapters/stripe/stripe-webhook';
import { localEventBus } from '../../lambdas/composition/billing';
import { type ApiClient, registerTenant, startApi } from '../support/api';
import { StripeStub } from '../support/stripe-stub';

const SECRET_KEY = 'sk_test_e2e4242';
const WEBHOOK_SECRET = 'whsec_e2e4242';
let api: ApiClient;
let stripe: StripeStub;

beforeAll(async () => {
  stripe = new StripeStub(SECRET_KEY);
  // Read when the billing handler loads, as a Lambda reads its environment.
  Object.assign(process.env, {
    STRIPE_SECRET_KEY: SECRET_KEY,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_API_BASE: await stripe.start(),
    TOKEN_PRICE: JSON.stringify({ currency: 'EUR', minorUnitsPerToken: 2 }),
  });
  api = await startApi();
}, 60_000);
afterAll(async () => {
  await api.platform.stop();
  await stripe.stop();
});

const buy = (token: string, amount: number, key: string) =>
  api.request('POST', '/v1/tokens/purchase', {
    token,
    body: { amount },
    headers: { 'idempotency-key': key },
  });

const webhook = (body: string, signature?: string) =>
  api.request('POST', '/v1/webhooks/stripe', {
    rawBody: body,
    headers: {
      'content-type': 'application/json',
      ...(signature === undefined ? {} : { 'stripe-signature': signature }),
    },
  });
const now = () => Math.floor(Date.now() / 1000);
const available = async (token: string) =>
  (await api.request('GET', '/v1/tokens/balance', { token })).body.available as number;

describe('a purchase the buyer still has to pay', () => {
  let tenant: Awaited<ReturnType<typeof registerTenant>>;
  let purchase: { id: string; paymentId: string };

  beforeAll(async () => {
    tenant = await registerTenant(api, 'Stripe buyer');
  });

  it('creates a PaymentIntent at the configured price and answers 202 with the client secret, crediting nothing', async () => {
    const started = await buy(tenant.token, 1000, 'stripe-buy-1');
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({
      purchase: { status: 'pending', provider: 'stripe', tokens: 1000, amountMinor: 2000, currency: 'EUR' },
      balance: { available: 0 },
      payment: { provider: 'stripe' },
    });
    purchase = started.body.purchase;
    expect(started.body.payment.clientSecret).toBe(`${purchase.paymentId}_secret_stub`);
    const [request] = stripe.requests;
    expect(request?.headers.authorization).toBe(`Bearer ${SECRET_KEY}`);
    expect(request?.headers['idempotency-key']).toBe(`purchase-${purchase.id}`);
    expect(request?.form.get('amount')).toBe('2000');
    expect(request?.form.get('currency')).toBe('eur');
    expect(request?.form.get('metadata[purchaseId]')).toBe(purchase.id);
    expect(request?.form.get('metadata[tenantId]')).toBe(tenant.tenantId);
    // Never stored: a read of the purchase has no client secret.
    const read = await api.request('GET', `/v1/tokens/purchases/${purchase.id}`, { token: tenant.token });
    expect(read.text).not.toContain('secret');
    expect(await available(tenant.token)).toBe(0);
  });

  it('refuses a webhook without a valid signature and records nothing', async () => {
    const body = stripe.event('payment_intent.succeeded', purchase.paymentId);
    for (const signature of [
      undefined,
      'garbage',
      stripeSignature(body, 'whsec_someone_else', now()),
      stripeSignature(body, WEBHOOK_SECRET, now() - 600),
      stripeSignature(body.replace('succeeded', 'succeeded '), WEBHOOK_SECRET, now()),
    ]) {
      const response = await webhook(body, signature);
      expect({ signature, status: response.status }).toEqual({ signature, status: 401 });
    }
    expect(await available(tenant.token)).toBe(0);
  });

  it('credits the tokens on payment_intent.succeeded, once however often Stripe delivers it', async () => {
    const body = stripe.event('payment_intent.succeeded', purchase.paymentId, { status: 'succeeded' });
    const first = await webhook(body, stripeSignature(body, WEBHOOK_SECRET, now()));
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ received: true, outcome: 'recorded' });
    // Stripe retries, and may deliver the same event several times at once.
    const again = await Promise.all(
      Array.from({ length: 5 }, () => webhook(body, stripeSignature(body, WEBHOOK_SECRET, now()))),
    );
    expect(again.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
    expect(await available(tenant.token)).toBe(1000);
    const read = await api.request('GET', `/v1/tokens/purchases/${purchase.id}`, { token: tenant.token });
    expect(read.body).toMatchObject({ status: 'succeeded' });
    const usage = await api.request('GET', '/v1/tokens/usage', { token: tenant.token });
    expect(usage.body.items).toEqual([
      expect.objectContaining({
        id: read.body.entryId,
        type: 'purchase',
        amount: 1000,
        reference: purchase.paymentId,
        actor: 'system:payments',
      }),
    ]);
    const credited = localEventBus.recent.filter(
      (e) => e.type === 'tokens.credited' && e.detail.tenantId === tenant.tenantId,
    );
    expect(credited).toHaveLength(1);
    // A retry of the purchase call itself does not credit again either.
    const replay = await buy(tenant.token, 1000, 'stripe-buy-1');
    expect(replay.body).toMatchObject({ replayed: true, purchase: { status: 'succeeded' } });
    expect(await available(tenant.token)).toBe(1000);
  });

  it('marks a purchase failed on payment_intent.payment_failed and credits nothing', async () => {
    const started = await buy(tenant.token, 300, 'stripe-buy-2');
    const { paymentId, id } = started.body.purchase;
    const body = stripe.event('payment_intent.payment_failed', paymentId, {
      last_payment_error: { message: 'Your card was declined.' },
    });
    const response = await webhook(body, stripeSignature(body, WEBHOOK_SECRET, now()));
    expect(response.body).toEqual({ received: true, outcome: 'recorded' });
    const read = await api.request('GET', `/v1/tokens/purchases/${id}`, { token: tenant.token });
    expect(read.body).toMatchObject({ status: 'failed', failureReason: 'Your card was declined.' });
    expect(await available(tenant.token)).toBe(1000);
  });

  it('acknowledges events about other payments and other objects, changing nothing', async () => {
    for (const body of [
      stripe.event('payment_intent.succeeded', 'pi_not_a_purchase'),
      JSON.stringify({ type: 'customer.created', data: { object: { id: 'cus_1', object: 'customer' } } }),
    ]) {
      const response = await webhook(body, stripeSignature(body, WEBHOOK_SECRET, now()));
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ received: true, outcome: 'ignored' });
    }
    expect(await available(tenant.token)).toBe(1000);
  });

  it('answers 402 when Stripe declines at creation, and nothing is credited', async () => {
    stripe.failNext(402, { type: 'card_error', code: 'card_declined', message: 'Your card was declined.' });
    const declined = await buy(tenant.token, 50, 'stripe-buy-3');
    expect(declined.status).toBe(402);
    expect(declined.body.error.code).toBe('PAYMENT_FAILED');
    expect(declined.text).not.toContain(SECRET_KEY);
    expect(await available(tenant.token)).toBe(1000);
  });
});

describe("a purchase paid on Stripe's hosted Checkout page", () => {
  let tenant: Awaited<ReturnType<typeof registerTenant>>;
  const checkout = (token: string, amount: number, key: string, returnOrigin = api.platform.url) =>
    api.request('POST', '/v1/tokens/purchase', {
      token,
      body: { amount, returnOrigin },
      headers: { 'idempotency-key': key },
    });
  const signed = (body: string) => webhook(body, stripeSignature(body, WEBHOOK_SECRET, now()));
  const purchaseOf = async (id: string) =>
    (await api.request('GET', `/v1/tokens/purchases/${id}`, { token: tenant.token })).body;

  beforeAll(async () => {
    tenant = await registerTenant(api, 'Checkout buyer');
  });

  it('answers 202 with the Checkout URL, the session returning to the console', async () => {
    stripe.requests.splice(0);
    const started = await checkout(tenant.token, 500, 'checkout-1');
    expect(started.status).toBe(202);
    const { purchase, payment } = started.body;
    expect(purchase).toMatchObject({ status: 'pending', provider: 'stripe', tokens: 500, amountMinor: 1000 });
    expect(purchase.paymentId).toMatch(/^cs_/);
    expect(payment).toEqual({ provider: 'stripe', checkoutUrl: `${stripe.url}/pay/${purchase.paymentId}` });
    const [request] = stripe.requests;
    expect(request?.path).toBe('/v1/checkout/sessions');
    expect(request?.headers['idempotency-key']).toBe(`purchase-${purchase.id}-checkout`);
    expect(request?.form.get('success_url')).toBe(`${api.platform.url}/#/tokens?purchase=${purchase.id}`);
    expect(request?.form.get('cancel_url')).toBe(
      `${api.platform.url}/#/tokens?purchase=${purchase.id}&cancelled=1`,
    );
    expect(request?.form.get('client_reference_id')).toBe(purchase.id);
    expect(request?.form.get('line_items[0][price_data][product_data][name]')).toBe('500 agent tokens');
    expect(request?.form.get('line_items[0][price_data][currency]')).toBe('eur');
    expect(await available(tenant.token)).toBe(0);
  });

  it('credits once on checkout.session.completed, and neither a duplicate nor the payment_intent.succeeded of the same payment credits again', async () => {
    const started = await checkout(tenant.token, 700, 'checkout-2');
    const { id, paymentId } = started.body.purchase;
    const { completed, succeeded } = stripe.pay(paymentId);
    expect(await signed(completed)).toMatchObject({ status: 200, body: { outcome: 'recorded' } });
    expect(await available(tenant.token)).toBe(700);
    const again = await Promise.all([signed(completed), signed(succeeded), signed(completed)]);
    expect(again.map((response) => response.status)).toEqual([200, 200, 200]);
    expect(await available(tenant.token)).toBe(700);
    expect(await purchaseOf(id)).toMatchObject({ status: 'succeeded', paymentId });
    const usage = await api.request('GET', '/v1/tokens/usage', { token: tenant.token });
    expect(usage.body.items.filter((e: { type: string }) => e.type === 'purchase')).toHaveLength(1);
  });

  it('credits once when the PaymentIntent event comes first, then the session event', async () => {
    const started = await checkout(tenant.token, 40, 'checkout-3');
    const { id, paymentId } = started.body.purchase;
    const { completed, succeeded } = stripe.pay(paymentId);
    expect((await signed(succeeded)).body).toEqual({ received: true, outcome: 'recorded' });
    expect(await available(tenant.token)).toBe(740);
    expect((await signed(completed)).status).toBe(200);
    expect(await available(tenant.token)).toBe(740);
    expect(await purchaseOf(id)).toMatchObject({ status: 'succeeded', paymentId });
  });

  it('ends failed when the session expires unpaid, crediting nothing; a declined card inside it is not the end', async () => {
    const started = await checkout(tenant.token, 90, 'checkout-4');
    const { id, paymentId } = started.body.purchase;
    const declined = stripe.event('payment_intent.payment_failed', 'pi_declined_in_checkout', {
      metadata: { tenantId: tenant.tenantId, purchaseId: id, checkout: 'true' },
      last_payment_error: { message: 'Your card was declined.' },
    });
    expect((await signed(declined)).body).toEqual({ received: true, outcome: 'ignored' });
    expect(await purchaseOf(id)).toMatchObject({ status: 'pending' });
    expect((await signed(stripe.expire(paymentId))).body).toEqual({ received: true, outcome: 'recorded' });
    expect(await purchaseOf(id)).toMatchObject({
      status: 'failed',
      failureReason: 'the checkout expired unpaid',
    });
    expect(await available(tenant.token)).toBe(740);
  });

  it('answers 409 for a key that started the purchase the other way, and the purchase stays as it was', async () => {
    const direct = await buy(tenant.token, 60, 'checkout-mixed');
    expect(direct.body.payment.clientSecret).toBeDefined();
    const mixed = await checkout(tenant.token, 60, 'checkout-mixed');
    expect(mixed.status).toBe(409);
    expect(mixed.body.error.message).toContain('idempotency-key');
    expect(await purchaseOf(direct.body.purchase.id)).toMatchObject({
      status: 'pending',
      paymentId: direct.body.purchase.paymentId,
    });
  });

  it('refuses a return origin that is not one of the console origins, naming the field, and charges nothing', async () => {
    stripe.requests.splice(0);
    for (const origin of ['https://evil.example', `${api.platform.url}/phish`, 'javascript:alert(1)']) {
      const refused = await checkout(tenant.token, 10, `checkout-bad-${origin.length}`, origin);
      expect({ origin, status: refused.status }).toEqual({ origin, status: 400 });
      expect(refused.text).toContain('body.returnOrigin');
    }
    expect(stripe.requests).toHaveLength(0);
  });
});
