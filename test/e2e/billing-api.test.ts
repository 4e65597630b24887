import { localOutbox } from '../../lambdas/adapters/local/local-outbox';
import { billingDeps, localEventBus } from '../../lambdas/composition/billing';
import { inTenantScope } from '../../lambdas/composition/tenant-scope';
import { ProviderError } from '../../lambdas/domain/actions/ports';
import { debit, suspendTenant } from '../../lambdas/domain/billing/billing';
import { dayOf, periodOf } from '../../lambdas/domain/billing/calendar';
import { type ApiClient, operatorToken, registerTenant, startApi, userWithRole } from '../support/api';

let api: ApiClient;
let owner: Awaited<ReturnType<typeof registerTenant>>;
let other: Awaited<ReturnType<typeof registerTenant>>;

beforeAll(async () => {
  api = await startApi();
  owner = await registerTenant(api, 'Billing A');
  other = await registerTenant(api, 'Billing B');
}, 60_000);
afterAll(() => api.platform.stop());

const buy = (token: string, amount: unknown, key?: string) =>
  api.request('POST', '/v1/tokens/purchase', {
    token,
    body: { amount },
    ...(key === undefined ? {} : { headers: { 'idempotency-key': key } }),
  });

const grant = (token: string, tenantId: string, body: unknown, key?: string) =>
  api.request('POST', `/v1/operator/tenants/${tenantId}/tokens`, {
    token,
    body,
    ...(key === undefined ? {} : { headers: { 'idempotency-key': key } }),
  });

const ledgerOf = async (token: string) =>
  (await api.request('GET', '/v1/tokens/usage', { token })).body.items as Record<string, unknown>[];

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

describe('nobody mints tokens (issue 9, item 3)', () => {
  it('has no tenant route that adds tokens without a payment: the old /v1/tokens/add is gone', async () => {
    const tenant = await registerTenant(api, 'Would-be minter');
    const minted = await api.requestUndocumented('the removed minting route', 'POST', '/v1/tokens/add', {
      token: tenant.token,
      body: { type: 'purchase', amount: 10_000_000 },
      headers: { 'idempotency-key': 'mint-1' },
    });
    expect(minted.status).toBe(404);
    // Nor may a tenant role use the operator's grant, even on its own tenant.
    const admin = await userWithRole(api, tenant.token, 'admin');
    for (const token of [tenant.token, admin.token]) {
      const granted = await grant(
        token,
        tenant.tenantId,
        { type: 'grant', amount: 10_000_000, reason: 'free money' },
        'mint-2',
      );
      expect(granted.status).toBe(403);
    }
    const balance = await api.request('GET', '/v1/tokens/balance', { token: tenant.token });
    expect(balance.body).toMatchObject({ available: 0 });
    expect(await ledgerOf(tenant.token)).toEqual([]);
  });
});

describe('POST /v1/webhooks/stripe', () => {
  it('is not there while Stripe is not the payment provider (local mode)', async () => {
    const body = JSON.stringify({ type: 'payment_intent.succeeded', data: { object: { id: 'pi_1' } } });
    const response = await api.request('POST', '/v1/webhooks/stripe', {
      rawBody: body,
      headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' },
    });
    expect(response.status).toBe(404);
  });
});

