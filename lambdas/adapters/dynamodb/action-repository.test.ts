import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ActionRecord } from '../../domain/actions/model';
import { DynamoActionRepository } from './action-repository';

const record: ActionRecord = {
  id: 'act_1',
  tenantId: 'ten_1',
  agentId: 'agt_1',
  action: 'send_sms',
  category: 'communication',
  params: {},
  status: 'executing',
  decision: { level: 'automatic', reason: 'default' },
  actorUserId: 'usr_1',
  cost: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

const cancelled = (codes: string[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

/** A client whose transactions fail with `errors`, in order, then succeed. */
function clientFailing(errors: Error[]) {
  const send = jest.fn(async () => {
    const error = errors.shift();
    if (error) throw error;
    return {};
  });
  return { client: { send } as unknown as DynamoDBDocumentClient, send };
}

describe('DynamoActionRepository.startExecution', () => {
  // DynamoDB Local does not cancel concurrent transactions on a shared item; DynamoDB does.
  it('tries again when a concurrent transaction on the stop or agent item cancelled it', async () => {
    const { client, send } = clientFailing([
      cancelled(['None', 'TransactionConflict', 'None']),
      cancelled(['None', 'None', 'TransactionConflict']),
    ]);
    const started = await new DynamoActionRepository(client, 'table').startExecution(record, 'new', 'now');
    expect(started).toEqual({ record: { ...record, updatedAt: 'now' } });
    expect(send).toHaveBeenCalledTimes(3);
  });

  it('gives up after its retries, and never retries a failed condition', async () => {
    const conflicts = Array.from({ length: 20 }, () => cancelled(['TransactionConflict', 'None', 'None']));
    const { client, send } = clientFailing(conflicts);
    await expect(
      new DynamoActionRepository(client, 'table').startExecution(record, 'new', 'now'),
    ).rejects.toBeInstanceOf(TransactionCanceledException);
    expect(send).toHaveBeenCalledTimes(9);

    const stopped = clientFailing([cancelled(['None', 'ConditionalCheckFailed', 'None'])]);
    expect(
      await new DynamoActionRepository(stopped.client, 'table').startExecution(record, 'new', 'now'),
    ).toEqual({ stopped: 'tenant' });
    expect(stopped.send).toHaveBeenCalledTimes(1);
  });
});
