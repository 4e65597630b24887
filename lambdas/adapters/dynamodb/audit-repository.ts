import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditEntry, AuditLog, AuditQuery } from '../../domain/audit/model';
import { ConflictError, ValidationError } from '../../domain/shared/errors';
import type { Page } from '../../domain/shared/pagination';
import { isConditionFailure } from './conditions';
import type { TableClient } from './document-client';
import { queryPage } from './pagination';
import { GSI1 } from './table-definition';

/**
 * The audit log: append-only, newest first, kept for AUDIT_RETENTION_DAYS.
 *   entry  pk = T#<tenantId>#AUDIT                        sk = <at, ISO UTC>#<entryId>
 *          with an agent: gsi1pk = T#<tenantId>#AGENT#<agentId>#AUDIT  gsi1sk = <at>#<entryId>
 *          expiresAt = at + AUDIT_RETENTION_DAYS (epoch seconds, the table's TTL)
 *
 * The sort key leads with the instant, so a time range is a key condition (never a filter) and
 * descending order is newest first; the id after it keeps two entries of the same millisecond
 * apart. Entries are only ever Put with `attribute_not_exists(pk)`: appending an entry whose
 * (at, id) is already there fails and leaves the stored one as it was. The agent index is sparse
 * (entries without an agent are not in it). Filters on type, actor and action are
 * FilterExpressions, bounded per page by queryPage's rounds.
 */
export const AUDIT_RETENTION_DAYS = 400;
const auditPartition = (tenantId: string) => `T#${tenantId}#AUDIT`;
const agentAuditPartition = (tenantId: string, agentId: string) => `T#${tenantId}#AGENT#${agentId}#AUDIT`;

/** One spelling of an instant, so that sort keys compare as the instants do. */
function canonicalInstant(value: string, field: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw ValidationError.forField(field, 'must be an ISO 8601 instant');
  return new Date(ms).toISOString();
}

const entrySortKey = (entry: AuditEntry) => `${canonicalInstant(entry.at, 'at')}#${entry.id}`;

function entryItem(entry: AuditEntry): Record<string, unknown> {
  const sk = entrySortKey(entry);
  return {
    pk: auditPartition(entry.tenantId),
    sk,
    ...(entry.agentId ? { gsi1pk: agentAuditPartition(entry.tenantId, entry.agentId), gsi1sk: sk } : {}),
    entity: 'audit',
    expiresAt: Math.floor(Date.parse(entry.at) / 1000) + AUDIT_RETENTION_DAYS * 24 * 3600,
    ...entry,
  };
}

function toEntry(item: Record<string, unknown>): AuditEntry {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, entity: _e, expiresAt: _x, ...rest } = item;
  const { id, tenantId, type, at, ...details } = rest as unknown as AuditEntry;
  return { id, tenantId, type, at, ...details };
}

/** A transaction holds at most 100 items. */
const TRANSACTION_LIMIT = 100;

export class DynamoAuditLog implements AuditLog {
  constructor(
    private readonly client: TableClient,
    private readonly tableName: string,
  ) {}

  /**
   * One entry: a conditional Put. Several: conditional Puts in one transaction per 100, so a
   * batch of up to 100 is appended whole or not at all (BatchWriteItem cannot be conditional).
   */
  async append(entries: readonly AuditEntry[]): Promise<void> {
    const items = entries.map(entryItem);
    const seen = new Set<string>();
    for (const item of items) {
      const key = `${String(item.pk)} ${String(item.sk)}`;
      if (seen.has(key))
        throw new ConflictError(`Audit entry ${String(item.id)} appears twice in one append`);
      seen.add(key);
    }
    if (items.length === 1 && items[0]) {
      const item = items[0];
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (error) {
        if (isConditionFailure(error)) throw duplicate(item);
        throw error;
      }
      return;
    }
    for (let start = 0; start < items.length; start += TRANSACTION_LIMIT) {
      const chunk = items.slice(start, start + TRANSACTION_LIMIT);
      try {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: chunk.map((item) => ({
              Put: { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' },
            })),
          }),
        );
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const index = (error.CancellationReasons ?? []).findIndex((r) => r.Code === 'ConditionalCheckFailed');
        const item = chunk[index];
        if (item) throw duplicate(item);
        throw error;
      }
    }
  }

  async list(tenantId: string, query: AuditQuery): Promise<Page<AuditEntry>> {
    const from = query.from === undefined ? undefined : canonicalInstant(query.from, 'query.from');
    const to = query.to === undefined ? undefined : canonicalInstant(query.to, 'query.to');
    if (from !== undefined && to !== undefined && from >= to) {
      throw ValidationError.forField('query.from', 'must be before query.to');
    }
    const byAgent = query.agentId !== undefined;
    const [pkName, skName] = byAgent ? ['gsi1pk', 'gsi1sk'] : ['pk', 'sk'];
    const values: Record<string, unknown> = {
      ':pk':
        query.agentId !== undefined ? agentAuditPartition(tenantId, query.agentId) : auditPartition(tenantId),
    };
    // Sort keys are `<at>#<id>`, never a bare instant: `>= from` takes entries at `from` itself,
    // `< to` (and BETWEEN's inclusive upper end) leaves out those at `to` — [from, to).
    let range = '';
    if (from !== undefined) values[':from'] = from;
    if (to !== undefined) values[':to'] = to;
    if (from !== undefined && to !== undefined) range = ` AND ${skName} BETWEEN :from AND :to`;
    else if (from !== undefined) range = ` AND ${skName} >= :from`;
    else if (to !== undefined) range = ` AND ${skName} < :to`;

    const names: Record<string, string> = {};
    const filters: string[] = [];
    if (query.type !== undefined) {
      names['#type'] = 'type';
      values[':type'] = query.type;
      filters.push('#type = :type');
    }
    if (query.actorId !== undefined) {
      names['#actor'] = 'actor';
      names['#actorId'] = 'id';
      values[':actorId'] = query.actorId;
      filters.push('#actor.#actorId = :actorId');
    }
    if (query.actionId !== undefined) {
      values[':actionId'] = query.actionId;
      filters.push('actionId = :actionId');
    }
    return queryPage<AuditEntry>({
      client: this.client,
      input: {
        TableName: this.tableName,
        ...(byAgent ? { IndexName: GSI1 } : {}),
        KeyConditionExpression: `${pkName} = :pk${range}`,
        ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
        ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
      },
      // The cursor is only valid for the same tenant, range and filters it was issued for.
      scope: JSON.stringify([
        'audit',
        tenantId,
        from,
        to,
        query.type,
        query.agentId,
        query.actorId,
        query.actionId,
      ]),
      limit: query.limit,
      ...(query.cursor ? { cursor: query.cursor } : {}),
      map: toEntry,
    });
  }
}

function duplicate(item: Record<string, unknown>): ConflictError {
  return new ConflictError(
    `Audit entry ${String(item.id)} is already in the log; entries are never overwritten`,
    {
      id: item.id,
    },
  );
}
