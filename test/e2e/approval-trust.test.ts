/**
 * Approvals and suggestions checked again when they run, and approvals seen and decided only where
 * the coordinator may act (issue 9, item 4), end to end over HTTP against local mode: the approval
 * workflow runs from statemachines/approval.asl.json in-process, sends land in the local outbox.
 */

import { localOutbox } from '../../lambdas/adapters/local/local-outbox';
import { type ApiClient, agentBody, PASSWORD, registerTenant, startApi, topUp } from '../support/api';

let api: ApiClient;

beforeAll(async () => {
  api = await startApi();
}, 60_000);
afterAll(async () => {
  await api.platform.stop();
});

const PHONE = '+15551234567';
type Owner = Awaited<ReturnType<typeof registerTenant>>;

async function tenantWithAgent(rules: object[]) {
  const owner = await registerTenant(api);
  await topUp(api, owner.token, 10_000);
  const created = await api.request('POST', '/v1/agents', {
    token: owner.token,
    body: { ...agentBody('Desk'), tools: ['send_sms', 'send_email', 'place_call'] },
  });
  expect(created.status).toBe(201);
  expect(
    (await api.request('POST', `/v1/agents/${created.body.id}/start`, { token: owner.token })).status,
  ).toBe(200);
  const policy = await api.request('PUT', '/v1/policies', { token: owner.token, body: { rules } });
  expect(policy.status).toBe(200);
  return { owner, agentId: created.body.id as string };
}

/** A user created by the owner, logged in. */
async function user(owner: Owner, role: string, extra: object = {}) {
  const email = `${role}-${Math.random().toString(36).slice(2)}@example.test`;
  const created = await api.request('POST', '/v1/users', {
    token: owner.token,
    body: { email, name: `A ${role}`, password: PASSWORD, role, ...extra },
  });
  expect(created.status).toBe(201);
  const login = await api.request('POST', '/v1/auth/login', { body: { email, password: PASSWORD } });
  return { userId: created.body.id as string, token: login.body.token as string };
}

const processMessage = (token: string, agentId: string, message: string, extra: object = {}) =>
  api.request('POST', '/v1/agent/process', { token, body: { agentId, message, ...extra } });

/** Waits until the workflow has moved the action out of `awaiting_approval` / `executing`. */
async function settled(token: string, actionId: string) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const response = await api.request('GET', `/v1/actions/${actionId}`, { token });
    if (!['awaiting_approval', 'executing'].includes(response.body.status)) return response.body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`action ${actionId} never settled`);
}

async function auditTypes(token: string, actionId: string) {
  const audit = await api.request('GET', `/v1/audit?actionId=${actionId}`, { token });
  return audit.body.items.map((entry: { type: string }) => entry.type) as string[];
}

/**
 * The tenant's reserved tokens once the refused action's hold is gone: the workflow step releases
 * the hold just after it moves the action, so a poll can land between the two writes.
 */
