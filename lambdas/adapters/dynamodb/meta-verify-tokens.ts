import { createHash } from 'node:crypto';
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { MetaVerifyTokens, VerifyTokenOwner } from '../../domain/channels/meta-verify-tokens';

/**
 * The verify-token index of Meta's subscription handshake:
 *   pk = METAVERIFY#<sha256 hex of the token>  sk = <tenantId>#<agentId>#<channel>
 * Platform-level (no `T#` prefix). One item per channel holding the token (one Meta app's pages
 * usually share it), so removing one channel's leaves the others'. Only the hash is stored.
 */
export const metaVerifyTokenKey = (verifyToken: string) =>
  `METAVERIFY#${createHash('sha256').update(verifyToken, 'utf8').digest('hex')}`;

export class DynamoMetaVerifyTokens implements MetaVerifyTokens {
  constructor(
    private readonly client: Pick<DynamoDBDocumentClient, 'send'>,
    private readonly tableName: string,
  ) {}

  async add(verifyToken: string, owner: VerifyTokenOwner): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: metaVerifyTokenKey(verifyToken),
          sk: ownerKey(owner),
          entity: 'metaVerifyToken',
          ...owner,
        },
      }),
    );
  }

  async remove(verifyToken: string, owner: VerifyTokenOwner): Promise<void> {
    await this.client.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { pk: metaVerifyTokenKey(verifyToken), sk: ownerKey(owner) },
      }),
    );
  }

  async isKnown(verifyToken: string): Promise<boolean> {
    const { Items } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': metaVerifyTokenKey(verifyToken) },
        ProjectionExpression: 'pk',
        Limit: 1,
      }),
    );
    return (Items?.length ?? 0) > 0;
  }
}

const ownerKey = (owner: VerifyTokenOwner) => `${owner.tenantId}#${owner.agentId}#${owner.channel}`;
