/**
 * What the API says when something behind it fails names the product's parts (the provider as
 * agents name it, the model, what went wrong), never the infrastructure: no host, URL, address,
 * ARN or account, and no workflow execution ids.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ApiClient, agentBody, registerTenant, startApi, topUp } from '../support/api';

const INFRASTRUCTURE = [
  /127\.0\.0\.1/,
  /10\.20\.30\.40/,
  /arn:/,
  /123456789012/,
  /https?:\/\//,
  /internal\.example/,
];

/** An OpenAI-compatible server that fails, quoting the kind of detail real upstreams do. */
let failingModel: Server;
let port: number;
let api: ApiClient;
let owner: Awaited<ReturnType<typeof registerTenant>>;

beforeAll(async () => {
  failingModel = createServer((_req, res) => {
    res.writeHead(403, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        error: {
          message:
            'User: arn:aws:sts::123456789012:assumed-role/gateway/x is not authorized; upstream http://vllm.internal.example:8000 at 10.20.30.40:8000',
        },
      }),
    );
  });
  await new Promise<void>((resolve) => failingModel.listen(0, '127.0.0.1', resolve));
  port = (failingModel.address() as AddressInfo).port;
  process.env.OPENAI_BASE_URL = `http://127.0.0.1:${port}/v1`;
  api = await startApi();
  owner = await registerTenant(api);
  await topUp(api, owner.token, 10_000);
});
afterAll(async () => {
  await api.platform.stop();
  await new Promise((resolve) => failingModel.close(resolve));
});

async function startedAgent(extra: object) {
  const created = await api.request('POST', '/v1/agents', {
    token: owner.token,
    body: { ...agentBody(), ...extra },
  });
  expect(created.status).toBe(201);
  expect(
    (await api.request('POST', `/v1/agents/${created.body.id}/start`, { token: owner.token })).status,
  ).toBe(200);
  return created.body.id as string;
}

function expectNoInfrastructure(text: string) {
  for (const pattern of INFRASTRUCTURE) expect(text).not.toMatch(pattern);
  expect(text).not.toContain(`:${port}`);
}

describe('a failing model', () => {
  it('is named in product terms in the 502 and in the execution, never by address or upstream words', async () => {
    const agentId = await startedAgent({ model: { provider: 'openai-compatible', modelId: 'gpt-4o-mini' } });
    const failed = await api.request('POST', `/v1/agents/${agentId}/chat`, {
      token: owner.token,
      body: { message: 'hello' },
    });
    expect(failed.status).toBe(502);
    expect(failed.body.error.code).toBe('MODEL_FAILED');
    expect(failed.body.error.message).toMatch(
      /: openai-compatible: gpt-4o-mini: HTTP 403: the API key was rejected or lacks access$/,
    );
    expectNoInfrastructure(failed.text);

    const execution = await api.request('GET', `/v1/executions/${failed.body.error.details.executionId}`, {
      token: owner.token,
    });
    expect(execution.body).toMatchObject({ status: 'FAILED', error: { code: 'MODEL_FAILED' } });
    expectNoInfrastructure(execution.text);
    const executions = await api.request('GET', `/v1/agents/${agentId}/executions`, { token: owner.token });
    expectNoInfrastructure(executions.text);
  });
});

describe('approvals', () => {
  it('never show the workflow execution waiting on them, in any response', async () => {
    const agentId = await startedAgent({ tools: ['take_payment'] });
    const processed = await api.request('POST', '/v1/agent/process', {
      token: owner.token,
      body: { agentId, message: 'charge 49.99 USD for a cleaning' },
    });
    expect(processed.status).toBe(200);
    const [action] = processed.body.actions;
    expect(action).toMatchObject({ action: 'take_payment', status: 'awaiting_approval' });

    // The workflow attaches its execution to the approval: wait until it has.
    const workflowStarted = async () => {
      for (let i = 0; i < 50; i++) {
        const audit = await api.request('GET', `/v1/audit?type=approval.requested`, { token: owner.token });
        if (audit.body.items.some((e: { approvalId?: string }) => e.approvalId === action.approvalId))
          return audit;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error('the approval workflow never recorded the request');
    };
    const audit = await workflowStarted();
    expectNoInfrastructure(audit.text);

    const responses = [
      await api.request('GET', `/v1/approvals/${action.approvalId}`, { token: owner.token }),
      await api.request('GET', '/v1/approvals?status=pending', { token: owner.token }),
      await api.request('POST', `/v1/approvals/${action.approvalId}/approve`, { token: owner.token }),
      await api.request('GET', '/v1/approvals', { token: owner.token }),
    ];
    for (const response of responses) {
      expect(response.status).toBe(200);
      expect(response.text).toContain(action.approvalId);
      expect(response.text).not.toContain('workflowExecutionId');
      expectNoInfrastructure(response.text);
    }
  });
});