describe('POST /v1/tokens/purchase', () => {
  it('charges the local payment provider, credits once it succeeded, once per Idempotency-Key', async () => {
    const first = await buy(owner.token, 500, 'buy-1');
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      purchase: {
        tenantId: owner.tenantId,
        tokens: 500,
        amountMinor: 500,
        currency: 'USD',
        status: 'succeeded',
        provider: 'local-payments',
        createdBy: owner.ownerId,
      },
      balance: { available: 500, reserved: 0 },
      tenantStatus: 'active',
      replayed: false,
    });
    const { purchase } = first.body;
    expect(purchase.id).toMatch(/^pur_/);
    // The provider took the money (the local provider records it in the outbox)...
    const charges = localOutbox.list(owner.tenantId, { limit: 10, kind: 'payment' }).items;
    expect(charges).toEqual([
      expect.objectContaining({ id: purchase.paymentId, amountMinor: 500, currency: 'USD' }),
    ]);
    // ...and the ledger says which payment paid for the tokens.
    const [entry] = await ledgerOf(owner.token);
    expect(entry).toMatchObject({
      id: purchase.entryId,
      type: 'purchase',
      amount: 500,
      reference: purchase.paymentId,
      actor: owner.ownerId,
    });

    const again = await buy(owner.token, 500, 'buy-1');
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toMatchObject({ purchase: { id: purchase.id, status: 'succeeded' }, replayed: true });
    expect(again.body.balance.available).toBe(500);
    expect(localOutbox.list(owner.tenantId, { limit: 10, kind: 'payment' }).items).toHaveLength(1);
    const reused = await buy(owner.token, 5000, 'buy-1');
    expect(reused.status).toBe(409);
    const credited = localEventBus.recent.filter(
      (e) => e.type === 'tokens.credited' && e.detail.tenantId === owner.tenantId,
    );
    expect(credited.map((e) => e.detail)).toEqual([
      expect.objectContaining({ amount: 500, availableAfter: 500, entryId: purchase.entryId }),
    ]);
    const read = await api.request('GET', `/v1/tokens/purchases/${purchase.id}`, { token: owner.token });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(first.body.purchase);
  });

  it('credits nothing when the provider declines, and the same key does not charge again', async () => {
    const tenant = await registerTenant(api, 'Declined');
    localOutbox.failNext(
      'payment',
      new ProviderError('local-payments', false, 'card declined', 'card_declined'),
    );
    const declined = await buy(tenant.token, 300, 'declined-1');
    expect(declined.status).toBe(402);
    expect(declined.body.error).toMatchObject({ code: 'PAYMENT_FAILED' });
    const purchaseId = declined.body.error.details.purchaseId;
    const read = await api.request('GET', `/v1/tokens/purchases/${purchaseId}`, { token: tenant.token });
    expect(read.body).toMatchObject({ status: 'failed', failureReason: 'local-payments: card declined' });
    expect(read.body.entryId).toBeUndefined();
    const replay = await buy(tenant.token, 300, 'declined-1');
    expect(replay.status).toBe(402);
    expect(localOutbox.list(tenant.tenantId, { limit: 10, kind: 'payment' }).items).toEqual([]);
    expect((await api.request('GET', '/v1/tokens/balance', { token: tenant.token })).body.available).toBe(0);
    expect(await ledgerOf(tenant.token)).toEqual([]);
  });

  it('leaves the purchase pending when the provider cannot be reached; the same key then pays it once', async () => {
    const tenant = await registerTenant(api, 'Flaky provider');
    localOutbox.failNext('payment', new ProviderError('local-payments', true, 'timed out'));
    const failed = await buy(tenant.token, 40, 'flaky-1');
    expect(failed.status).toBe(502);
    expect((await api.request('GET', '/v1/tokens/balance', { token: tenant.token })).body.available).toBe(0);
    const retried = await buy(tenant.token, 40, 'flaky-1');
    expect(retried.status).toBe(201);
    expect(retried.body).toMatchObject({ purchase: { status: 'succeeded' }, balance: { available: 40 } });
    expect(await ledgerOf(tenant.token)).toHaveLength(1);
  });

  it('requires an Idempotency-Key and a valid body', async () => {
    const missing = await buy(owner.token, 10);
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.issues).toEqual([
      expect.objectContaining({ field: 'header.idempotency-key' }),
    ]);
    for (const amount of [0, -5, 1.5, '10', 10_000_001]) {
      const bad = await buy(owner.token, amount, `bad-${String(amount)}`);
      expect({ amount, status: bad.status, field: bad.body.error.details.issues[0].field }).toEqual({
        amount,
        status: 400,
        field: 'body.amount',
      });
    }
    const extra = await api.request('POST', '/v1/tokens/purchase', {
      token: owner.token,
      body: { amount: 1, type: 'grant' },
      headers: { 'idempotency-key': 'extra-1' },
    });
    expect(extra.status).toBe(400);
    expect(extra.body.error.details.issues[0].field).toBe('body.type');
    const badKey = await buy(owner.token, 1, 'no spaces allowed');
    expect(badKey.status).toBe(400);
  });

  it('is for owners and admins only; coordinators read, members do not', async () => {
    const admin = await userWithRole(api, owner.token, 'admin');
    const coordinator = await userWithRole(api, owner.token, 'coordinator');
    const member = await userWithRole(api, owner.token, 'member');
    expect((await buy(admin.token, 1, 'admin-1')).status).toBe(201);
    expect((await buy(coordinator.token, 1, 'co-1')).status).toBe(403);
    expect((await buy(member.token, 1, 'member-1')).status).toBe(403);
    expect((await api.request('GET', '/v1/tokens/balance', { token: coordinator.token })).status).toBe(200);
    expect((await api.request('GET', '/v1/tokens/usage', { token: coordinator.token })).status).toBe(200);
    expect((await api.request('GET', '/v1/tokens/balance', { token: member.token })).status).toBe(403);
    expect((await api.request('GET', '/v1/tokens/usage', { token: member.token })).status).toBe(403);
  });
});

