import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import type { QueuedInbound } from '../../domain/channels/receive';

const processed: string[] = [];
jest.mock('../../composition/inbound-worker', () => ({
  respondToInbound: async (item: QueuedInbound) => {
    if (item.message.text === 'boom') throw new Error('model down');
    processed.push(item.message.providerMessageId);
    return { outcome: 'answered', conversationId: 'cnv_1' };
  },
}));

import { handler } from './inbound-worker';

/** An SQS FIFO record as Lambda delivers it. */
function record(id: string, group: string, text: string): SQSRecord {
  const item: QueuedInbound = {
    tenantId: 'ten_1',
    agentId: 'agt_1',
    receivedAt: '2026-12-06T12:00:00.000Z',
    message: {
      channel: 'sms',
      agentAddress: '+15550100',
      customerAddress: group,
      text,
      attachments: [],
      providerMessageId: id,
      sentAt: '2026-12-06T12:00:00.000Z',
    },
  };
  return {
    messageId: `msg-${id}`,
    receiptHandle: `handle-${id}`,
    body: JSON.stringify(item),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1765022400000',
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '1765022400001',
      SequenceNumber: `1869${id}`,
      MessageGroupId: group,
      MessageDeduplicationId: id,
    },
    messageAttributes: {},
    md5OfBody: 'x',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:inbound.fifo',
    awsRegion: 'eu-west-1',
  };
}

describe('the inbound worker', () => {
  beforeEach(() => {
    processed.length = 0;
  });

  it('runs a batch in order and reports nothing failed', async () => {
    const event: SQSEvent = {
      Records: [record('1', 'A', 'one'), record('2', 'A', 'two'), record('3', 'B', 'three')],
    };
    expect(await handler(event, {} as Context)).toEqual({ batchItemFailures: [] });
    expect(processed).toEqual(['1', '2', '3']);
  });

  it('fails the failed message and the rest of its conversation, and goes on with the others', async () => {
    const event: SQSEvent = {
      Records: [
        record('1', 'A', 'boom'),
        record('2', 'B', 'fine'),
        record('3', 'A', 'after'),
        record('4', 'B', 'also'),
      ],
    };
    const result = await handler(event, {} as Context);
    expect(result.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual([
      'msg-1',
      'msg-3',
    ]);
    // Message 3 never ran ahead of message 1, which will come back first.
    expect(processed).toEqual(['2', '4']);
  });
});
