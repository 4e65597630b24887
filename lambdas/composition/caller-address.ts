import { originVerifySecret } from '../adapters/secrets/origin-verify-secret';
import { callerAddressResolver } from '../http/caller-address';
import { logger } from '../observability';
import { loadOriginVerifySecretArn } from './environment';

/**
 * The caller's address for Cognito threat protection: the viewer's behind the console's CloudFront,
 * else `sourceIp` (http/caller-address.ts). For the Lambdas whose HTTP_LAMBDAS entry sets
 * `callerAddress` (they alone get the origin-verify secret).
 */
export function createCallerAddress() {
  const originVerifySecretArn = loadOriginVerifySecretArn();
  return callerAddressResolver(
    originVerifySecretArn ? originVerifySecret(originVerifySecretArn) : undefined,
    (error) =>
      logger.warn('Could not read the origin-verify secret: using API Gateway’s source address', {
        error: (error as Error)?.name ?? 'Error',
      }),
  );
}
