import { DynamoChannelConversationStore } from '../adapters/dynamodb/channel-conversation-store';
import type { QueuedInbound } from '../domain/channels/receive';
import { type RespondDeps, respond } from '../domain/channels/respond';
import { logger } from '../observability';
import { channelSenders } from './channel-senders';
import { channelStores } from './channels';
import { ENV } from './env-names';
import { environmentSlice, parseEnvironment } from './environment';
import { runtimeClient, runtimeConfig, runtimeDeps, turnAdmission } from './runtime';
import { inTenantScope } from './tenant-scope';

/**
 * The inbound worker's dependencies (the SQS worker Lambda; local mode's in-process queue): the
 * runtime's own (same model providers, decision engine and billing as chat), the channel store,
 * the channel secrets and the sender registry.
 */
const { PUBLIC_BASE_URL } = parseEnvironment(
  environmentSlice(ENV.PUBLIC_BASE_URL),
  'inbound worker',
  process.env,
  {
    emptyIsUnset: true,
  },
);

export const channelStore = new DynamoChannelConversationStore(runtimeClient, runtimeConfig.TABLE_NAME);

export const respondDeps: RespondDeps = {
  runtime: runtimeDeps,
  senders: channelSenders(PUBLIC_BASE_URL ? { publicBaseUrl: PUBLIC_BASE_URL } : {}),
  secrets: channelStores(runtimeClient, runtimeConfig.TABLE_NAME).secrets,
  store: channelStore,
  billing: runtimeDeps.billing,
  inTenantScope,
  turnAdmission,
  now: () => new Date(),
  log: { warn: (message, extra) => logger.warn(message, extra) },
};

export function respondToInbound(item: QueuedInbound) {
  return respond(respondDeps, item);
}
