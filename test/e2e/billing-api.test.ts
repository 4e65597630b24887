import { billingDeps, localEventBus } from '../../lambdas/adapters/billing-composition';
import { debit, suspendTenant } from '../../lambdas/domain/billing/billing';
import { dayOf, periodOf } from '../../lambdas/domain/billing/calendar';
import { type ApiClient, registerTenant, startApi, userWithRole } from '../support/api';

let api: ApiClient;
let owner: Awaited<ReturnType<typeof registerTenant>>;
let other: Awaited<ReturnType<typeof registerTenant>>;

beforeAll(async () => {
  api = await startApi();
  owner = await registerTenant(api, 'Billing A');
  other = await registerTenant(api, 'Billing B');
}, 60_000);
afterAll(() => api.platform.stop());

const add = (token: string, body: unknown, key?: string) =>
  api.request('POST', '/v1/tokens/add', {
    token,
    body,
    ...(key === undefined ? {} : { headers: { 'idempotency-key': key } }),
  });

describe('balance and costs', () => {
  it('starts a tenant at zero, active, with the default low-balance threshold', async () => {
    const response = await api.request('GET', '/v1/tokens/balance', { token: other.token });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      tenantId: other.tenantId,
      available: 0,
      reserved: 0,
      lowBalanceThreshold: 20,
      tenantStatus: 'active',
    });
  });

  it('lists the cost table to every role', async () => {
    const member = await userWithRole(api, owner.token, 'member');
    const response = await api.request('GET', '/v1/tokens/costs', { token: member.token });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      whatsappConversation: 10,
      sms: 1,
      email: 1,
      call: 50,
      llmCall: 1,
      monthlyFee: 200,
      resource: 0,
      booking: 2,
      payment: 5,
      coordination: 0,
    });
  });
});

describe('POST /v1/tokens/add', () => {
  it('adds tokens once per Idempotency-Key and replays the first result', async () => {
    const first = await add(owner.token, { amount: 500, type: 'purchase', reference: 'inv-1' }, 'buy-1');
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      entry: { type: 'purchase', amount: 500, availableAfter: 500, reference: 'inv-1', actor: owner.ownerId },
      balance: { available: 500, reserved: 0 },
      tenantStatus: 'active',
      replayed: false,
      reactivated: false,
    });
    expect(first.body.entry.id).toMatch(/^led_/);
    const again = await add(owner.token, { amount: 500, type: 'purchase', reference: 'inv-1' }, 'buy-1');
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toMatchObject({
      entry: first.body.entry,
      replayed: true,
      balance: { available: 500 },
    });
    const reused = await add(owner.token, { amount: 5000, type: 'purchase' }, 'buy-1');
    expect(reused.status).toBe(409);
    const credited = localEventBus.recent.filter(
      (e) => e.type === 'tokens.credited' && e.detail.tenantId === owner.tenantId,
    );
    expect(credited.map((e) => e.detail)).toEqual([
      expect.objectContaining({ amount: 500, availableAfter: 500, entryId: first.body.entry.id }),
    ]);
  });

  it('requires an Idempotency-Key and a valid body', async () => {
    const missing = await add(owner.token, { amount: 10, type: 'grant' });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.issues).toEqual([
      expect.objectContaining({ field: 'header.idempotency-key' }),
    ]);
    const bad = await add(owner.token, { amount: 0, type: 'refund', colour: 'red' }, 'bad-1');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues.map((i: { field: string }) => i.field).sort()).toEqual([
      'body.amount',
      'body.colour',
      'body.type',
    ]);
    const badKey = await add(owner.token, { amount: 1, type: 'grant' }, 'no spaces allowed');
    expect(badKey.status).toBe(400);
  });

  it('is for owners and admins only; coordinators read, members do not', async () => {
    const admin = await userWithRole(api, owner.token, 'admin');
    const coordinator = await userWithRole(api, owner.token, 'coordinator');
    const member = await userWithRole(api, owner.token, 'member');
    expect((await add(admin.token, { amount: 1, type: 'grant' }, 'admin-1')).status).toBe(201);
    expect((await add(coordinator.token, { amount: 1, type: 'grant' }, 'co-1')).status).toBe(403);
    expect((await add(member.token, { amount: 1, type: 'grant' }, 'member-1')).status).toBe(403);
    expect((await api.request('GET', '/v1/tokens/balance', { token: coordinator.token })).status).toBe(200);
    expect((await api.request('GET', '/v1/tokens/usage', { token: coordinator.token })).status).toBe(200);
    expect((await api.request('GET', '/v1/tokens/balance', { token: member.token })).status).toBe(403);
    expect((await api.request('GET', '/v1/tokens/usage', { token: member.token })).status).toBe(403);
  });
});

