import { createHmac, timingSafeEqual } from 'node:crypto';

/** Stripe's default tolerance: a signed event older (or newer) than this is a replay. */
export const STRIPE_SIGNATURE_TOLERANCE_SECONDS = 300;

/**
 * Checks a `Stripe-Signature` header (`t=<unix seconds>,v1=<hex>[,v1=…][,v0=…]`): some `v1` must
 * be the hex HMAC-SHA256 of `<t>.<raw body>` with the endpoint's signing secret (compared in
 * constant time), and `t` within the tolerance of now. A dozen lines instead of the `stripe`
 * package, whose import costs the webhook's cold start for this one check.
 */
export function verifyStripeSignature(
  rawBody: string,
  header: string | undefined,
  secret: string,
  nowSeconds: number,
  toleranceSeconds = STRIPE_SIGNATURE_TOLERANCE_SECONDS,
): boolean {
  if (!header || !secret) return false;
  let timestamp: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const [name, value] = part.trim().split('=', 2) as [string, string | undefined];
    if (name === 't' && value !== undefined && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    if (name === 'v1' && value !== undefined && /^[0-9a-f]{64}$/i.test(value)) {
      signatures.push(Buffer.from(value, 'hex'));
    }
  }
  if (timestamp === undefined || signatures.length === 0) return false;
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${timestamp}.${rawBody}`, 'utf8').digest();
  return signatures.some((signature) => timingSafeEqual(signature, expected));
}

/** Signs like Stripe does (tests, and the local mode's stand-in). */
export function stripeSignature(rawBody: string, secret: string, timestampSeconds: number): string {
  const v1 = createHmac('sha256', secret).update(`${timestampSeconds}.${rawBody}`, 'utf8').digest('hex');
  return `t=${timestampSeconds},v1=${v1}`;
}

/** What a (verified) Stripe event says about one of our payments. */
export interface StripePaymentEvent {
  /** The PaymentIntent's id (`pi_…`) or the Checkout Session's (`cs_…`). */
  readonly paymentId: string;
  readonly status: 'succeeded' | 'failed';
  readonly failureReason?: string;
  /** From the object's metadata, which we set when creating it. */
  readonly tenantId?: string;
  readonly purchaseId?: string;
  /**
   * The PaymentIntent of a Checkout Session: the same payment the purchase recorded by the
   * session's id, reported under the PaymentIntent's id (see paymentSettled).
   */
  readonly ofRecordedPayment?: true;
}

type StripeObject = Record<string, unknown>;

function parsedEvent(rawBody: string): { type: unknown; object: StripeObject | undefined } | undefined {
  let event: unknown;
  try {
    event = JSON.parse(rawBody);
  } catch {
    return undefined;
  }
  const { type, data } = (event ?? {}) as { type?: unknown; data?: { object?: StripeObject } };
  return { type, object: data?.object };
}

function aboutOf(object: StripeObject): { tenantId?: string; purchaseId?: string } {
  const metadata = (object.metadata ?? {}) as Record<string, unknown>;
  return {
    ...(typeof metadata.tenantId === 'string' ? { tenantId: metadata.tenantId } : {}),
    ...(typeof metadata.purchaseId === 'string' ? { purchaseId: metadata.purchaseId } : {}),
  };
}

/** What a PaymentIntent or Checkout Session event says; undefined for any other event. */
export function stripePaymentEvent(rawBody: string): StripePaymentEvent | undefined {
  return paymentIntentEvent(rawBody) ?? checkoutSessionEvent(rawBody);
}

/**
 * A Checkout Session's end: `checkout.session.completed` with `payment_status` paid (a card), or
 * `checkout.session.async_payment_succeeded` later (a bank debit) → succeeded;
 * `checkout.session.async_payment_failed` or `checkout.session.expired` → failed. A session
 * completed but still `unpaid` (a delayed method) is not an end yet: undefined.
 */
export function checkoutSessionEvent(rawBody: string): StripePaymentEvent | undefined {
  const event = parsedEvent(rawBody);
  const session = event?.object;
  if (typeof session?.id !== 'string' || session.object !== 'checkout.session') return undefined;
  const about = { paymentId: session.id, ...aboutOf(session) };
  switch (event?.type) {
    case 'checkout.session.completed':
      return session.payment_status === 'paid' || session.payment_status === 'no_payment_required'
        ? { ...about, status: 'succeeded' }
        : undefined;
    case 'checkout.session.async_payment_succeeded':
      return { ...about, status: 'succeeded' };
    case 'checkout.session.async_payment_failed':
      return { ...about, status: 'failed', failureReason: 'the payment failed' };
    case 'checkout.session.expired':
      return { ...about, status: 'failed', failureReason: 'the checkout expired unpaid' };
    default:
      return undefined;
  }
}

/** What a (verified) Stripe event says about a PaymentIntent; undefined for any other event. */
export function paymentIntentEvent(rawBody: string): StripePaymentEvent | undefined {
  const event = parsedEvent(rawBody);
  const type = event?.type;
  const intent = event?.object;
  if (typeof intent?.id !== 'string' || intent.object !== 'payment_intent') return undefined;
  const about = aboutOf(intent);
  const ofCheckout = ((intent.metadata ?? {}) as Record<string, unknown>).checkout === 'true';
  if (type === 'payment_intent.succeeded') {
    return {
      paymentId: intent.id,
      status: 'succeeded',
      ...about,
      ...(ofCheckout ? { ofRecordedPayment: true } : {}),
    };
  }
  // Within a Checkout Session a declined card is not the end: the buyer may try another on
  // Stripe's page; the session's own events (expired, async_payment_failed) end it.
  if (ofCheckout) return undefined;
  if (type === 'payment_intent.payment_failed' || type === 'payment_intent.canceled') {
    const error = intent.last_payment_error as { message?: unknown } | null | undefined;
    return {
      paymentId: intent.id,
      status: 'failed',
      ...about,
      ...(typeof error?.message === 'string' ? { failureReason: error.message.slice(0, 300) } : {}),
    };
  }
  return undefined;
}
