import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ExpiredHold } from '../../domain/billing/ports';
import type { Page, PageRequest } from '../../domain/shared/pagination';
import { epochKey, HELD_PREFIX, number, SWEEP_KEY } from './billing-items';
import { isConditionFailure } from './conditions';
import type { TableClient } from './document-client';
import { queryPage } from './pagination';
import { GSI1 } from './table-definition';

/** Housekeeping's platform-level items: the index of held reservations and the sweep mark. */
export class DynamoHousekeepingStore {
  constructor(
    private readonly client: TableClient,
    private readonly tableName: string,
  ) {}

  listExpiredHolds(hour: string, nowEpoch: number, page: PageRequest): Promise<Page<ExpiredHold>> {
    return queryPage<ExpiredHold>({
      client: this.client,
      input: {
        TableName: this.tableName,
        IndexName: GSI1,
        // gsi1sk starts with the 12-digit hold end, so "< now" is a key condition, not a filter.
        KeyConditionExpression: 'gsi1pk = :bucket AND gsi1sk < :now',
        ProjectionExpression: 'tenantId, #id, holdUntil',
        ExpressionAttributeNames: { '#id': 'id' },
        ExpressionAttributeValues: { ':bucket': `${HELD_PREFIX}${hour}`, ':now': epochKey(nowEpoch) },
      },
      scope: `held:${hour}:${nowEpoch}`,
      limit: page.limit,
      ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
      map: (item) => ({
        tenantId: String(item.tenantId),
        reservationId: String(item.id),
        holdUntil: number(item.holdUntil),
      }),
    });
  }

  async getSweepMark(): Promise<string | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: SWEEP_KEY, ConsistentRead: true }),
    );
    return typeof Item?.sweptThrough === 'string' ? Item.sweptThrough : undefined;
  }

  async setSweepMark(hour: string): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...SWEEP_KEY, entity: 'sweepMark', sweptThrough: hour },
          // Two overlapping runs: the mark only moves forward.
          ConditionExpression: 'attribute_not_exists(pk) OR sweptThrough < :hour',
          ExpressionAttributeValues: { ':hour': hour },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
}
