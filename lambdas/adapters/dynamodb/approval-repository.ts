import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type {
  Approval,
  ApprovalListFilter,
  ApprovalRepository,
  ApprovalStatus,
} from '../../domain/approvals/model';
import { ConflictError } from '../../domain/shared/errors';
import type { Page } from '../../domain/shared/pagination';
import { isConditionFailure, withoutKeys } from './conditions';
import type { TableClient } from './document-client';
import { queryAll, queryPage } from './pagination';
import { newestFirstQuery, refusedStatus } from './status-index';

/**
 * Approval requests.
 *   approval  pk = T#<tenantId>#APPROVALS               sk = <approvalId>   (ULID: newest last)
 *             gsi1pk = T#<tenantId>#APPROVALS#<status>  gsi1sk = <approvalId>
 *
 * As with actions, the base table lists everything newest first and gsi1 partitions by current
 * status, so "pending" (the inbox, the emergency stop) is a Query of the pending ones only;
 * `decide` moves `gsi1pk` in the same conditional write that moves `status`.
 *
 * Two attributes are stored differently from the domain object:
 *  - `taskToken` (the Step Functions token that resumes the waiting workflow) is stored on the
 *    item but never leaves this module except through `taskToken()`: whoever holds it can
 *    resume the workflow, so it must not reach API responses or logs by way of `get`/`list`.
 *  - the approval's `expiresAt` (an ISO instant: when the workflow expires it) is stored as
 *    `expiresAtIso`, because `expiresAt` is the table's TTL attribute; a deadline stored there
 *    would be a trap for anyone later putting an epoch number in it.
 */
const approvalsPartition = (tenantId: string) => `T#${tenantId}#APPROVALS`;
const approvalKey = (tenantId: string, approvalId: string) => ({
  pk: approvalsPartition(tenantId),
  sk: approvalId,
});
const statusIndexPk = (tenantId: string, status: ApprovalStatus) => `T#${tenantId}#APPROVALS#${status}`;

function toApproval(item: Record<string, unknown>): Approval {
  const {
    taskToken: _token,
    expiresAtIso,
    ...rest
  } = withoutKeys<Omit<Approval, 'expiresAt'> & { taskToken?: string; expiresAtIso: string }>(item);
  // DynamoDB returns attributes in no particular order; lead with the ones people look for.
  const { id, tenantId, actionId, agentId, status, ...details } = rest;
  return { id, tenantId, actionId, agentId, status, ...details, expiresAt: expiresAtIso };
}

export class DynamoApprovalRepository implements ApprovalRepository {
  constructor(
    private readonly client: TableClient,
    private readonly tableName: string,
  ) {}

  async create(approval: Approval): Promise<void> {
    const { expiresAt, ...rest } = approval;
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...approvalKey(approval.tenantId, approval.id),
            gsi1pk: statusIndexPk(approval.tenantId, approval.status),
            gsi1sk: approval.id,
            entity: 'approval',
            ...rest,
            expiresAtIso: expiresAt,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new ConflictError(`Approval ${approval.id} already exists`);
      throw error;
    }
  }

  async get(tenantId: string, approvalId: string): Promise<Approval | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: approvalKey(tenantId, approvalId),
        ConsistentRead: true,
      }),
    );
    return Item ? toApproval(Item) : undefined;
  }

  list(tenantId: string, filter: ApprovalListFilter): Promise<Page<Approval>> {
    const query = newestFirstQuery(
      this.tableName,
      filter.status
        ? { gsi1pk: statusIndexPk(tenantId, filter.status) }
        : { pk: approvalsPartition(tenantId) },
    );
    const locations = filter.locationIds;
    return queryPage<Approval>({
      client: this.client,
      input: locations
        ? {
            ...query,
            // A location-limited reader sees the approvals at their locations only (none without one).
            FilterExpression: `locationId IN (${locations.map((_, n) => `:loc${n}`).join(', ')})`,
            ExpressionAttributeValues: {
              ...query.ExpressionAttributeValues,
              ...Object.fromEntries(locations.map((id, n) => [`:loc${n}`, id])),
            },
          }
        : query,
      scope: JSON.stringify(['approvals', tenantId, filter.status, locations]),
      limit: filter.limit,
      ...(filter.cursor ? { cursor: filter.cursor } : {}),
      map: toApproval,
    });
  }

  /** A Query of the pending partition (gsi1; see `listAllInStatus` of actions on consistency). */
  async listPending(tenantId: string, agentId?: string): Promise<Approval[]> {
    const items = await queryAll(
      this.client,
      newestFirstQuery(this.tableName, { gsi1pk: statusIndexPk(tenantId, 'pending') }, agentId),
    );
    return items.map(toApproval);
  }

  async attachTaskToken(
    tenantId: string,
    approvalId: string,
    taskToken: string,
    workflowExecutionId: string,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: approvalKey(tenantId, approvalId),
          UpdateExpression: 'SET taskToken = :token, workflowExecutionId = :execution',
          // Decided (or gone) already: the workflow is told so and does not wait on a token.
          ConditionExpression: 'attribute_exists(pk) AND #status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':token': taskToken,
            ':execution': workflowExecutionId,
            ':pending': 'pending',
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async taskToken(tenantId: string, approvalId: string): Promise<string | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: approvalKey(tenantId, approvalId),
        ProjectionExpression: 'taskToken',
        ConsistentRead: true,
      }),
    );
    return typeof Item?.taskToken === 'string' ? Item.taskToken : undefined;
  }

  async decide(
    tenantId: string,
    approvalId: string,
    to: Exclude<ApprovalStatus, 'pending'>,
    by: { readonly userId: string; readonly at: string; readonly comment?: string },
  ): Promise<{ approval: Approval } | { refusedFrom: ApprovalStatus | 'missing' }> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: approvalKey(tenantId, approvalId),
          UpdateExpression: `SET #status = :to, gsi1pk = :gsi1pk, decidedBy = :by, decidedAt = :at, updatedAt = :at${
            by.comment === undefined ? '' : ', #comment = :comment'
          }`,
          // The one place approve and reject race: exactly one write finds it still pending.
          ConditionExpression: 'attribute_exists(pk) AND #status = :pending',
          ExpressionAttributeNames: {
            '#status': 'status',
            ...(by.comment === undefined ? {} : { '#comment': 'comment' }),
          },
          ExpressionAttributeValues: {
            ':to': to,
            ':gsi1pk': statusIndexPk(tenantId, to),
            ':by': by.userId,
            ':at': by.at,
            ':pending': 'pending',
            ...(by.comment === undefined ? {} : { ':comment': by.comment }),
          },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { approval: toApproval(Attributes ?? {}) };
    } catch (error) {
      return { refusedFrom: refusedStatus<ApprovalStatus>(error) };
    }
  }
}