describe('platform operator', () => {
  let operator: string;
  beforeAll(async () => {
    operator = await operatorToken(api);
  });

  it('grants tokens with a reason, recorded in the ledger and the audit log with the operator as actor', async () => {
    const tenant = await registerTenant(api, 'Granted');
    const granted = await grant(
      operator,
      tenant.tenantId,
      { type: 'grant', amount: 250, reason: 'Onboarding credit, ticket 42' },
      'grant-1',
    );
    expect(granted.status).toBe(201);
    expect(granted.body).toMatchObject({
      entry: {
        tenantId: tenant.tenantId,
        type: 'grant',
        amount: 250,
        reason: 'Onboarding credit, ticket 42',
        actor: 'operator:local-operator',
      },
      balance: { available: 250 },
      replayed: false,
    });
    const replay = await grant(
      operator,
      tenant.tenantId,
      { type: 'grant', amount: 250, reason: 'Onboarding credit, ticket 42' },
      'grant-1',
    );
    expect(replay.body).toMatchObject({ replayed: true, balance: { available: 250 } });
    expect(await ledgerOf(tenant.token)).toEqual([
      expect.objectContaining({ type: 'grant', actor: 'operator:local-operator', amount: 250 }),
    ]);
    const audit = await api.request('GET', '/v1/audit?type=admin.change', { token: tenant.token });
    // Both calls are in the tenant's audit log (the replay credited nothing, but it was made).
    const byOperator = expect.objectContaining({
      actor: { kind: 'operator', id: 'operator:local-operator' },
      outcome: '201',
      details: expect.objectContaining({ route: 'POST /v1/operator/tenants/{tenantId}/tokens' }),
    });
    expect(audit.body.items).toEqual([byOperator, byOperator]);
    const balance = await api.request('GET', `/v1/operator/tenants/${tenant.tenantId}/tokens/balance`, {
      token: operator,
    });
    expect(balance.body).toMatchObject({ tenantId: tenant.tenantId, available: 250, tenantStatus: 'active' });
  });

  it('adjusts a balance down, never below zero, and refuses a negative grant', async () => {
    const tenant = await registerTenant(api, 'Adjusted');
    await grant(operator, tenant.tenantId, { type: 'grant', amount: 100, reason: 'seed' }, 'adj-seed');
    const down = await grant(
      operator,
      tenant.tenantId,
      { type: 'adjustment', amount: -60, reason: 'double credit' },
      'adj-1',
    );
    expect(down.status).toBe(201);
    expect(down.body).toMatchObject({
      entry: { type: 'adjustment', amount: -60 },
      balance: { available: 40 },
    });
    const tooFar = await grant(
      operator,
      tenant.tenantId,
      { type: 'adjustment', amount: -41, reason: 'too much' },
      'adj-2',
    );
    expect(tooFar.status).toBe(400);
    expect(tooFar.body.error.details.issues[0].field).toBe('body.amount');
    const negativeGrant = await grant(
      operator,
      tenant.tenantId,
      { type: 'grant', amount: -5, reason: 'x' },
      'adj-3',
    );
    expect(negativeGrant.status).toBe(400);
    const noReason = await grant(operator, tenant.tenantId, { type: 'grant', amount: 5 }, 'adj-4');
    expect(noReason.status).toBe(400);
    const noKey = await grant(operator, tenant.tenantId, { type: 'grant', amount: 5, reason: 'x' });
    expect(noKey.status).toBe(400);
    expect((await api.request('GET', '/v1/tokens/balance', { token: tenant.token })).body.available).toBe(40);
  });

  it('is refused on tenant routes, and a missing tenant is a 404', async () => {
    expect((await api.request('GET', '/v1/tokens/balance', { token: operator })).status).toBe(403);
    expect((await buy(operator, 10, 'op-buy')).status).toBe(403);
    const missing = await grant(
      operator,
      'ten_01JAAAAAAAAAAAAAAAAAAAAAAA',
      { type: 'grant', amount: 1, reason: 'x' },
      'op-missing',
    );
    expect(missing.status).toBe(404);
  });
});