async function reserved(token: string) {
  let held = -1;
  for (let attempt = 0; attempt < 40; attempt++) {
    held = (await api.request('GET', '/v1/tokens/balance', { token })).body.reserved as number;
    if (held === 0) return held;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return held;
}

describe('an approved action re-checks its requester when it runs', () => {
  it('does not run when the requester was deleted while it waited', async () => {
    const { owner, agentId } = await tenantWithAgent([{ action: 'place_call', level: 'approval' }]);
    const admin = await user(owner, 'admin');
    const proposed = await processMessage(admin.token, agentId, `call ${PHONE} about the refund`);
    const [action] = proposed.body.actions;
    expect(action).toMatchObject({ status: 'awaiting_approval' });
    expect((await api.request('DELETE', `/v1/users/${admin.userId}`, { token: owner.token })).status).toBe(
      204,
    );

    const approved = await api.request('POST', `/v1/approvals/${action.approvalId}/approve`, {
      token: owner.token,
    });
    expect(approved.status).toBe(200);
    const done = await settled(owner.token, action.actionId);
    expect(done).toMatchObject({ status: 'denied', error: { code: 'REQUESTER_NOT_PERMITTED' } });
    expect(done.error.message).toContain('no longer exists');
    expect(localOutbox.list(owner.tenantId, { kind: 'call', limit: 10 }).items).toEqual([]);
    expect(await reserved(owner.token)).toBe(0);
    expect(await auditTypes(owner.token, action.actionId)).toContain('action.denied');
  });

  it('does not run when the requester lost the permission while it waited', async () => {
    const { owner, agentId } = await tenantWithAgent([{ action: 'send_sms', level: 'approval' }]);
    const member = await user(owner, 'member', { grants: [{ permission: 'sms:send' }] });
    const proposed = await processMessage(member.token, agentId, `send an SMS to ${PHONE} saying hello`);
    const [action] = proposed.body.actions;
    expect(action).toMatchObject({ status: 'awaiting_approval' });
    const revoked = await api.request('PATCH', `/v1/users/${member.userId}`, {
      token: owner.token,
      body: { grants: [] },
      headers: { 'if-match': '"1"' },
    });
    expect(revoked.status).toBe(200);

    await api.request('POST', `/v1/approvals/${action.approvalId}/approve`, { token: owner.token });
    const done = await settled(owner.token, action.actionId);
    expect(done).toMatchObject({ status: 'denied', error: { code: 'REQUESTER_NOT_PERMITTED' } });
    expect(done.error.message).toContain('sms:send');
    expect(localOutbox.list(owner.tenantId, { kind: 'sms', limit: 10 }).items).toEqual([]);
    expect(await reserved(owner.token)).toBe(0);
  });

  it('a confirmed suggestion does not run when its requester lost the permission', async () => {
    const { owner, agentId } = await tenantWithAgent([{ action: 'send_email', level: 'suggestion' }]);
    const member = await user(owner, 'member', { grants: [{ permission: 'email:send' }] });
    const proposed = await processMessage(
      member.token,
      agentId,
      'email ana@example.test about Your order saying It shipped',
    );
    const [action] = proposed.body.actions;
    expect(action).toMatchObject({ status: 'awaiting_confirmation' });
    await api.request('PATCH', `/v1/users/${member.userId}`, {
      token: owner.token,
      body: { grants: [] },
      headers: { 'if-match': '"1"' },
    });
    // The owner may confirm suggestions, but the action would run for the member, who may not.
    const confirmed = await api.request('POST', `/v1/suggestions/${action.actionId}/confirm`, {
      token: owner.token,
    });
    expect(confirmed.status).toBe(409);
    expect(confirmed.body.error.message).toContain('email:send');
    const stored = await api.request('GET', `/v1/actions/${action.actionId}`, { token: owner.token });
    expect(stored.body).toMatchObject({ status: 'denied', error: { code: 'REQUESTER_NOT_PERMITTED' } });
    expect(localOutbox.list(owner.tenantId, { kind: 'email', limit: 10 }).items).toEqual([]);
    expect(await reserved(owner.token)).toBe(0);
    expect(await auditTypes(owner.token, action.actionId)).toContain('action.denied');
  });
});

describe('a coordinator limited to some locations', () => {
  it('neither lists nor decides approvals outside them; one without a location takes a tenant-wide right', async () => {
    const { owner, agentId } = await tenantWithAgent([{ action: 'send_sms', level: 'approval' }]);
    const location = async (name: string) =>
      (await api.request('POST', '/v1/locations', { token: owner.token, body: { name } })).body.id as string;
    const [north, south] = [await location('North'), await location('South')];
    const approvalAt = async (locationId?: string) => {
      const requester = locationId
        ? await user(owner, 'member', { grants: [{ permission: 'sms:send' }], locationIds: [locationId] })
        : owner;
      const proposed = await processMessage(requester.token, agentId, `send an SMS to ${PHONE} saying hi`);
      expect(proposed.body.actions[0].status).toBe('awaiting_approval');
      return proposed.body.actions[0].approvalId as string;
    };
    const atNorth = await approvalAt(north);
    const atSouth = await approvalAt(south);
    const nowhere = await approvalAt();

    const northern = await user(owner, 'coordinator', { locationIds: [north] });
    const listed = await api.request('GET', '/v1/approvals?limit=100', { token: northern.token });
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((a: { id: string }) => a.id)).toEqual([atNorth]);
    const pending = await api.request('GET', '/v1/approvals?status=pending&limit=100', {
      token: northern.token,
    });
    expect(pending.body.items.map((a: { id: string }) => a.id)).toEqual([atNorth]);
    for (const id of [atSouth, nowhere]) {
      expect((await api.request('GET', `/v1/approvals/${id}`, { token: northern.token })).status).toBe(404);
      for (const verb of ['approve', 'reject']) {
        const decided = await api.request('POST', `/v1/approvals/${id}/${verb}`, { token: northern.token });
        expect(decided.status).toBe(404);
      }
    }
    const mine = await api.request('POST', `/v1/approvals/${atNorth}/reject`, { token: northern.token });
    expect(mine.status).toBe(200);

    // A tenant-wide coordinator sees every one and decides the one without a location.
    const everywhere = await user(owner, 'coordinator');
    const all = await api.request('GET', '/v1/approvals?limit=100', { token: everywhere.token });
    expect(all.body.items).toHaveLength(3);
    const decided = await api.request('POST', `/v1/approvals/${nowhere}/reject`, { token: everywhere.token });
    expect(decided.status).toBe(200);
  });
});
