/** Bad input gets a 4xx that names the problem, never a 500, and writes nothing. */
import { type ApiClient, agentBody, registerTenant, startApi } from '../support/api';

let api: ApiClient;
let token: string;
let agentId: string;

beforeAll(async () => {
  api = await startApi();
  ({ token } = await registerTenant(api));
  agentId = (await api.request('POST', '/v1/agents', { token, body: agentBody('Keeper') })).body.id;
});
afterAll(() => api.platform.stop());

async function snapshot() {
  const agents = await api.request('GET', '/v1/agents?limit=100', { token });
  const agent = await api.request('GET', `/v1/agents/${agentId}`, { token });
  const users = await api.request('GET', '/v1/users?limit=100', { token });
  const locations = await api.request('GET', '/v1/locations?limit=100', { token });
  const policy = await api.request('GET', '/v1/policies', { token });
  const actions = await api.request('GET', '/v1/actions?limit=100', { token });
  return JSON.stringify([agents.body, agent.body, users.body, locations.body, policy.body, actions.body]);
}

const cases: [string, () => Promise<{ status: number; body: any }>, number, string][] = [
  [
    'malformed JSON',
    () =>
      api.request('POST', '/v1/agents', {
        token,
        rawBody: '{"name": "x",',
        headers: { 'content-type': 'application/json' },
      }),
    400,
    'body',
  ],
  [
    'JSON that is not an object',
    () => api.request('POST', '/v1/agents', { token, body: [1, 2] }),
    400,
    'body',
  ],
  ['missing body', () => api.request('POST', '/v1/agents', { token }), 400, 'body'],
  [
    'wrong type',
    () => api.request('POST', '/v1/agents', { token, body: { ...agentBody(), name: 42 } }),
    400,
    'body.name',
  ],
  [
    'nested wrong type',
    () =>
      api.request('POST', '/v1/agents', {
        token,
        body: { ...agentBody(), model: { provider: 'scripted', modelId: 'm', temperature: 'hot' } },
      }),
    400,
    'body.model.temperature',
  ],
  [
    'out of range',
    () =>
      api.request('POST', '/v1/agents', {
        token,
        body: { ...agentBody(), model: { provider: 'scripted', modelId: 'm', topP: 7 } },
      }),
    400,
    'body.model.topP',
  ],
  [
    'unknown field',
    () =>
      api.request('POST', '/v1/agents', {
        token,
        body: { ...agentBody(), tenantId: 'ten_01ARZ3NDEKTSV4RRFFQ69G5FAV' },
      }),
    400,
    'body.tenantId',
  ],
  [
    'unknown nested field',
    () =>
      api.request('POST', '/v1/agents', {
        token,
        body: { ...agentBody(), personality: { traits: [], mood: 'x' } },
      }),
    400,
    'body.personality.mood',
  ],
  [
    'unknown tool',
    () => api.request('POST', '/v1/agents', { token, body: { ...agentBody(), tools: ['rm_rf'] } }),
    400,
    'body.tools.0',
  ],
  [
    'duplicate channel',
    () =>
      api.request('POST', '/v1/agents', {
        token,
        body: { ...agentBody(), channels: [{ type: 'sms' }, { type: 'sms' }] },
      }),
    400,
    'body.channels',
  ],
  ['empty patch', () => api.request('PATCH', `/v1/agents/${agentId}`, { token, body: {} }), 400, 'body'],
  [
    'text/plain body',
    () =>
      api.request('POST', '/v1/agents', {
        token,
        rawBody: JSON.stringify(agentBody()),
        headers: { 'content-type': 'text/plain' },
      }),
    415,
    'content-type',
  ],
  [
    'oversize body',
    () =>
      api.request('POST', '/v1/agents', {
        token,
        body: { ...agentBody(), instructions: 'x'.repeat(300_000) },
      }),
    413,
    'body',
  ],
  ['bad agent id', () => api.request('GET', '/v1/agents/not-an-id', { token }), 400, 'path.id'],
  [
    'user id where an agent id belongs',
    () => api.request('GET', '/v1/agents/usr_01ARZ3NDEKTSV4RRFFQ69G5FAV', { token }),
    400,
    'path.id',
  ],
  [
    'unknown agent id',
    () => api.request('GET', '/v1/agents/agt_01ARZ3NDEKTSV4RRFFQ69G5FAV', { token }),
    404,
    'agt_01ARZ3NDEKTSV4RRFFQ69G5FAV',
  ],
  [
    'bad version number',
    () => api.request('GET', `/v1/agents/${agentId}/versions/zero`, { token }),
    400,
    'path.version',
  ],
  [
    'unknown query parameter',
    () => api.request('GET', '/v1/agents?colour=red', { token }),
    400,
    'query.colour',
  ],
  ['bad sort', () => api.request('GET', '/v1/agents?sort=price', { token }), 400, 'query.sort'],
  ['limit too large', () => api.request('GET', '/v1/agents?limit=1000', { token }), 400, 'query.limit'],
  [
    'bad If-Match',
    () =>
      api.request('PATCH', `/v1/agents/${agentId}`, {
        token,
        body: { name: 'n' },
        headers: { 'if-match': 'soon' },
      }),
    400,
    'header.if-match',
  ],
  [
    'body on a body-less route',
    () => api.request('POST', `/v1/agents/${agentId}/start`, { token, body: { force: true } }),
    400,
    'body',
  ],
  [
    'unknown route',
    () => api.requestUndocumented('the gateway’s own 404', 'GET', '/v1/nothing-here', { token }),
    404,
    '',
  ],
  [
    'process without an agent',
    () => api.request('POST', '/v1/agent/process', { token, body: { message: 'hi' } }),
    400,
    'body.agentId',
  ],
  [
    'process with a conversation id that is not one',
    () =>
      api.request('POST', '/v1/agent/process', {
        token,
        body: { agentId, message: 'hi', conversationId: 'cnv_nope' },
      }),
    400,
    'body.conversationId',
  ],
  [
    'policy rule with an unknown action',
    () =>
      api.request('PUT', '/v1/policies', {
        token,
        body: { rules: [{ action: 'launch_rocket', level: 'automatic' }] },
      }),
    400,
    'body.rules.0.action',
  ],
  [
    'policy threshold without a bound',
    () =>
      api.request('PUT', '/v1/policies', {
        token,
        body: { rules: [{ action: 'take_payment', when: { param: 'amount' }, level: 'approval' }] },
      }),
    400,
    'body.rules.0.when',
  ],
  [
    'policy with too many actions per turn',
    () => api.request('PUT', '/v1/policies', { token, body: { rules: [], maxActionsPerTurn: 500 } }),
    400,
    'body.maxActionsPerTurn',
  ],
  [
    'approval comment too long',
    () =>
      api.request('POST', '/v1/approvals/apr_01ARZ3NDEKTSV4RRFFQ69G5FAV/approve', {
        token,
        body: { comment: 'x'.repeat(1001) },
      }),
    400,
    'body.comment',
  ],
  [
    'audit with a bad time',
    () => api.request('GET', '/v1/audit?from=yesterday', { token }),
    400,
    'query.from',
  ],
  [
    'text body on a body-less route (400, not 415: the route takes no body at all)',
    () =>
      api.request('POST', `/v1/agents/${agentId}/start`, {
        token,
        rawBody: 'start please',
        headers: { 'content-type': 'text/plain' },
      }),
    400,
    'body',
  ],
  [
    'a tool named twice',
    () =>
      api.request('PUT', `/v1/agents/${agentId}/tools`, {
        token,
        body: { tools: ['calculator', 'calculator'] },
      }),
    400,
    'body.tools',
  ],
  ['a fractional limit', () => api.request('GET', '/v1/agents?limit=2.5', { token }), 400, 'query.limit'],
  [
    'unknown suggestion',
    () => api.request('POST', '/v1/suggestions/act_01ARZ3NDEKTSV4RRFFQ69G5FAV/confirm', { token }),
    404,
    'act_01ARZ3NDEKTSV4RRFFQ69G5FAV',
  ],
];

describe.each(cases)('%s', (_name, send, status, field) => {
  it(`answers ${status} naming ${field || 'the route'} and writes nothing`, async () => {
    const before = await snapshot();
    const response = await send();
    expect(response.status).toBe(status);
    if (field) expect(JSON.stringify(response.body)).toContain(field);
    expect(await snapshot()).toBe(before);
  });
});
