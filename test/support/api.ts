import { randomUUID } from 'node:crypto';
import { type LocalPlatform, startLocalPlatform } from '../../local/platform';
import { apiContract } from './contract';
import { dynamoEndpoint } from './dynamodb';

export interface ApiResponse<T = any> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
  readonly text: string;
}

export interface RequestOptions {
  readonly token?: string;
  readonly body?: unknown;
  readonly rawBody?: string;
  readonly headers?: Record<string, string>;
}

export interface ApiClient {
  readonly platform: LocalPlatform;
  /**
   * One request to local mode. Every answer is checked against the OpenAPI document
   * (test/support/contract.ts): an answer it does not describe throws a `ContractViolation`.
   */
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  /**
   * A request to a path and method the API does not have (to test the gateway's own 404, say):
   * the only request left unchecked, and only when no documented operation matches it — a
   * documented operation is always checked. `why` says what the test is probing.
   */
  requestUndocumented<T = any>(
    why: string,
    method: string,
    path: string,
    options?: RequestOptions,
  ): Promise<ApiResponse<T>>;
}

/** The local platform over HTTP, on the run's shared DynamoDB Local and a table of its own. */
export async function startApi(): Promise<ApiClient> {
  const platform = await startLocalPlatform({
    dynamoEndpoint: dynamoEndpoint(),
    tableName: `e2e-${randomUUID()}`,
  });
  const contract = apiContract();
  const send = async (method: string, path: string, options: RequestOptions) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${platform.url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    const answer = { status: response.status, headers: response.headers, body: parsed as never, text };
    return { answer, requestHeaders: headers };
  };
  return {
    platform,
    async request(method, path, options = {}) {
      const { answer, requestHeaders } = await send(method, path, options);
      contract.check({ method, path, requestHeaders, ...answer });
      return answer;
    },
    async requestUndocumented(why, method, path, options = {}) {
      const documented = contract.operationKeyFor(method, path);
      if (documented || !why.trim()) {
        throw new Error(
          `requestUndocumented(${JSON.stringify(why)}, ${method} ${path}): ${documented ? `${documented} is documented; use request, which checks it` : 'say why'}`,
        );
      }
      return (await send(method, path, options)).answer;
    },
  };
}

let counter = 0;
export const PASSWORD = 'Correct-Horse-9';

/** Registers a tenant through the API; returns its ids and the owner's token. */
export async function registerTenant(api: ApiClient, name = `Tenant ${++counter}`) {
  const email = `owner-${randomUUID()}@example.test`;
  const response = await api.request('POST', '/v1/auth/register', {
    body: { tenant: { name }, owner: { email, password: PASSWORD, name: 'Owner' } },
  });
  if (response.status !== 201) throw new Error(`register failed: ${response.status} ${response.text}`);
  return {
    tenantId: response.body.tenant.id as string,
    ownerId: response.body.user.id as string,
    email,
    token: response.body.auth.token as string,
  };
}

/** Creates a user with `role` through the API and logs in as them. */
export async function userWithRole(api: ApiClient, ownerToken: string, role: string) {
  const email = `${role}-${randomUUID()}@example.test`;
  const created = await api.request('POST', '/v1/users', {
    token: ownerToken,
    body: { email, name: `A ${role}`, password: PASSWORD, role },
  });
  if (created.status !== 201) throw new Error(`create user failed: ${created.status} ${created.text}`);
  const login = await api.request('POST', '/v1/auth/login', { body: { email, password: PASSWORD } });
  return { userId: created.body.id as string, email, token: login.body.token as string };
}

export const agentBody = (name = 'Front desk') => ({
  name,
  businessType: 'dental',
  model: { provider: 'scripted', modelId: 'scripted-v1' },
});

let topUps = 0;
/**
 * Buys a tenant tokens through the API (owner or admin token) with the local payment provider,
 * which succeeds at once: agents' model calls cost tokens.
 */
export async function topUp(api: ApiClient, token: string, amount = 1000) {
  const response = await api.request('POST', '/v1/tokens/purchase', {
    token,
    body: { amount },
    headers: { 'idempotency-key': `test-top-up-${++topUps}-${Date.now()}` },
  });
  if (response.status !== 200 && response.status !== 201) {
    throw new Error(`top-up failed: ${response.status} ${response.text}`);
  }
}

/** Logs in as the local platform operator (outside every tenant; /v1/operator routes only). */
export async function operatorToken(api: ApiClient): Promise<string> {
  const login = await api.request('POST', '/v1/auth/login', { body: api.platform.operator });
  if (login.status !== 200) throw new Error(`operator login failed: ${login.status} ${login.text}`);
  return login.body.token as string;
}
