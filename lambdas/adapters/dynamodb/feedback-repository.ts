import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { AgentFeedback, FeedbackStore } from '../../domain/realtime/ports';
import { ConflictError } from '../../domain/shared/errors';
import { agentCountersKey } from './agent-repository';
import type { TableClient } from './document-client';

/**
 * Feedback on an agent's message, one per (message, author), beside the conversation's messages:
 *   feedback  pk = T#<tenantId>#CONV#<conversationId>  sk = FEEDBACK#<messageId>#<author>
 * and counted on the agent's counters (`feedbackUp`, `feedbackDown`) in the same transaction; a
 * changed rating moves one count to the other, the same rating again counts nothing.
 */
export class DynamoFeedbackStore implements FeedbackStore {
  constructor(
    private readonly client: TableClient,
    private readonly tableName: string,
  ) {}

  async record(feedback: AgentFeedback): Promise<void> {
    const key = {
      pk: `T#${feedback.tenantId}#CONV#${feedback.conversationId}`,
      sk: `FEEDBACK#${feedback.messageId}#${feedback.by}`,
    };
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
      );
      const previous = Item?.rating as 'up' | 'down' | undefined;
      const counts: Record<string, number> = {};
      if (previous !== feedback.rating) {
        counts[feedback.rating === 'up' ? 'feedbackUp' : 'feedbackDown'] = 1;
        if (previous) counts[previous === 'up' ? 'feedbackUp' : 'feedbackDown'] = -1;
      }
      const names = Object.keys(counts);
      try {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.tableName,
                  Item: { ...key, ...feedback },
                  // Whatever was read is still there: two clicks at once cannot both count.
                  ...(previous
                    ? {
                        ConditionExpression: 'rating = :previous',
                        ExpressionAttributeValues: { ':previous': previous },
                      }
                    : { ConditionExpression: 'attribute_not_exists(pk)' }),
                },
              },
              ...(names.length > 0
                ? [
                    {
                      Update: {
                        TableName: this.tableName,
                        Key: agentCountersKey(feedback.tenantId, feedback.agentId),
                        UpdateExpression: `ADD ${names.map((_, i) => `#c${i} :c${i}`).join(', ')}`,
                        ExpressionAttributeNames: Object.fromEntries(
                          names.map((name, i) => [`#c${i}`, name]),
                        ),
                        ExpressionAttributeValues: Object.fromEntries(
                          names.map((name, i) => [`:c${i}`, counts[name]]),
                        ),
                      },
                    },
                  ]
                : []),
            ],
          }),
        );
        return;
      } catch (error) {
        if ((error as { name?: string }).name !== 'TransactionCanceledException') throw error;
      }
    }
    throw new ConflictError('The feedback changed meanwhile; send it again');
  }
}
