import type { ChannelSecrets } from './model';

/** Whose Meta channel holds a verify token. */
export interface VerifyTokenOwner {
  readonly tenantId: string;
  readonly agentId: string;
  readonly channel: 'messenger' | 'instagram';
}

/**
 * Meta's subscription handshake (`GET /v1/webhooks/meta`) names no page: only the verify token
 * the tenant typed into the Meta app's webhook settings. So the platform keeps a global index of
 * the tokens' HASHES (never the tokens: they are secrets) → the channels holding them, and the
 * handshake passes when the token is any configured Messenger or Instagram channel's.
 * Platform-level: called in `inPlatformScope`.
 */
export interface MetaVerifyTokens {
  add(verifyToken: string, owner: VerifyTokenOwner): Promise<void>;
  remove(verifyToken: string, owner: VerifyTokenOwner): Promise<void>;
  isKnown(verifyToken: string): Promise<boolean>;
}

const isMeta = (channel: string): channel is VerifyTokenOwner['channel'] =>
  channel === 'messenger' || channel === 'instagram';

/**
 * The channel secrets with the verify-token index kept in step: a Meta channel's `verifyToken`
 * is indexed when its credentials are written (the old token unindexed when it changed) and
 * unindexed when they are deleted. The index write follows the secret, so a token is never
 * indexed without a channel holding it for long; a failed index write fails the change (the
 * channel settings use case then puts the previous credentials back).
 */
export function withMetaVerifyTokenIndex(
  secrets: ChannelSecrets,
  index: MetaVerifyTokens,
  inPlatformScope: <T>(work: () => Promise<T>) => Promise<T>,
): ChannelSecrets {
  return {
    get: (tenantId, agentId, channel) => secrets.get(tenantId, agentId, channel),
    async put(tenantId, agentId, channel, credentials) {
      if (!isMeta(channel)) return secrets.put(tenantId, agentId, channel, credentials);
      const previous = (await secrets.get(tenantId, agentId, channel))?.verifyToken;
      await secrets.put(tenantId, agentId, channel, credentials);
      const owner = { tenantId, agentId, channel };
      const next = credentials.verifyToken;
      await inPlatformScope(async () => {
        if (next) await index.add(next, owner);
        if (previous && previous !== next) await index.remove(previous, owner);
      });
    },
    async delete(tenantId, agentId, channel) {
      if (!isMeta(channel)) return secrets.delete(tenantId, agentId, channel);
      const previous = (await secrets.get(tenantId, agentId, channel))?.verifyToken;
      await secrets.delete(tenantId, agentId, channel);
      if (previous) await inPlatformScope(() => index.remove(previous, { tenantId, agentId, channel }));
    },
  };
}
