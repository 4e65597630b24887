import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ExecutionQueue } from '../../domain/runtime/executions';

/** Async executions wait in SQS; the worker Lambda runs them. */
export class SqsExecutionQueue implements ExecutionQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(message: { tenantId: string; executionId: string }): Promise<void> {
    await this.client.send(
      new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(message) }),
    );
  }
}
