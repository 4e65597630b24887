import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoRateLimitRepository } from '../../lambdas/adapters/dynamodb/rate-limit-repository';
import { DynamoTenantRepository } from '../../lambdas/adapters/dynamodb/tenant-repository';
import {
  admitTurn,
  clearTenantRateLimits,
  getTenantRateLimits,
  type RateLimitDeps,
  setTenantRateLimits,
} from '../../lambdas/domain/runtime/rate-limits';
import { NotFoundError, RateLimitedError } from '../../lambdas/domain/shared/errors';
import { newId } from '../../lambdas/domain/shared/ids';
import { freshTable } from '../support/dynamodb';
import { seedTenant } from '../support/tenants';

/** Issue 9, item 14: per-tenant and per-agent turn limits, one conditional write per turn. */
let table: Awaited<ReturnType<typeof freshTable>>;
let tenants: DynamoTenantRepository;

beforeAll(async () => {
  table = await freshTable();
  tenants = new DynamoTenantRepository(table.client, table.tableName);
});

/** 12:00:45 UTC: 15 s before the window ends. */
const AT = new Date('2026-03-10T12:00:45.200Z');

function depsAt(
  clock: { now: Date },
  defaults = { turnsPerMinute: 3, agentTurnsPerMinute: 2 },
  repository = new DynamoRateLimitRepository(table.client, table.tableName),
) {
  const deps: RateLimitDeps & { tenants: DynamoTenantRepository } = {
    rateLimits: repository,
    defaults,
    now: () => clock.now,
    tenants,
  };
  return deps;
}

async function refusal(attempt: Promise<unknown>): Promise<RateLimitedError> {
  const error = await attempt.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(RateLimitedError);
  return error as RateLimitedError;
}

describe('admitTurn', () => {
  it('holds each agent to its limit and the tenant to its own, and says when to retry', async () => {
    const tenantId = newId('tenant');
    const deps = depsAt({ now: AT });
    const [agentA, agentB] = [newId('agent'), newId('agent')];
    await admitTurn(deps, tenantId, agentA);
    await admitTurn(deps, tenantId, agentA);
    const agentFull = await refusal(admitTurn(deps, tenantId, agentA));
    expect(agentFull.statusCode).toBe(429);
    expect(agentFull.retryAfterSeconds).toBe(15);
    expect(agentFull.details).toMatchObject({ limit: 'agent', turnsPerMinute: 2, retryAfterSeconds: 15 });
    expect(agentFull.message).toContain(agentA);

    await admitTurn(deps, tenantId, agentB); // the tenant's third turn
    const tenantFull = await refusal(admitTurn(deps, tenantId, agentB));
    expect(tenantFull.details).toMatchObject({ limit: 'tenant', turnsPerMinute: 3 });

    // Refused turns counted nothing: the window holds exactly the admitted ones.
    const { Items = [] } = await table.client.send(
      new QueryCommand({
        TableName: table.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :turns)',
        ExpressionAttributeValues: { ':pk': `T#${tenantId}`, ':turns': 'TURNS#' },
      }),
    );
    expect(Items).toHaveLength(1);
    expect(Items[0]).toMatchObject({
      sk: 'TURNS#2026-03-10T12:00',
      turns: 3,
      [`agent#${agentA}`]: 2,
      [`agent#${agentB}`]: 1,
    });
    // TTL a few minutes after the window's end.
    expect(Items[0]?.expiresAt).toBe(Date.parse('2026-03-10T12:01:00Z') / 1000 + 300);

    // The next minute is a new window.
    await admitTurn(depsAt({ now: new Date('2026-03-10T12:01:00.000Z') }), tenantId, agentA);
  });

  it('never admits more than the limit, however many turns race for it', async () => {
    const tenantId = newId('tenant');
    const deps = depsAt({ now: AT }, { turnsPerMinute: 5, agentTurnsPerMinute: 5 });
    const agents = Array.from({ length: 4 }, () => newId('agent'));
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => admitTurn(deps, tenantId, agents[i % agents.length] as string)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    for (const result of results) {
      if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(RateLimitedError);
    }
  });

  it('keeps tenants apart', async () => {
    const deps = depsAt({ now: AT }, { turnsPerMinute: 1, agentTurnsPerMinute: 1 });
    const agent = newId('agent');
    await admitTurn(deps, newId('tenant'), agent);
    await admitTurn(deps, newId('tenant'), agent);
  });
});

describe('the operator’s per-tenant limits', () => {
  it('override the environment’s from the next turn on, and can be cleared again', async () => {
    const { tenantId } = await seedTenant(tenants);
    const clock = { now: AT };
    const deps = depsAt(clock);
    expect(await getTenantRateLimits(deps, tenantId)).toEqual({
      tenantId,
      turnsPerMinute: 3,
      agentTurnsPerMinute: 2,
      source: 'default',
    });
    const agent = newId('agent');
    await admitTurn(deps, tenantId, agent);
    await admitTurn(deps, tenantId, agent);
    await refusal(admitTurn(deps, tenantId, agent));

    const raised = await setTenantRateLimits(deps, { id: 'operator-1' }, tenantId, {
      turnsPerMinute: 50,
      agentTurnsPerMinute: 10,
    });
    expect(raised).toEqual({
      tenantId,
      turnsPerMinute: 50,
      agentTurnsPerMinute: 10,
      source: 'override',
      updatedAt: AT.toISOString(),
      updatedBy: 'operator-1',
    });
    await admitTurn(deps, tenantId, agent); // the agent's third turn this minute, now allowed

    const { Item } = await table.client.send(
      new GetCommand({ TableName: table.tableName, Key: { pk: `T#${tenantId}`, sk: 'RATE_LIMITS' } }),
    );
    expect(Item).toMatchObject({ turnsPerMinute: 50, agentTurnsPerMinute: 10, updatedBy: 'operator-1' });

    expect(await clearTenantRateLimits(deps, tenantId)).toMatchObject({
      source: 'default',
      turnsPerMinute: 3,
    });
    await refusal(admitTurn(deps, tenantId, agent));
  });

  it('reach other processes within the override cache time', async () => {
    const { tenantId } = await seedTenant(tenants);
    let clockMs = AT.getTime();
    const other = new DynamoRateLimitRepository(table.client, table.tableName, {
      overrideCacheMs: 30_000,
      now: () => clockMs,
    });
    expect(await other.getOverride(tenantId)).toBeUndefined();
    await setTenantRateLimits(depsAt({ now: AT }), { id: 'op' }, tenantId, {
      turnsPerMinute: 9,
      agentTurnsPerMinute: 9,
    });
    expect(await other.getOverride(tenantId)).toBeUndefined(); // cached absence
    clockMs += 30_001;
    expect(await other.getOverride(tenantId)).toMatchObject({ turnsPerMinute: 9 });
  });

  it('refuse an unknown tenant with 404', async () => {
    const deps = depsAt({ now: AT });
    await expect(
      setTenantRateLimits(deps, { id: 'op' }, newId('tenant'), { turnsPerMinute: 5, agentTurnsPerMinute: 5 }),
    ).rejects.toThrow(NotFoundError);
  });
});
