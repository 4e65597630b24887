import { type PaymentPort, type PaymentReceipt, ProviderError } from '../../domain/actions/ports';
import {
  errorLike,
  isNetworkError,
  oneLineDetail,
  RetriesExhaustedError,
  type RetryOptions,
  type RetryVerdict,
  retryAfterMs,
  withRetries,
} from '../retry';

export const STRIPE_PROVIDER = 'stripe';
/** Pinned, so that a change of the account's default API version cannot change these shapes. */
export const STRIPE_API_VERSION = '2024-06-20';

export interface StripePaymentsOptions {
  /**
   * The secret key to charge with for this tenant: the platform's own for token purchases, the
   * tenant's own for `take_payment`; undefined when there is none (the charge is refused).
   */
  readonly secretKey: (tenantId: string) => Promise<string | undefined>;
  /** Tests point this at a local server standing in for api.stripe.com. */
  readonly baseUrl?: string;
  /** Per attempt, response body included. */
  readonly timeoutMs?: number;
  readonly retry?: RetryOptions;
}

/**
 * Payments through Stripe's PaymentIntents REST API with the global `fetch` (the `stripe` package
 * would cost its cold start for one POST). Every create carries the caller's `Idempotency-Key`,
 * so a retry — ours after a timeout, or the caller's — creates one PaymentIntent, never two.
 *
 * A PaymentIntent created without a payment method is `requires_payment_method`: `pending`, with
 * the `client_secret` the customer's browser confirms it with (Stripe.js); its end comes by the
 * webhook (`payment_intent.succeeded` / `payment_intent.payment_failed`, see stripe-webhook.ts).
 * `checkout` creates a Checkout Session instead (token purchases from the console): Stripe's
 * hosted page takes the card; `take_payment` never uses it.
 */
export class StripePayments implements PaymentPort {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly retry: RetryOptions;

  constructor(private readonly options: StripePaymentsOptions) {
    this.baseUrl = (options.baseUrl ?? 'https://api.stripe.com').replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.retry = options.retry ?? {};
  }

  async charge(tenantId: string, payment: Parameters<PaymentPort['charge']>[1]): Promise<PaymentReceipt> {
    const key = await this.options.secretKey(tenantId);
    if (!key) throw new ProviderError(STRIPE_PROVIDER, false, 'payments are not configured for this account');
    const form = new URLSearchParams({
      amount: String(payment.amountMinor),
      currency: payment.currency.toLowerCase(),
      description: payment.description,
      'automatic_payment_methods[enabled]': 'true',
      'metadata[tenantId]': tenantId,
    });
    if (payment.customerId !== undefined) form.set('metadata[customerId]', payment.customerId);
    for (const [name, value] of Object.entries(payment.metadata ?? {})) form.set(`metadata[${name}]`, value);
    let intent: unknown;
    try {
      intent = await withRetries(
        () => this.post('/v1/payment_intents', key, payment.idempotencyKey, form.toString()),
        verdict,
        this.retry,
      );
    } catch (error) {
      throw redacted(this.failure(error), key);
    }
    return receiptOf(intent);
  }

  /**
   * A Checkout Session (mode=payment) for one line of `productName` at the amount: Stripe's hosted
   * page takes the card, so no card data and no Stripe.js touch our pages. The metadata goes on
   * the session and on the PaymentIntent it creates (`payment_intent_data[metadata]`), so either
   * webhook event names the purchase. With the pinned API version the session's `payment_intent`
   * is null until the customer pays: the receipt's id is the session's (`cs_…`).
   */
  async checkout(
    tenantId: string,
    payment: Parameters<NonNullable<PaymentPort['checkout']>>[1],
  ): Promise<PaymentReceipt> {
    const key = await this.options.secretKey(tenantId);
    if (!key) throw new ProviderError(STRIPE_PROVIDER, false, 'payments are not configured for this account');
    const metadata: Record<string, string> = { tenantId, ...payment.metadata };
    if (payment.customerId !== undefined) metadata.customerId = payment.customerId;
    const form = new URLSearchParams({
      mode: 'payment',
      'line_items[0][quantity]': '1',
      'line_items[0][price_data][currency]': payment.currency.toLowerCase(),
      'line_items[0][price_data][unit_amount]': String(payment.amountMinor),
      'line_items[0][price_data][product_data][name]': payment.productName,
      'payment_intent_data[description]': payment.description,
      client_reference_id: payment.reference,
      success_url: payment.successUrl,
      cancel_url: payment.cancelUrl,
    });
    for (const [name, value] of Object.entries(metadata)) {
      form.set(`metadata[${name}]`, value);
      form.set(`payment_intent_data[metadata][${name}]`, value);
    }
    // Tells the PaymentIntent's own events apart: within a session a declined card is not the
    // end (the buyer may try another on the page); the session's events say how it ends.
    form.set('payment_intent_data[metadata][checkout]', 'true');
    let session: unknown;
    try {
      session = await withRetries(
        () => this.post('/v1/checkout/sessions', key, payment.idempotencyKey, form.toString()),
        verdict,
        this.retry,
      );
    } catch (error) {
      throw redacted(this.failure(error), key);
    }
    return checkoutReceiptOf(session);
  }

