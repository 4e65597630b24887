import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { respondToInbound } from '../../composition/inbound-worker';
import { drainTurnEvents } from '../../composition/turn-events';
import type { QueuedInbound } from '../../domain/channels/receive';
import { logger } from '../../observability';

/**
 * The inbound FIFO queue's worker: each record is one customer message, run through the
 * conversation turn in its tenant's scope (composition/inbound-worker.ts). A failure fails that
 * record and the rest of its conversation's group in this batch (so a conversation never runs out
 * of order), while other conversations go on; failed records come back, then go to the DLQ.
 */
const processor = new SqsFifoPartialProcessorAsync();

async function recordHandler(record: SQSRecord): Promise<void> {
  const item = JSON.parse(record.body) as QueuedInbound;
  logger.appendKeys({ tenantId: item.tenantId, agentId: item.agentId, channel: item.message.channel });
  try {
    const outcome = await respondToInbound(item);
    logger.info('Inbound message processed', {
      outcome: outcome.outcome,
      conversationId: outcome.conversationId,
    });
  } finally {
    logger.removeKeys(['tenantId', 'agentId', 'channel']);
  }
}

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  try {
    return await processPartialResponse(event, recordHandler, processor, { context, skipGroupOnError: true });
  } finally {
    // Staff watching the conversations over WebSocket get the turns' events before this instance may freeze.
    await drainTurnEvents();
  }
}
