import { createHmac } from 'node:crypto';
import { StripeStub } from '../../../test/support/stripe-stub';
import { ProviderError } from '../../domain/actions/ports';
import { STRIPE_API_VERSION, StripePayments } from './stripe-payments';
import {
  checkoutSessionEvent,
  paymentIntentEvent,
  stripePaymentEvent,
  stripeSignature,
  verifyStripeSignature,
} from './stripe-webhook';

const KEY = 'sk_test_unit123';
const noWait = { sleep: async () => undefined, random: () => 0 };
let stub: StripeStub;

beforeAll(async () => {
  stub = new StripeStub(KEY);
  await stub.start();
});
afterAll(() => stub.stop());
beforeEach(() => stub.requests.splice(0));

const payments = (secretKey: string | undefined = KEY) =>
  new StripePayments({
    secretKey: async () => secretKey,
    baseUrl: stub.url,
    retry: { ...noWait, maxAttempts: 3 },
  });
const payment = {
  amountMinor: 1500,
  currency: 'USD',
  description: '1500 platform tokens',
  idempotencyKey: 'purchase-pur_1',
  metadata: { purchaseId: 'pur_1' },
};

describe('StripePayments', () => {
  it('creates a PaymentIntent form-encoded, with the bearer key, the Idempotency-Key and a pinned version', async () => {
    const receipt = await payments().charge('ten_1', payment);
    expect(receipt).toMatchObject({ provider: 'stripe', status: 'pending' });
    expect(receipt.providerId).toMatch(/^pi_/);
    expect(receipt.clientSecret).toBe(`${receipt.providerId}_secret_stub`);
    const [request] = stub.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/v1/payment_intents');
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request?.headers['idempotency-key']).toBe('purchase-pur_1');
    expect(request?.headers['stripe-version']).toBe(STRIPE_API_VERSION);
    expect(Object.fromEntries(request?.form ?? [])).toEqual({
      amount: '1500',
      currency: 'usd',
      description: '1500 platform tokens',
      'automatic_payment_methods[enabled]': 'true',
      'metadata[tenantId]': 'ten_1',
      'metadata[purchaseId]': 'pur_1',
    });
  });

  it('retries a 5xx with the same Idempotency-Key, and Stripe answers one PaymentIntent', async () => {
    stub.failNext(500, { type: 'api_error', message: 'Something went wrong' });
    const again = { ...payment, idempotencyKey: 'purchase-pur_retry' };
    const receipt = await payments().charge('ten_1', again);
    const replay = await payments().charge('ten_1', again);
    expect(replay.providerId).toBe(receipt.providerId);
    expect(stub.requests.map((r) => r.headers['idempotency-key'])).toEqual([
      'purchase-pur_retry',
      'purchase-pur_retry',
      'purchase-pur_retry',
    ]);
  });

  it('maps a succeeded intent and a declined card', async () => {
    stub.createStatus = 'succeeded';
    try {
      const paid = await payments().charge('ten_1', { ...payment, idempotencyKey: 'k-paid' });
      expect(paid).toMatchObject({ status: 'succeeded' });
      expect(paid.clientSecret).toBeUndefined();
    } finally {
      stub.createStatus = 'requires_payment_method';
    }
    stub.failNext(402, { type: 'card_error', code: 'card_declined', message: 'Your card was declined.' });
    const declined = await payments()
      .charge('ten_1', { ...payment, idempotencyKey: 'k-declined' })
      .catch((e: unknown) => e);
    expect(declined).toBeInstanceOf(ProviderError);
    expect(declined).toMatchObject({ retryable: false, providerCode: 'card_declined' });
    expect(stub.requests).toHaveLength(2);
  });

  it('says a wrong key is refused, and never repeats the key', async () => {
    const error = (await payments('sk_test_wrong999')
      .charge('ten_1', payment)
      .catch((e: unknown) => e)) as ProviderError;
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.retryable).toBe(false);
    expect(error.message).toBe('stripe: the payment provider refused the configured credentials');
    expect(JSON.stringify(error)).not.toContain('sk_test_wrong999');
  });

  it('refuses without a key and sends nothing', async () => {
    const keyless = new StripePayments({ secretKey: async () => undefined, baseUrl: stub.url });
    await expect(keyless.charge('ten_1', payment)).rejects.toMatchObject({ retryable: false });
    expect(stub.requests).toHaveLength(0);
  });
});

