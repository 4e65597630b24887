import { freshTable } from '../../../test/support/dynamodb';
import { DynamoChannelConversationStore } from './channel-conversation-store';

describe('DynamoChannelConversationStore reply context (DynamoDB Local)', () => {
  it("keeps the newest inbound message's thread per conversation; an older redelivery loses", async () => {
    const { client, tableName } = await freshTable();
    const store = new DynamoChannelConversationStore(client, tableName);
    expect(await store.replyContext('ten_1', 'cnv_1')).toBeUndefined();

    await store.setReplyContext(
      'ten_1',
      'cnv_1',
      { channel: 'C1', threadTs: '1.000100' },
      '2026-12-06T06:00:00.000Z',
    );
    await store.setReplyContext(
      'ten_1',
      'cnv_1',
      { channel: 'C1', threadTs: '2.000200' },
      '2026-12-06T06:01:00.000Z',
    );
    await store.setReplyContext(
      'ten_1',
      'cnv_1',
      { channel: 'C1', threadTs: '0.000050' },
      '2026-12-06T05:59:00.000Z',
    );
    expect(await store.replyContext('ten_1', 'cnv_1')).toEqual({ channel: 'C1', threadTs: '2.000200' });

    // Per conversation and per tenant.
    expect(await store.replyContext('ten_1', 'cnv_2')).toBeUndefined();
    expect(await store.replyContext('ten_2', 'cnv_1')).toBeUndefined();
  });
});
