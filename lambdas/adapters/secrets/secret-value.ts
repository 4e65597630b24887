import * as z from 'zod/mini';
import { ProviderError } from '../../domain/actions/ports';
import { lazySchema } from '../../domain/shared/zod';

export const SECRETS_PROVIDER = 'secrets-manager';

/** Ids that become path segments of a secret's name: nothing that could add a segment. */
export const SECRET_NAME_SEGMENT = /^[A-Za-z0-9_-]{1,128}$/;

const flatStringRecord = lazySchema(() => z.record(z.string(), z.string()));

/**
 * A secret's value as this platform stores every one: a JSON object of strings, frozen (callers
 * share it from a cache). Errors name the secret, never its text: JSON.parse quotes what it choked on.
 */
export function flatSecretValue(
  name: string,
  secretString: string | undefined,
): Readonly<Record<string, string>> {
  if (secretString === undefined) {
    throw new ProviderError(
      SECRETS_PROVIDER,
      false,
      `secret ${name} has no string value (binary secrets are not read)`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    throw new ProviderError(SECRETS_PROVIDER, false, `secret ${name} is not JSON`);
  }
  const record = flatStringRecord().safeParse(parsed);
  if (!record.success || Array.isArray(parsed)) {
    throw new ProviderError(SECRETS_PROVIDER, false, `secret ${name} is not a JSON object of string values`);
  }
  return Object.freeze({ ...record.data });
}
