import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoChannelConversationStore } from '../adapters/dynamodb/channel-conversation-store';
import { DynamoInboundDedup } from '../adapters/dynamodb/inbound-dedup';
import { DynamoMetaVerifyTokens } from '../adapters/dynamodb/meta-verify-tokens';
import { InProcessInboundQueue, SqsInboundQueue } from '../adapters/queue/inbound-queue';
import type { InboundQueue, ReceiveDeps } from '../domain/channels/receive';
import { messageOf } from '../domain/shared/errors';
import { logger } from '../observability';
import { channelStores } from './channels';
import { ENV } from './env-names';
import { environmentSlice, loadRuntimeConfig, parseEnvironment } from './environment';
import { tableClient } from './table';
import { inPlatformScope, inTenantScope } from './tenant-scope';

/**
 * The webhooks Lambda's side of the inbound pipeline: the directory and dedup (platform-level),
 * the channel secrets (tenant scope) and the queue. Kept apart from the runtime's composition so
 * that acknowledging a webhook loads no model, billing or action code. In local mode (no
 * INBOUND_QUEUE_URL) the queue runs the worker's use case in this process, loaded on first use.
 */
export const inboundConfig = {
  ...loadRuntimeConfig(),
  ...parseEnvironment(environmentSlice(ENV.INBOUND_QUEUE_URL, ENV.PUBLIC_BASE_URL), 'inbound', process.env, {
    emptyIsUnset: true,
  }),
};
const client = tableClient(inboundConfig);
const stores = channelStores(client, inboundConfig.TABLE_NAME);

/** Local mode's in-process FIFO queue (tests drain it); undefined on AWS. */
export let localInboundQueue: InProcessInboundQueue | undefined;

function inboundQueue(): InboundQueue {
  if (inboundConfig.INBOUND_QUEUE_URL) {
    return new SqsInboundQueue(
      new SQSClient({ region: inboundConfig.AWS_REGION }),
      inboundConfig.INBOUND_QUEUE_URL,
    );
  }
  localInboundQueue = new InProcessInboundQueue(
    async (item) => {
      const { respondToInbound } = require('./inbound-worker') as typeof import('./inbound-worker');
      // A queue message starts outside any scope, as an SQS record does.
      return inPlatformScope(() => respondToInbound(item));
    },
    (error, item) =>
      logger.error('Inbound message failed', {
        tenantId: item.tenantId,
        agentId: item.agentId,
        channel: item.message.channel,
        error: messageOf(error),
      }),
  );
  return localInboundQueue;
}

export const receiveDeps: ReceiveDeps = {
  directory: stores.directory,
  dedup: new DynamoInboundDedup(client, inboundConfig.TABLE_NAME),
  secrets: stores.secrets,
  queue: inboundQueue(),
  inTenantScope,
  now: () => new Date(),
  log: { warn: (message, extra) => logger.warn(message, extra) },
};

/** Delivery statuses of sent messages (Twilio's status callback), in the routed tenant's scope. */
export const channelConversationStore = new DynamoChannelConversationStore(client, inboundConfig.TABLE_NAME);

/** Meta's handshake: verify tokens by their hash (platform-level). */
export const metaVerifyTokens = new DynamoMetaVerifyTokens(client, inboundConfig.TABLE_NAME);
