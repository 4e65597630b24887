import { createHash } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { conversationGroup, type InboundQueue, type QueuedInbound } from '../../domain/channels/receive';

/** SQS ids are at most 128 characters of a restricted set: the conversation's group, hashed. */
const sqsId = (value: string) => createHash('sha256').update(value).digest('hex');

/**
 * The inbound FIFO queue: one message group per conversation (its messages run in order, others in
 * parallel) and the provider's message id as the deduplication id (SQS's own 5-minute dedup backs
 * the table's).
 */
export class SqsInboundQueue implements InboundQueue {
  constructor(
    private readonly client: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string,
  ) {}

  async enqueue(item: QueuedInbound): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(item),
        MessageGroupId: sqsId(conversationGroup(item)),
        MessageDeduplicationId: sqsId(`${item.message.channel}\u0000${item.message.providerMessageId}`),
      }),
    );
  }
}

/**
 * Local mode's FIFO queue: each conversation's messages run one after the other in the order
 * queued, different conversations concurrently, right after the webhook has answered. A failed
 * message is reported and the group moves on (as the DLQ would take it on AWS).
 */
export class InProcessInboundQueue implements InboundQueue {
  private readonly tails = new Map<string, Promise<void>>();
  private held: Promise<void> | undefined;

  constructor(
    private readonly run: (item: QueuedInbound) => Promise<unknown>,
    private readonly onError: (error: unknown, item: QueuedInbound) => void,
  ) {}

  async enqueue(item: QueuedInbound): Promise<void> {
    const group = conversationGroup(item);
    const previous = this.tails.get(group) ?? new Promise<void>((resolve) => setImmediate(resolve));
    const held = this.held;
    const next = previous
      .then(() => held)
      .then(() => this.run(item))
      .then(
        () => undefined,
        (error) => this.onError(error, item),
      );
    this.tails.set(group, next);
    void next.finally(() => {
      if (this.tails.get(group) === next) this.tails.delete(group);
    });
  }

  /**
   * Holds every message queued from now on until the returned release is called (the bench times a
   * webhook's acknowledgement without the turn it queued running beside it in this process).
   */
  hold(): () => void {
    let release: () => void = () => undefined;
    this.held = new Promise<void>((resolve) => {
      release = resolve;
    });
    return () => {
      this.held = undefined;
      release();
    };
  }

  /** Resolves when every queued message has been processed (tests, the bench, shutdown). */
  async drain(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }
}
