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

/** What a (verified) Stripe event says about a PaymentIntent; undefined for any other event. */
export function paymentIntentEvent(
  rawBody: string,
):
  | { readonly paymentId: string; readonly status: 'succeeded' | 'failed'; readonly failureReason?: string }
  | undefined {
  let event: unknown;
  try {
    event = JSON.parse(rawBody);
  } catch {
    return undefined;
  }
  const { type, data } = (event ?? {}) as { type?: unknown; data?: { object?: Record<string, unknown> } };
  const intent = data?.object;
  if (typeof intent?.id !== 'string' || intent.object !== 'payment_intent') return undefined;
  const metadata = (intent.metadata ?? {}) as Record<string, unknown>;
  const about = {
    ...(typeof metadata.tenantId === 'string' ? { tenantId: metadata.tenantId } : {}),
    ...(typeof metadata.purchaseId === 'string' ? { purchaseId: metadata.purchaseId } : {}),
  };
  if (type === 'payment_intent.succeeded') return { paymentId: intent.id, status: 'succeeded', ...about };
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
