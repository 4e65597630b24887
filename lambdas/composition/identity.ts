import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { CognitoIdentityProvider } from '../adapters/cognito/cognito-identity';
import type { TableClient } from '../adapters/dynamodb/document-client';
import type { IdentityProvider } from '../domain/tenants/ports';
import type { IdentityConfig } from './environment';
import { requireLocalStandIn } from './stand-ins';
import { inPlatformScope } from './tenant-scope';

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
    // Its users (`LOCALID#<email>`) are platform-level, like Cognito's user pool: every call runs
    // outside the tenant scope of the request that makes it.
    return platformLevel(
      requireLocalStandIn(
        'identity',
        'IDENTITY_PROVIDER=local',
      )({
        client: deps.client,
        tableName: deps.tableName,
        issuer: config.LOCAL_ISSUER,
        audience: config.LOCAL_AUDIENCE,
        signingJwk: config.LOCAL_SIGNING_JWK,
        tokenTtlSeconds: config.LOCAL_TOKEN_TTL_SECONDS,
      }),
    );
  }
  throw new Error('The local identity provider is not part of this build');
}

/** Every method of `provider`, run in the platform scope (its store is no tenant's). */
function platformLevel(provider: IdentityProvider): IdentityProvider {
  return new Proxy(provider, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => inPlatformScope(async () => value.apply(target, args));
    },
  });
}
