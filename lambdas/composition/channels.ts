import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoChannelDirectory } from '../adapters/dynamodb/channel-directory';
import { DynamoMetaVerifyTokens } from '../adapters/dynamodb/meta-verify-tokens';
import { type MetaVerifyTokens, withMetaVerifyTokenIndex } from '../domain/channels/meta-verify-tokens';
import type { ChannelDirectory, ChannelSecrets } from '../domain/channels/model';
import { lazyValue } from '../domain/shared/zod';
import { ENV } from './env-names';
import { environmentSlice, parseEnvironment } from './environment';
import { requireLocalStandIn } from './stand-ins';
import { tenantSecretsClient } from './table';
import { inPlatformScope } from './tenant-scope';

/**
 * The directory is platform-level whoever calls it: a channel route runs in its tenant's scope,
 * and the claim must not (the tenant's credentials cannot reach `CHADDR#` items, by design).
 */
export function platformScoped(directory: ChannelDirectory): ChannelDirectory {
  return {
    claim: (route) => inPlatformScope(() => directory.claim(route)),
    release: (route) => inPlatformScope(() => directory.release(route)),
    resolve: (channel, address) => inPlatformScope(() => directory.resolve(channel, address)),
  };
}

export interface ChannelStores {
  /** Platform-level: each call runs in `inPlatformScope`, wherever it is made from. */
  readonly directory: ChannelDirectory;
  /** Tenant-level: call it inside the tenant's scope (`inTenantScope`). */
  readonly secrets: ChannelSecrets;
  /** Platform-level: the hashes of Meta channels' verify tokens (kept in step by `secrets`). */
  readonly metaVerifyTokens: MetaVerifyTokens;
}

const envSchema = () => environmentSlice(ENV.STAGE, ENV.AWS_REGION, ENV.TENANT_SECRETS_PREFIX);

/**
 * The channel directory (the data table) and the channel secret store: Secrets Manager under
 * `${TENANT_SECRETS_PREFIX}/tenants/<tenantId>/channels/<agentId>/<channel>` on AWS, the local
 * store (a stand-in, never in a Lambda bundle) when STAGE is `local`. The Secrets Manager client
 * is built on first use, so a Lambda that never touches a channel secret never loads it.
 */
export function channelStores(
  client: Pick<DynamoDBDocumentClient, 'send'>,
  tableName: string,
  env: NodeJS.ProcessEnv = process.env,
): ChannelStores {
  const vars = parseEnvironment(envSchema(), 'channel secrets', env, { emptyIsUnset: true });
  const directory = platformScoped(new DynamoChannelDirectory(client, tableName));
  const metaVerifyTokens = new DynamoMetaVerifyTokens(client, tableName);
  const indexed = (secrets: ChannelSecrets) =>
    withMetaVerifyTokenIndex(secrets, metaVerifyTokens, inPlatformScope);
  if (vars.STAGE === 'local') {
    return {
      directory,
      secrets: indexed(requireLocalStandIn('channelSecrets', 'STAGE=local')()),
      metaVerifyTokens,
    };
  }
  const live = lazyValue((): ChannelSecrets => {
    const { SecretsManagerChannelSecrets } =
      require('../adapters/secrets/secrets-manager-channel-secrets') as typeof import('../adapters/secrets/secrets-manager-channel-secrets');
    const { secretsManagerClient } =
      require('../adapters/secrets/secrets-manager-credentials') as typeof import('../adapters/secrets/secrets-manager-credentials');
    // One attempt per SDK call: the adapter counts attempts (`withRetries`). A tenant's channel
    // secrets are read and written with that tenant's credentials (routed by the scope in force).
    return new SecretsManagerChannelSecrets(
      tenantSecretsClient({ region: vars.AWS_REGION, maxAttempts: 1 }, secretsManagerClient),
      {
        prefix: vars.TENANT_SECRETS_PREFIX ?? `agent-platform/${vars.STAGE}`,
      },
    );
  });
  return {
    directory,
    secrets: indexed({
      get: (tenantId, agentId, channel) => live().get(tenantId, agentId, channel),
      put: (tenantId, agentId, channel, credentials) => live().put(tenantId, agentId, channel, credentials),
      delete: (tenantId, agentId, channel) => live().delete(tenantId, agentId, channel),
    }),
    metaVerifyTokens,
  };
}