describe('GET /v1/tokens/usage', () => {
  it('lists entries newest first with a cursor and totals the whole range by agent, action and day', async () => {
    const tenant = await registerTenant(api, 'Usage');
    await buy(tenant.token, 100, 'seed');
    const deps = billingDeps();
    // As the runtime debits: in the tenant's scope.
    await inTenantScope(tenant.tenantId, async () => {
      await debit(deps, tenant.tenantId, 10, { action: 'whatsappConversation', agentId: 'agt_a' }, 'u1', 'x');
      await debit(deps, tenant.tenantId, 1, { action: 'sms', agentId: 'agt_a' }, 'u2', 'x');
      await debit(deps, tenant.tenantId, 1, { action: 'llmCall', agentId: 'agt_b' }, 'u3', 'x');
    });

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
    expect(rest.body.items.map((e: { idempotencyKey: string }) => e.idempotencyKey)).toEqual([
      'u1',
      expect.stringMatching(/^payment:local-payments:obx_/),
    ]);
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
    await buy(owner.token, 7, 'shared-key');
    // The same key in another tenant is that tenant's own key.
    const theirs = await buy(other.token, 3, 'shared-key');
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
    await buy(tenant.token, 50, 'first');
    await inTenantScope(tenant.tenantId, () =>
      suspendTenant(billingDeps(), tenant.tenantId, 'monthly_fee_unpaid', periodOf(new Date())),
    );
    const suspended = await api.request('GET', '/v1/tokens/balance', { token: tenant.token });
    expect(suspended.body).toMatchObject({ available: 50, tenantStatus: 'suspended' });
    expect((await api.request('GET', '/v1/tenant', { token: tenant.token })).body.status).toBe('suspended');

    const topUp = await buy(tenant.token, 200, 'second');
    expect(topUp.status).toBe(201);
    expect(topUp.body).toMatchObject({ tenantStatus: 'active', balance: { available: 50 } });
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
    await buy(tenant.token, 150, 'threshold-grant');
    const set = await api.request('PUT', '/v1/tokens/settings', {
      token: tenant.token,
      body: { lowBalanceThreshold: 100 },
    });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ available: 150, lowBalanceThreshold: 100 });
    await inTenantScope(tenant.tenantId, () =>
      debit(billingDeps(), tenant.tenantId, 60, { action: 'call' }, 'threshold-debit', 'test'),
    );
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
