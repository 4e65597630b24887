import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Hex HMAC-SHA256 of `message` (UTF-8) with `secret`: the signature Slack and Meta put in their headers. */
export function hmacSha256Hex(secret: string, message: string): string {
  return createHmac('sha256', secret).update(message, 'utf8').digest('hex');
}

/**
 * Whether two strings are equal, in time independent of where they differ AND of their lengths:
 * both sides are hashed first, so a caller probing a secret token learns neither a prefix nor its
 * length (`timingSafeEqual` itself throws on unequal lengths, which would leak the length).
 */
export function constantTimeEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

/** A header's value whatever case the gateway kept (API Gateway lower-cases, a test may not). */
export function headerValue(
  headers: Readonly<Record<string, string | undefined>>,
  name: string,
): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

/** Why a webhook was refused, for the log (never a secret, never the signature itself). */
export type Verification = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export const VERIFIED: Verification = { ok: true };
export const refused = (reason: string): Verification => ({ ok: false, reason });
