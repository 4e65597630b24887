import { SQSClient } from '@aws-sdk/client-sqs';
import type { ExecutionQueue } from '../../domain/runtime/executions';
import { InProcessExecutionQueue } from './in-process-execution-queue';
import { SqsExecutionQueue } from './sqs-execution-queue';

/** SQS when a queue URL is configured, else the in-process queue (local mode and tests). */
export function executionQueue(
  config: { readonly EXECUTION_QUEUE_URL?: string | undefined; readonly AWS_REGION: string },
  run: (message: { tenantId: string; executionId: string }) => Promise<void>,
  onError: (error: unknown) => void,
): ExecutionQueue {
  if (config.EXECUTION_QUEUE_URL) {
    return new SqsExecutionQueue(new SQSClient({ region: config.AWS_REGION }), config.EXECUTION_QUEUE_URL);
  }
  return new InProcessExecutionQueue(run, onError);
}
