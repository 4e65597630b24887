/** Bad input gets a 4xx that names the problem, never a 500, and writes nothing. */
import { type ApiClient, agentBody, registerTenant, startApi, topUp } from '../support/api';

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

/**
 * Numbers and keys the table cannot store (DynamoDB through the document client) are refused at
 * validation, naming the field, by the one `storableNumber` / `storableJson` / `storableRecord`
 * helper set (lambdas/domain/shared/zod.ts): `1e400` is Infinity after JSON.parse, `1e-300` is below
 * DynamoDB's 1e-130, `1e16` (any integer past 2^53 - 1) is refused by the document client, `{"":1}`
 * is an empty attribute name, `__proto__` cannot be copied into a plain object, and free-form JSON
 * nests at most 16 levels (DynamoDB allows 32, and it is stored inside an item's own maps).
 */
describe('what the table cannot store', () => {
  let memoryId: string;

  beforeAll(async () => {
    const memory = await api.request('POST', `/v1/agents/${agentId}/memories`, {
      token,
      body: { type: 'semantic', content: 'Prefers mornings' },
    });
    expect(memory.status).toBe(201);
    memoryId = memory.body.id;
  });

  /** JSON as written (JSON.stringify cannot write 1e400 or a `__proto__` key). */
  const raw = (method: string, path: string, json: string) =>
    api.request(method, path, { token, rawBody: json, headers: { 'content-type': 'application/json' } });
  const agentJson = (extra: string) => `${JSON.stringify(agentBody('Edge')).slice(0, -1)},${extra}}`;
  const nested = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

  const storableCases: [string, () => Promise<{ status: number; body: any }>, string][] = [
    [
      'a price of 1e16',
      () => raw('POST', '/v1/agents', agentJson('"knowledgeBase":{"products":[{"name":"a","price":1e16}]}')),
      'body.knowledgeBase.products.0.price',
    ],
    [
      'a price of 1e400',
      () => raw('POST', '/v1/agents', agentJson('"knowledgeBase":{"products":[{"name":"a","price":1e400}]}')),
      'body.knowledgeBase.products.0.price',
    ],
    [
      'a price of 1e-300',
      () =>
        raw('POST', '/v1/agents', agentJson('"knowledgeBase":{"products":[{"name":"a","price":1e-300}]}')),
      'body.knowledgeBase.products.0.price',
    ],
    [
      'a patched price of 1e126',
      () =>
        raw('PATCH', `/v1/agents/${agentId}`, '{"knowledgeBase":{"products":[{"name":"a","price":1e126}]}}'),
      'body.knowledgeBase.products.0.price',
    ],
    [
      'a temperature of 1e-300',
      () =>
        raw(
          'POST',
          '/v1/agents',
          agentJson('"model":{"provider":"scripted","modelId":"m","temperature":1e-300}'),
        ),
      'body.model.temperature',
    ],
    [
      'a topP of 1e-300',
      () =>
        raw('POST', '/v1/agents', agentJson('"model":{"provider":"scripted","modelId":"m","topP":1e-300}')),
      'body.model.topP',
    ],
    [
      'a memory importance of 1e-300',
      () =>
        raw(
          'POST',
          `/v1/agents/${agentId}/memories`,
          '{"type":"semantic","content":"x","importance":1e-300}',
        ),
      'body.importance',
    ],
    [
      'an updated memory importance of 1e-300',
      () => raw('PUT', `/v1/memories/${memoryId}`, '{"importance":1e-300}'),
      'body.importance',
    ],
    [
      'a policy bound of 1e-300',
      () =>
        raw(
          'PUT',
          '/v1/policies',
          '{"rules":[{"action":"take_payment","when":{"param":"amount","gt":1e-300},"level":"approval"}]}',
        ),
      'body.rules.0.when.gt',
    ],
    [
      'a policy bound of 1e200',
      () =>
        raw(
          'PUT',
          '/v1/policies',
          '{"rules":[{"action":"take_payment","when":{"param":"amount","lte":1e200},"level":"approval"}]}',
        ),
      'body.rules.0.when.lte',
    ],
    [
      'a policy bound of 1e400',
      () =>
        raw(
          'PUT',
          '/v1/policies',
          '{"rules":[{"action":"take_payment","when":{"param":"amount","gte":1e400},"level":"approval"}]}',
        ),
      'body.rules.0.when.gte',
    ],
    [
      'process context with an empty key',
      () => raw('POST', '/v1/agent/process', `{"agentId":"${agentId}","message":"hi","context":{"":1}}`),
      'body.context.',
    ],
    [
      'process context with a nested empty key',
      () =>
        raw(
          'POST',
          '/v1/agent/process',
          `{"agentId":"${agentId}","message":"hi","context":{"order":{"":1}}}`,
        ),
      'body.context.order.',
    ],
    [
      'process context with 1e400',
      () => raw('POST', '/v1/agent/process', `{"agentId":"${agentId}","message":"hi","context":{"n":1e400}}`),
      'body.context.n',
    ],
    [
      'process context with 1e-300',
      () =>
        raw('POST', '/v1/agent/process', `{"agentId":"${agentId}","message":"hi","context":{"n":[1e-300]}}`),
      'body.context.n.0',
    ],
    [
      'process context with 1e16',
      () => raw('POST', '/v1/agent/process', `{"agentId":"${agentId}","message":"hi","context":{"n":1e16}}`),
      'body.context.n',
    ],
    [
      'process context with a __proto__ key',
      () =>
        raw(
          'POST',
          '/v1/agent/process',
          `{"agentId":"${agentId}","message":"hi","context":{"__proto__":{"admin":true}}}`,
        ),
      'body.context.__proto__',
    ],
    [
      'process context with a nested __proto__ key',
      () =>
        raw(
          'POST',
          '/v1/agent/process',
          `{"agentId":"${agentId}","message":"hi","context":{"a":{"__proto__":{"admin":true}}}}`,
        ),
      'body.context.a.__proto__',
    ],
    [
      'process context nesting 33 levels',
      () =>
        raw('POST', '/v1/agent/process', `{"agentId":"${agentId}","message":"hi","context":${nested(33)}}`),
      'nests deeper than 16 levels',
    ],
    [
      'process context nesting 17 levels',
      () =>
        raw('POST', '/v1/agent/process', `{"agentId":"${agentId}","message":"hi","context":${nested(17)}}`),
      'body.context.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a',
    ],
    [
      'process context that is not an object',
      () => raw('POST', '/v1/agent/process', `{"agentId":"${agentId}","message":"hi","context":[1]}`),
      'body.context',
    ],
    [
      'execute context with an empty key',
      () => raw('POST', `/v1/agents/${agentId}/execute`, '{"task":"hi","context":{"":1}}'),
      'body.context.',
    ],
    [
      'execute context with 1e400',
      () => raw('POST', `/v1/agents/${agentId}/execute`, '{"task":"hi","context":{"n":1e400}}'),
      'body.context.n',
    ],
    [
      'execute context with 1e-300',
      () => raw('POST', `/v1/agents/${agentId}/execute`, '{"task":"hi","context":{"n":1e-300}}'),
      'body.context.n',
    ],
    [
      'execute context with a __proto__ key',
      () => raw('POST', `/v1/agents/${agentId}/execute`, '{"task":"hi","context":{"__proto__":{"x":1}}}'),
      'body.context.__proto__',
    ],
    [
      'execute context nesting 33 levels',
      () => raw('POST', `/v1/agents/${agentId}/execute`, `{"task":"hi","context":${nested(33)}}`),
      'nests deeper than 16 levels',
    ],
  ];

  describe.each(storableCases)('%s', (_name, send, field) => {
    it(`is a 400 naming ${field} and writes nothing`, async () => {
      const before = await snapshot();
      const response = await send();
      expect(response.status).toBe(400);
      expect(JSON.stringify(response.body.error)).toContain(field);
      expect(await snapshot()).toBe(before);
    });
  });

  it('keeps what the table can store, exactly', async () => {
    const agent = await raw(
      'POST',
      '/v1/agents',
      agentJson(
        '"knowledgeBase":{"products":[{"name":"a","price":0.30000000000000004},{"name":"b","price":1000000000}]}',
      ),
    );
    expect(agent.status).toBe(201);
    expect(agent.body.knowledgeBase.products.map((p: { price: number }) => p.price)).toEqual([
      0.30000000000000004, 1e9,
    ]);
    const memory = await raw(
      'POST',
      `/v1/agents/${agentId}/memories`,
      '{"type":"semantic","content":"tiny","importance":1e-130}',
    );
    expect(memory.status).toBe(201);
    const read = await api.request('GET', `/v1/memories/${memory.body.id}`, { token });
    expect(read.body.importance).toBe(1e-130);
  });

  it('turns a model’s tool input it cannot store into a refused action, not a 500 (a `__proto__` record)', async () => {
    await topUp(api, token, 1000);
    const created = await api.request('POST', '/v1/agents', {
      token,
      body: { ...agentBody('Records'), tools: ['create_resource'] },
    });
    await api.request('POST', `/v1/agents/${created.body.id}/start`, { token });
    for (const data of [
      '{"__proto__": {"admin": true}}',
      '{"": 1}',
      '{"n": 1e-300}',
      '{"n": 12345678901234567890}',
    ]) {
      const turn = await api.request('POST', '/v1/agent/process', {
        token,
        body: { agentId: created.body.id, message: `create an orders record with ${data}` },
      });
      expect(turn.status).toBe(200);
      expect(turn.body.actions).toEqual([
        expect.objectContaining({
          action: 'create_resource',
          status: 'denied',
          reason: expect.stringContaining('data.'),
        }),
      ]);
      const runs = await api.request('GET', `/v1/tools/executions?agentId=${created.body.id}`, { token });
      expect(runs.status).toBe(200);
    }
  });
});
