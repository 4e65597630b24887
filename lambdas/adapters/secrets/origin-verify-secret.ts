import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { OriginVerifySecret } from '../../http/caller-address';

/**
 * The origin-verify secret (lib/constructs/http-api.ts generates it; the console's distribution
 * sends it): read once per Lambda instance, on the first request that needs it. A failed read is
 * not kept, so the next such request tries again. Its value never goes into an error or a log.
 */
export function originVerifySecret(
  secretArn: string,
  /** Injected by tests; otherwise the runtime's client, required on first use (lib/bundling.ts). */
  client?: Pick<SecretsManagerClient, 'send'>,
): OriginVerifySecret {
  let cached: Promise<string> | undefined;
  const read = async (): Promise<string> => {
    const { GetSecretValueCommand } =
      require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager');
    const send =
      client ??
      (
        require('./secrets-manager-credentials') as typeof import('./secrets-manager-credentials')
      ).secretsManagerClient({});
    const output = await send.send(new GetSecretValueCommand({ SecretId: secretArn }));
    if (!output.SecretString || output.SecretString.length < 32) {
      throw new Error(`The origin-verify secret ${secretArn} is empty or shorter than 32 characters`);
    }
    return output.SecretString;
  };
  return () => {
    if (!cached) {
      cached = read();
      cached.catch(() => {
        cached = undefined;
      });
    }
    return cached;
  };
}
