import { SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import type { ExecutionQueue } from '../../domain/runtime/executions';
import { InProcessExecutionQueue } from './in-process-execution-queue';
import { SqsExecutionQueue } from './sqs-execution-queue';

const queueConfig = () =>
  z.object({
    /** Set on AWS; local mode runs queued executions in-process instead. */
    EXECUTION_QUEUE_URL: z.optional(z.url()),
    AWS_REGION: z._default(z.string(), 'us-east-1'),
  });

/** SQS when a queue URL is configured, else the in-process queue (local mode and tests). */
export function executionQueue(
  run: (message: { tenantId: string; executionId: string }) => Promise<void>,
  onError: (error: unknown) => void,
): ExecutionQueue & { drain?: () => Promise<void> } {
  const config = queueConfig().parse(process.env);
  if (config.EXECUTION_QUEUE_URL) {
    return new SqsExecutionQueue(new SQSClient({ region: config.AWS_REGION }), config.EXECUTION_QUEUE_URL);
  }
  return new InProcessExecutionQueue(run, onError);
}
