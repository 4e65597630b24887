import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { CognitoIdentityProvider } from '../adapters/cognito/cognito-identity';
import type { TableClient } from '../adapters/dynamodb/document-client';
import type { IdentityProvider } from '../domain/tenants/ports';
import type { IdentityConfig } from './environment';
import { requireLocalStandIn } from './stand-ins';

/** Picks the identity adapter for this environment: Cognito on AWS, the local issuer in local mode. */
export function createIdentityProvider(
  config: IdentityConfig,
  deps: { client: TableClient; tableName: string; region: string },
): IdentityProvider {
  if (config.IDENTITY_PROVIDER === 'cognito') {
    return new CognitoIdentityProvider(
      new CognitoIdentityProviderClient({ region: deps.region }),
      config.USER_POOL_ID,
      config.USER_POOL_CLIENT_ID,
    );
  }
  // The local issuer is given by local mode (composition/stand-ins.ts): no deployed function has it.
  if (process.env.IDENTITY_PROVIDER === 'local') {
    return requireLocalStandIn(
      'identity',
      'IDENTITY_PROVIDER=local',
    )({
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