describe('StripePayments.checkout', () => {
  const checkout = {
    ...payment,
    idempotencyKey: 'purchase-pur_1-checkout',
    productName: '1500 agent tokens',
    reference: 'pur_1',
    successUrl: 'https://console.example.com/#/tokens?purchase=pur_1',
    cancelUrl: 'https://console.example.com/#/tokens?purchase=pur_1&cancelled=1',
  };

  it('creates a Checkout Session (mode=payment, one priced line) naming the purchase on the session and its PaymentIntent', async () => {
    const receipt = await payments().checkout('ten_1', checkout);
    expect(receipt).toMatchObject({ provider: 'stripe', status: 'pending' });
    expect(receipt.providerId).toMatch(/^cs_/);
    expect(receipt.checkoutUrl).toBe(`${stub.url}/pay/${receipt.providerId}`);
    expect(receipt.clientSecret).toBeUndefined();
    const [request] = stub.requests;
    expect(request?.path).toBe('/v1/checkout/sessions');
    expect(request?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request?.headers['idempotency-key']).toBe('purchase-pur_1-checkout');
    expect(request?.headers['stripe-version']).toBe('2024-06-20');
    expect(Object.fromEntries(request?.form ?? [])).toEqual({
      mode: 'payment',
      'line_items[0][quantity]': '1',
      'line_items[0][price_data][currency]': 'usd',
      'line_items[0][price_data][unit_amount]': '1500',
      'line_items[0][price_data][product_data][name]': '1500 agent tokens',
      'payment_intent_data[description]': '1500 platform tokens',
      client_reference_id: 'pur_1',
      success_url: checkout.successUrl,
      cancel_url: checkout.cancelUrl,
      'metadata[tenantId]': 'ten_1',
      'metadata[purchaseId]': 'pur_1',
      'payment_intent_data[metadata][tenantId]': 'ten_1',
      'payment_intent_data[metadata][purchaseId]': 'pur_1',
      'payment_intent_data[metadata][checkout]': 'true',
    });
    // As Stripe answers with the pinned version: no PaymentIntent until the buyer pays.
    expect(stub.sessions.get(receipt.providerId)).toMatchObject({ payment_intent: null, status: 'open' });
  });

  it('retries a 5xx with the same Idempotency-Key and gets one session', async () => {
    stub.failNext(503, { type: 'api_error', message: 'Unavailable' });
    const again = { ...checkout, idempotencyKey: 'purchase-pur_2-checkout' };
    const first = await payments().checkout('ten_1', again);
    const replay = await payments().checkout('ten_1', again);
    expect(replay.providerId).toBe(first.providerId);
    expect(stub.requests).toHaveLength(3);
  });

  it('refuses a wrong key without repeating it, and answers no session without a key', async () => {
    const error = (await payments('sk_test_wrong999')
      .checkout('ten_1', checkout)
      .catch((e: unknown) => e)) as ProviderError;
    expect(error).toMatchObject({
      retryable: false,
      message: 'stripe: the payment provider refused the configured credentials',
    });
    stub.requests.splice(0);
    const keyless = new StripePayments({ secretKey: async () => undefined, baseUrl: stub.url });
    await expect(keyless.checkout('ten_1', checkout)).rejects.toMatchObject({ retryable: false });
    expect(stub.requests).toHaveLength(0);
  });
});