  private async post(path: string, key: string, idempotencyKey: string, body: string): Promise<unknown> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/x-www-form-urlencoded',
        'idempotency-key': idempotencyKey,
        'stripe-version': STRIPE_API_VERSION,
      },
      body,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text();
    if (!response.ok) throw StripeHttpError.from(response, text);
    try {
      return JSON.parse(text);
    } catch {
      throw new StripeHttpError(response.status, undefined, undefined, undefined, 'answer is not JSON');
    }
  }

  private failure(error: unknown): ProviderError {
    if (error instanceof ProviderError) return error;
    if (error instanceof RetriesExhaustedError) {
      const last = error.lastError;
      return new ProviderError(
        STRIPE_PROVIDER,
        true,
        `${this.describe(last)} (${error.message})`,
        last instanceof StripeHttpError ? last.code : undefined,
      );
    }
    if (error instanceof StripeHttpError) {
      // 401/403: the platform's key is wrong; said in product terms, the key never repeated.
      const message =
        error.status === 401 || error.status === 403
          ? 'the payment provider refused the configured credentials'
          : error.message;
      return new ProviderError(STRIPE_PROVIDER, false, message, error.code);
    }
    return new ProviderError(STRIPE_PROVIDER, false, this.describe(error));
  }

  private describe(error: unknown): string {
    if (error instanceof StripeHttpError) return error.message;
    const like = errorLike(error);
    if (like?.name === 'TimeoutError') return `no answer within ${this.timeoutMs} ms`;
    return 'cannot reach the payment provider';
  }
}

/** Stripe's PaymentIntent statuses, in the port's three. */
export function paymentStatusOf(status: unknown): PaymentReceipt['status'] {
  if (status === 'succeeded') return 'succeeded';
  if (status === 'canceled') return 'failed';
  return 'pending';
}

function receiptOf(intent: unknown): PaymentReceipt {
  const fields = (typeof intent === 'object' && intent !== null ? intent : {}) as Record<string, unknown>;
  if (typeof fields.id !== 'string' || !fields.id.startsWith('pi_')) {
    throw new ProviderError(STRIPE_PROVIDER, true, 'answered without a PaymentIntent id');
  }
  const status = paymentStatusOf(fields.status);
  const error = fields.last_payment_error as { message?: unknown } | null | undefined;
  return {
    provider: STRIPE_PROVIDER,
    providerId: fields.id,
    status,
    ...(status === 'pending' && typeof fields.client_secret === 'string'
      ? { clientSecret: fields.client_secret }
      : {}),
    ...(status === 'failed' && typeof error?.message === 'string' ? { failureReason: error.message } : {}),
  };
}

function checkoutReceiptOf(session: unknown): PaymentReceipt {
  const fields = (typeof session === 'object' && session !== null ? session : {}) as Record<string, unknown>;
  if (typeof fields.id !== 'string' || !fields.id.startsWith('cs_') || typeof fields.url !== 'string') {
    throw new ProviderError(STRIPE_PROVIDER, true, 'answered without a Checkout Session id and URL');
  }
  if (fields.status === 'complete' && fields.payment_status === 'paid') {
    return { provider: STRIPE_PROVIDER, providerId: fields.id, status: 'succeeded' };
  }
  if (fields.status === 'expired') {
    return {
      provider: STRIPE_PROVIDER,
      providerId: fields.id,
      status: 'failed',
      failureReason: 'the checkout expired unpaid',
    };
  }
  return { provider: STRIPE_PROVIDER, providerId: fields.id, status: 'pending', checkoutUrl: fields.url };
}

/** A non-2xx answer with Stripe's `{ error: { type, code, message } }` body. */
class StripeHttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: string | undefined,
    readonly code: string | undefined,
    readonly retryAfterMs: number | undefined,
    detail: string,
  ) {
    super(detail);
    this.name = 'StripeHttpError';
  }

  static from(response: Response, body: string): StripeHttpError {
    let message = '';
    let type: string | undefined;
    let code: string | undefined;
    try {
      const error = (JSON.parse(body) as { error?: Record<string, unknown> }).error ?? {};
      if (typeof error.type === 'string') type = error.type;
      if (typeof error.code === 'string') code = error.code;
      if (typeof error.message === 'string') message = error.message;
    } catch {
      // Not Stripe's JSON (a proxy's page): nothing in it a caller can use.
    }
    message = oneLineDetail(message);
    const detail = `HTTP ${response.status}${code ? ` (${code})` : ''}${message ? `: ${message}` : ''}`;
    return new StripeHttpError(response.status, type, code, retryAfterMs(response.headers), detail);
  }
}

/**
 * Retried: 429, 5xx, 409 `idempotency_key_in_use` (a concurrent request with the key is still
 * running) and network failures. The same Idempotency-Key goes with every attempt, so Stripe
 * answers a retry of a create that did happen with its first result.
 */
function verdict(error: unknown): RetryVerdict {
  if (error instanceof StripeHttpError) {
    const again = error.status === 429 || error.status >= 500 || error.code === 'idempotency_key_in_use';
    if (!again) return { retry: false };
    return error.retryAfterMs === undefined ? { retry: true } : { retry: true, afterMs: error.retryAfterMs };
  }
  return { retry: isNetworkError(error) };
}

function redacted(error: ProviderError, secret: string): ProviderError {
  if (!error.message.includes(secret)) return error;
  const message = error.message.slice(`${STRIPE_PROVIDER}: `.length).split(secret).join('[redacted]');
  return new ProviderError(STRIPE_PROVIDER, error.retryable, message, error.providerCode);
}
