import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { IdentityConfig } from '../composition/environment';
import type { IdentityProvider } from '../domain/tenants/ports';
import { CognitoIdentityProvider } from './cognito/cognito-identity';

/** Picks the identity adapter for this environment: Cognito on AWS, the local issuer in local mode. */
export function createIdentityProvider(
  config: IdentityConfig,
  deps: { client: DynamoDBDocumentClient; tableName: string; region: string },
): IdentityProvider {
  if (config.IDENTITY_PROVIDER === 'cognito') {
    return new CognitoIdentityProvider(
      new CognitoIdentityProviderClient({ region: deps.region }),
      config.USER_POOL_ID,
      config.USER_POOL_CLIENT_ID,
    );
  }
  // Lambda bundles define IDENTITY_PROVIDER as "cognito" at build time (lib/bundling.ts), so this
  // branch, the local issuer and its JWT library are left out of every deployed function.
  if (process.env.IDENTITY_PROVIDER === 'local') {
    const { LocalIdentityProvider } =
      require('./local/local-identity') as typeof import('./local/local-identity');
    return new LocalIdentityProvider({
      client: deps.client,
      tableName: deps.tableName,
      issuer: config.LOCAL_ISSUER,
      audience: config.LOCAL_AUDIENCE,
      signingJwk: config.LOCAL_SIGNING_JWK,
      tokenTtlSeconds: config.LOCAL_TOKEN_TTL_SECONDS,
    });
  }
  throw new Error('The local identity provider is not part of this build');
}
