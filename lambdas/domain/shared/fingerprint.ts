import { createHash } from 'node:crypto';

/**
 * A request's fingerprint, stored beside its idempotency key so that the key sent again with a
 * different request is told apart from a retry (409, not the first answer replayed). Keys are
 * sorted at every level: the same JSON with its fields in another order is the same request.
 */
export function requestFingerprint(operation: string, request: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([operation, sorted(request)]))
    .digest('base64url');
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value === null || typeof value !== 'object') return value;
  const out: [string, unknown][] = [];
  for (const key of Object.keys(value).sort()) {
    const field = (value as Record<string, unknown>)[key];
    if (field !== undefined) out.push([key, sorted(field)]);
  }
  // Pairs, not an object: a `__proto__` key stays data instead of becoming a prototype.
  return out;
}
