import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Policy, PolicyRepository } from '../../domain/actions/model';
import { ConflictError, ValidationError } from '../../domain/shared/errors';
import { isConditionFailure, itemAtFailure, withoutKeys } from './conditions';
import type { TableClient } from './document-client';

/**
 * The tenant's action policy: one item per tenant, replaced whole on every change.
 *   policy  pk = T#<tenantId>  sk = POLICY   (absent: the defaults apply)
 * Versioned: version n is written only over version n - 1 (version 1 only where there is none),
 * so two admins editing from the same version cannot both win.
 */
const policyKey = (tenantId: string) => ({ pk: `T#${tenantId}`, sk: 'POLICY' });

export class DynamoPolicyRepository implements PolicyRepository {
  constructor(
    private readonly client: TableClient,
    private readonly tableName: string,
  ) {}

  async get(tenantId: string): Promise<Policy | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: policyKey(tenantId), ConsistentRead: true }),
    );
    return Item ? withoutKeys<Policy>(Item) : undefined;
  }

  async put(policy: Policy): Promise<void> {
    if (!Number.isInteger(policy.version) || policy.version < 1) {
      throw ValidationError.forField('body.version', 'must be a positive integer');
    }
    const previous = policy.version - 1;
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...policyKey(policy.tenantId), entity: 'policy', ...policy },
          ...(previous === 0
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: '#version = :previous',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':previous': previous },
              }),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const current = itemAtFailure(error);
      const currentVersion = typeof current?.version === 'number' ? current.version : 0;
      throw new ConflictError(
        `The policy was changed by someone else (now version ${currentVersion}); re-read it and retry`,
        { currentVersion },
      );
    }
  }
}
