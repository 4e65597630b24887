import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { LedgerEntry, UsageDay } from '../../domain/billing/ports';
import type { Page, PageRequest } from '../../domain/shared/pagination';
import { type Item, ledgerPartition, toUsageDay, usagePartition } from './billing-items';
import { withoutKeys } from './conditions';
import type { TableClient } from './document-client';
import { queryPage } from './pagination';

/** Ledger entries by date range and the per-day usage kept beside them. */
export class DynamoUsageStore {
  constructor(
    private readonly client: TableClient,
    private readonly tableName: string,
  ) {}

  listLedger(
    tenantId: string,
    days: { from: string; to: string },
    page: PageRequest,
  ): Promise<Page<LedgerEntry>> {
    return queryPage<LedgerEntry>({
      client: this.client,
      input: {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': ledgerPartition(tenantId),
          ':from': `${days.from}T`,
          // `~` sorts after every character of an ISO time and an id: the whole last day is in.
          ':to': `${days.to}T~`,
        },
        ScanIndexForward: false,
      },
      scope: JSON.stringify(['ledger', tenantId, days.from, days.to]),
      limit: page.limit,
      ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
      map: (item) => withoutKeys<LedgerEntry>(item),
    });
  }

  async usageDays(tenantId: string, from: string, to: string): Promise<UsageDay[]> {
    const days: UsageDay[] = [];
    let startKey: Item | undefined;
    do {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': usagePartition(tenantId), ':from': from, ':to': to },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of result.Items ?? []) days.push(toUsageDay(item));
      startKey = result.LastEvaluatedKey;
    } while (startKey);
    return days;
  }
}
