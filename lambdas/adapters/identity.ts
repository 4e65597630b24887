import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { IdentityConfig } from '../config';
import type { IdentityProvider } from '../domain/tenants/ports';

/**
 * Picks the identity adapter for this environment. `require` inside the branch keeps the other
 * adapter's code (and its SDK client) from being evaluated at cold start.
 */
export function createIdentityProvider(
  config: IdentityConfig,
  deps: { client: DynamoDBDocumentClient; tableName: string; region: string },
): IdentityProvider {
  if (config.IDENTITY_PROVIDER === 'cognito') {
    const { CognitoIdentityProviderClient } =
      require('@aws-sdk/client-cognito-identity-provider') as typeof import('@aws-sdk/client-cognito-identity-provider');
    const { CognitoIdentityProvider } =
      require('./cognito/cognito-identity') as typeof import('./cognito/cognito-identity');
    return new CognitoIdentityProvider(
      new CognitoIdentityProviderClient({ region: deps.region }),
      config.USER_POOL_ID,
      config.USER_POOL_CLIENT_ID,
    );
  }
  const { LocalIdentityProvider } =
    require('./local-identity/local-identity') as typeof import('./local-identity/local-identity');
  return new LocalIdentityProvider({
    client: deps.client,
    tableName: deps.tableName,
    issuer: config.LOCAL_ISSUER,
    audience: config.LOCAL_AUDIENCE,
    signingJwk: config.LOCAL_SIGNING_JWK,
    tokenTtlSeconds: config.LOCAL_TOKEN_TTL_SECONDS,
  });
}
