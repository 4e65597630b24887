import { DynamoUserRepository } from '../adapters/dynamodb/user-repository';
import { DynamoWebChatStore } from '../adapters/dynamodb/web-chat-repository';
import { type AuthorizeDeps, DEFAULT_WEB_CHAT_LIMITS } from '../domain/realtime/authorize';
import { callerFromClaims } from '../http/request';
import { channelStores } from './channels';
import { loadIdentityConfig, loadRuntimeConfig } from './environment';
import { requireLocalStandIn } from './stand-ins';
import { tableClient } from './table';
import { DATA_SCOPES } from './tenant-scope';

/**
 * The `$connect` authorizer's dependencies, built once at load: Cognito ID tokens verified with
 * aws-jwt-verify on AWS (the local issuer's, by a stand-in, in local mode), the user's record,
 * and the web chat's key index (platform-level), signing secret and connection counts (tenant-level).
 */
const config = loadRuntimeConfig();
const identity = loadIdentityConfig();
const client = tableClient(config);
const webChat = new DynamoWebChatStore(client, config.TABLE_NAME);
const secrets = channelStores(client, config.TABLE_NAME).secrets;

function claimsVerifier(): (token: string) => Promise<Record<string, unknown>> {
  if (identity.IDENTITY_PROVIDER === 'cognito') {
    const { cognitoIdTokenVerifier } =
      require('../adapters/cognito/id-token-verifier') as typeof import('../adapters/cognito/id-token-verifier');
    return cognitoIdTokenVerifier(identity.USER_POOL_ID, identity.USER_POOL_CLIENT_ID);
  }
  return requireLocalStandIn('tokenVerifier', 'IDENTITY_PROVIDER=local')(
    identity.LOCAL_ISSUER,
    identity.LOCAL_AUDIENCE,
  );
}
const verifyClaims = claimsVerifier();

export const authorizeDeps: AuthorizeDeps = {
  verifyToken: async (token) => callerFromClaims(await verifyClaims(token)),
  users: new DynamoUserRepository(client, config.TABLE_NAME),
  webChat: {
    resolveKey: (key) => webChat.resolveKey(key),
    signingSecret: async (tenantId, agentId) => (await secrets.get(tenantId, agentId, 'web'))?.signingSecret,
    count: (tenantId, agentId, bucket, windowStart) => webChat.count(tenantId, agentId, bucket, windowStart),
    countAddress: (addressHash, windowStart) => webChat.countAddress(addressHash, windowStart),
  },
  limits: DEFAULT_WEB_CHAT_LIMITS,
  scopes: DATA_SCOPES,
  now: () => new Date(),
};