describe('GET /v1/tokens/usage', () => {
  it('lists entries newest first with a cursor and totals the whole range by agent, action and day', async () => {
    const tenant = await registerTenant(api, 'Usage');
    await add(tenant.token, { amount: 100, type: 'grant' }, 'seed');
    const deps = billingDeps();
    await debit(deps, tenant.tenantId, 10, { action: 'whatsappConversation', agentId: 'agt_a' }, 'u1', 'x');
    await debit(deps, tenant.tenantId, 1, { action: 'sms', agentId: 'agt_a' }, 'u2', 'x');
    await debit(deps, tenant.tenantId, 1, { action: 'llmCall', agentId: 'agt_b' }, 'u3', 'x');

    const page = await api.request('GET', '/v1/tokens/usage?limit=2', { token: tenant.token });
    expect(page.status).toBe(200);
    const today = dayOf(new Date());
    expect(page.body).toMatchObject({
      to: today,
      totals: {
        charged: 12,
        credited: 100,
        byAgent: { agt_a: 11, agt_b: 1 },
        byAction: { whatsappConversation: 10, sms: 1, llmCall: 1 },
        byDay: [{ day: today, charged: 12, credited: 100 }],
      },
    });
    expect(page.body.items.map((e: { idempotencyKey: string }) => e.idempotencyKey)).toEqual(['u3', 'u2']);
    const rest = await api.request(
      'GET',
      `/v1/tokens/usage?limit=2&cursor=${encodeURIComponent(page.body.nextCursor)}`,
      { token: tenant.token },
    );
    expect(rest.body.items.map((e: { idempotencyKey: string }) => e.idempotencyKey)).toEqual(['u1', 'seed']);
    // DynamoDB cannot tell a full last page from a page with more behind it: one more, empty.
    if (rest.body.nextCursor) {
      const end = await api.request(
        'GET',
        `/v1/tokens/usage?limit=2&cursor=${encodeURIComponent(rest.body.nextCursor)}`,
        { token: tenant.token },
      );
      expect(end.body).toMatchObject({ items: [] });
      expect(end.body.nextCursor).toBeUndefined();
    }
  });

  it('validates the range and the cursor', async () => {
    for (const query of [
      'from=2026-13-01',
      'from=2026-05-02&to=2026-05-01',
      'from=2024-01-01&to=2026-01-01',
    ]) {
      const response = await api.request('GET', `/v1/tokens/usage?${query}`, { token: owner.token });
      expect({ query, status: response.status }).toEqual({ query, status: 400 });
    }
    const crafted = await api.request('GET', '/v1/tokens/usage?cursor=bm90LWEtY3Vyc29y', {
      token: owner.token,
    });
    expect(crafted.status).toBe(400);
  });
});

describe('tenant isolation', () => {
  it("never shows or replays another tenant's tokens", async () => {
    await add(owner.token, { amount: 7, type: 'grant' }, 'shared-key');
    // The same key in another tenant is that tenant's own key.
    const theirs = await add(other.token, { amount: 3, type: 'grant' }, 'shared-key');
    expect(theirs.body).toMatchObject({ replayed: false, balance: { available: 3 } });
    const usage = await api.request('GET', '/v1/tokens/usage', { token: other.token });
    expect(usage.body.items.every((e: { tenantId: string }) => e.tenantId === other.tenantId)).toBe(true);
    expect(usage.text).not.toContain(owner.tenantId);
    expect(usage.body.totals.credited).toBe(3);
    const balance = await api.request('GET', '/v1/tokens/balance', { token: other.token });
    expect(balance.body).toMatchObject({ tenantId: other.tenantId, available: 3 });
  });
});

describe('suspension over the API', () => {
  it('shows a suspended tenant, and a top-up that covers the fee reactivates it', async () => {
    const tenant = await registerTenant(api, 'Late payer');
    await add(tenant.token, { amount: 50, type: 'purchase' }, 'first');
    await suspendTenant(billingDeps(), tenant.tenantId, 'monthly_fee_unpaid', periodOf(new Date()));
    const suspended = await api.request('GET', '/v1/tokens/balance', { token: tenant.token });
    expect(suspended.body).toMatchObject({ available: 50, tenantStatus: 'suspended' });
    expect((await api.request('GET', '/v1/tenant', { token: tenant.token })).body.status).toBe('suspended');

    const topUp = await add(tenant.token, { amount: 200, type: 'purchase' }, 'second');
    expect(topUp.status).toBe(201);
    expect(topUp.body).toMatchObject({
      reactivated: true,
      tenantStatus: 'active',
      balance: { available: 50 },
    });
    const types = localEventBus.recent
      .filter((e) => e.detail.tenantId === tenant.tenantId)
      .map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(['tenant.suspended', 'tokens.credited', 'tokens.debited', 'tenant.reactivated']),
    );
  });
});

describe('PUT /v1/tokens/settings', () => {
  it('sets the low-balance threshold the balance.low event uses', async () => {
    const tenant = await registerTenant(api, 'Threshold Co');
    await add(tenant.token, { amount: 150, type: 'grant' }, 'threshold-grant');
    const set = await api.request('PUT', '/v1/tokens/settings', {
      token: tenant.token,
      body: { lowBalanceThreshold: 100 },
    });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ available: 150, lowBalanceThreshold: 100 });
    await debit(billingDeps(), tenant.tenantId, 60, { action: 'call' }, 'threshold-debit', 'test');
    await new Promise((resolve) => setImmediate(resolve));
    const low = localEventBus.recent.filter(
      (event) => event.type === 'balance.low' && event.detail.tenantId === tenant.tenantId,
    );
    expect(low.map((event) => event.detail)).toEqual([
      { tenantId: tenant.tenantId, available: 90, threshold: 100 },
    ]);
    const bad = await api.request('PUT', '/v1/tokens/settings', {
      token: tenant.token,
      body: { lowBalanceThreshold: -1 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].field).toBe('body.lowBalanceThreshold');
    const member = await userWithRole(api, tenant.token, 'member');
    const forbidden = await api.request('PUT', '/v1/tokens/settings', {
      token: member.token,
      body: { lowBalanceThreshold: 5 },
    });
    expect(forbidden.status).toBe(403);
  });
});
