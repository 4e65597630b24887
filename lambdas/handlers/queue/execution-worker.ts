import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { runtimeDeps, turnDeadlineOf } from '../../composition/runtime';
import { inTenantScope, isTenantId } from '../../composition/tenant-scope';
import { drainTurnEvents } from '../../composition/turn-events';
import { processQueuedExecution } from '../../domain/runtime/agent-runtime';
import { logger } from '../../observability';

const messageSchema = z.strictObject({ tenantId: z.string(), executionId: z.string() });

/**
 * Runs queued executions. A message whose execution is no longer PENDING is a redelivery and is
 * skipped; a failure is reported per message so only that one is retried (then dead-lettered).
 */
export async function handler(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    const parsed = messageSchema.safeParse(JSON.parse(record.body));
    if (!parsed.success || !isTenantId(parsed.data.tenantId)) {
      logger.error('Dropping a malformed execution message', { messageId: record.messageId });
      continue;
    }
    try {
      logger.appendKeys({ tenantId: parsed.data.tenantId, executionId: parsed.data.executionId });
      const { tenantId, executionId } = parsed.data;
      // Each message is one tenant's execution: its credentials, and only its.
      // A chat turn resumed here that runs out of this Lambda's time again is queued again.
      const deadline = turnDeadlineOf(context?.getRemainingTimeInMillis?.());
      await inTenantScope(tenantId, () =>
        processQueuedExecution(runtimeDeps, tenantId, executionId, deadline),
      );
    } catch (error) {
      logger.error('Execution failed', error as Error);
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  // What the turns published reaches their subscribers before this instance may freeze.
  await drainTurnEvents();
  return { batchItemFailures };
}