describe('Stripe-Signature', () => {
  const secret = 'whsec_unit';
  const body = JSON.stringify({ type: 'payment_intent.succeeded', data: { object: { id: 'pi_1' } } });
  const now = 1_760_000_000;

  it("accepts Stripe's own signature: hex HMAC-SHA256 of `t.body`", () => {
    const v1 = createHmac('sha256', secret).update(`${now}.${body}`).digest('hex');
    expect(verifyStripeSignature(body, `t=${now},v1=${v1}`, secret, now)).toBe(true);
    expect(stripeSignature(body, secret, now)).toBe(`t=${now},v1=${v1}`);
    // Several v1 (a rolled secret) and a v0 scheme are allowed beside it.
    expect(verifyStripeSignature(body, `t=${now},v1=${'0'.repeat(64)},v1=${v1},v0=abc`, secret, now)).toBe(
      true,
    );
  });

  it('refuses a changed body, another secret, a stale or future time, and malformed headers', () => {
    const header = stripeSignature(body, secret, now);
    expect(verifyStripeSignature(`${body} `, header, secret, now)).toBe(false);
    expect(verifyStripeSignature(body, header, 'whsec_other', now)).toBe(false);
    expect(verifyStripeSignature(body, header, secret, now + 301)).toBe(false);
    expect(verifyStripeSignature(body, header, secret, now - 301)).toBe(false);
    expect(verifyStripeSignature(body, header, secret, now + 299)).toBe(true);
    for (const bad of [undefined, '', 'v1=abc', `t=${now}`, `t=abc,v1=${'a'.repeat(64)}`, `t=${now},v1=zz`]) {
      expect(verifyStripeSignature(body, bad, secret, now)).toBe(false);
    }
  });

  it('reads payment_intent events and ignores the rest', () => {
    const intent = { id: 'pi_9', object: 'payment_intent' };
    const event = (type: string, object: unknown) => JSON.stringify({ type, data: { object } });
    expect(paymentIntentEvent(event('payment_intent.succeeded', intent))).toEqual({
      paymentId: 'pi_9',
      status: 'succeeded',
    });
    expect(
      paymentIntentEvent(
        event('payment_intent.payment_failed', { ...intent, last_payment_error: { message: 'declined' } }),
      ),
    ).toEqual({ paymentId: 'pi_9', status: 'failed', failureReason: 'declined' });
    expect(paymentIntentEvent(event('charge.refunded', { id: 'ch_1', object: 'charge' }))).toBeUndefined();
    expect(paymentIntentEvent('not json')).toBeUndefined();
  });

  it("reads a Checkout Session's end from its events, by the session id and its metadata", () => {
    const session = {
      id: 'cs_test_9',
      object: 'checkout.session',
      metadata: { tenantId: 'ten_1', purchaseId: 'pur_1' },
      payment_intent: 'pi_9',
    };
    const event = (type: string, object: unknown) => JSON.stringify({ type, data: { object } });
    const about = { paymentId: 'cs_test_9', tenantId: 'ten_1', purchaseId: 'pur_1' };
    expect(
      checkoutSessionEvent(event('checkout.session.completed', { ...session, payment_status: 'paid' })),
    ).toEqual({ ...about, status: 'succeeded' });
    // A delayed payment method: completed but not paid yet, not an end.
    expect(
      checkoutSessionEvent(event('checkout.session.completed', { ...session, payment_status: 'unpaid' })),
    ).toBeUndefined();
    expect(checkoutSessionEvent(event('checkout.session.async_payment_succeeded', session))).toEqual({
      ...about,
      status: 'succeeded',
    });
    expect(checkoutSessionEvent(event('checkout.session.async_payment_failed', session))).toEqual({
      ...about,
      status: 'failed',
      failureReason: 'the payment failed',
    });
    expect(stripePaymentEvent(event('checkout.session.expired', session))).toEqual({
      ...about,
      status: 'failed',
      failureReason: 'the checkout expired unpaid',
    });
    // The session's PaymentIntent: its success is the recorded payment's; a declined card is not the end.
    const intent = {
      id: 'pi_9',
      object: 'payment_intent',
      metadata: { ...session.metadata, checkout: 'true' },
    };
    expect(stripePaymentEvent(event('payment_intent.succeeded', intent))).toEqual({
      paymentId: 'pi_9',
      status: 'succeeded',
      tenantId: 'ten_1',
      purchaseId: 'pur_1',
      ofRecordedPayment: true,
    });
    expect(stripePaymentEvent(event('payment_intent.payment_failed', intent))).toBeUndefined();
  });
});
