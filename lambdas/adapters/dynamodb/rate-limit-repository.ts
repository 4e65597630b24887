import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type {
  RateLimitOverride,
  RateLimitRepository,
  TurnCount,
  TurnRateLimits,
} from '../../domain/runtime/rate-limits';
import { isConditionFailure, itemAtFailure } from './conditions';
import type { TableClient } from './document-client';

/**
 * Turn rate limits.
 *   override  pk = T#<tenantId>  sk = RATE_LIMITS          the operator's limits for the tenant
 *   window    pk = T#<tenantId>  sk = TURNS#<window start, ISO minute>
 *             turns = the tenant's turns in the window; `agent#<agentId>` = that agent's;
 *             expiresAt = TTL, a few minutes after the window ends
 * One window item holds both counts, so a turn is admitted with one conditional UpdateItem that
 * adds 1 to both, on the condition that neither has reached its limit. Its size grows by about
 * 30 bytes per agent that ran in the minute: up to ~25 agents a write costs 1 WCU.
 */
const overrideKey = (tenantId: string) => ({ pk: `T#${tenantId}`, sk: 'RATE_LIMITS' });
const windowKey = (tenantId: string, start: Date) => ({
  pk: `T#${tenantId}`,
  sk: `TURNS#${start.toISOString().slice(0, 16)}`,
});
/** Window items outlive their window a little: TTL deletes lazily, and a late reader sees a count. */
const WINDOW_TTL_MARGIN_SECONDS = 300;

export interface RateLimitRepositoryOptions {
  /**
   * How long this process keeps a tenant's override (or its absence) before reading it again: a
   * change by the operator applies within this time everywhere, at once in this process. 0 reads
   * it on every turn.
   */
  readonly overrideCacheMs?: number;
  readonly now?: () => number;
}

export class DynamoRateLimitRepository implements RateLimitRepository {
  private readonly overrides = new Map<string, { value: RateLimitOverride | undefined; until: number }>();
  private readonly overrideCacheMs: number;
  private readonly now: () => number;

  constructor(
    private readonly client: TableClient,
    private readonly tableName: string,
    options: RateLimitRepositoryOptions = {},
  ) {
    this.overrideCacheMs = options.overrideCacheMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  async getOverride(tenantId: string): Promise<RateLimitOverride | undefined> {
    const cached = this.overrides.get(tenantId);
    if (cached && cached.until > this.now()) return cached.value;
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: overrideKey(tenantId) }),
    );
    const value = Item
      ? {
          turnsPerMinute: Number(Item.turnsPerMinute),
          agentTurnsPerMinute: Number(Item.agentTurnsPerMinute),
          updatedAt: String(Item.updatedAt),
          updatedBy: String(Item.updatedBy),
        }
      : undefined;
    if (this.overrideCacheMs > 0) {
      // Bounded: a process that has seen very many tenants starts over rather than grow.
      if (this.overrides.size >= 10_000) this.overrides.clear();
      this.overrides.set(tenantId, { value, until: this.now() + this.overrideCacheMs });
    }
    return value;
  }

  async setOverride(tenantId: string, override: RateLimitOverride): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...overrideKey(tenantId), entity: 'rateLimits', tenantId, ...override },
      }),
    );
    this.overrides.delete(tenantId);
  }

  async clearOverride(tenantId: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: overrideKey(tenantId) }));
    this.overrides.delete(tenantId);
  }

  async countTurn(
    tenantId: string,
    agentId: string,
    window: { readonly start: Date; readonly seconds: number },
    limits: TurnRateLimits,
  ): Promise<TurnCount> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: windowKey(tenantId, window.start),
          UpdateExpression:
            'ADD turns :one, #agent :one SET expiresAt = if_not_exists(expiresAt, :expiresAt)',
          ConditionExpression:
            '(attribute_not_exists(turns) OR turns < :tenantLimit) AND ' +
            '(attribute_not_exists(#agent) OR #agent < :agentLimit)',
          ExpressionAttributeNames: { '#agent': `agent#${agentId}` },
          ExpressionAttributeValues: {
            ':one': 1,
            ':tenantLimit': limits.turnsPerMinute,
            ':agentLimit': limits.agentTurnsPerMinute,
            ':expiresAt':
              Math.floor(window.start.getTime() / 1000) + window.seconds + WINDOW_TTL_MARGIN_SECONDS,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { admitted: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const counts = itemAtFailure(error) ?? {};
      const tenantFull = Number(counts.turns ?? 0) >= limits.turnsPerMinute;
      return { admitted: false, limit: tenantFull ? 'tenant' : 'agent' };
    }
  }
}
