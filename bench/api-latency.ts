import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { type ClientRequest, Agent as HttpAgent, type IncomingMessage, request } from 'node:http';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { agentKey } from '../lambdas/adapters/dynamodb/agent-repository';
import { createDocumentClient } from '../lambdas/adapters/dynamodb/document-client';
import { userKey } from '../lambdas/adapters/dynamodb/user-repository';
import { newId } from '../lambdas/domain/shared/ids';
import type { LocalPlatform } from '../local/platform';
import { withLocalPlatform } from './local-stack';
import { type Summary, summarize } from './stats';

export interface DynamoCall {
  readonly operation: string;
  /** Request body size, to show the raw calls carry items of the same size as the API's. */
  readonly bytes: number;
}

/** A traced DynamoDB request with when it went out and how long until its response had been read. */
export interface TimedDynamoCall extends DynamoCall {
  /** performance.now() when the request started. */
  readonly startedAt: number;
  /** Until the response body had been read (NaN if it never was). */
  readonly ms: number;
}

/** Milliseconds during which at least one of the calls was in flight (parallel calls count once). */
export function wallMs(calls: readonly TimedDynamoCall[]): number {
  const spans = calls
    .filter((c) => Number.isFinite(c.ms))
    .map((c) => [c.startedAt, c.startedAt + c.ms] as const)
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = Number.NEGATIVE_INFINITY;
  for (const [from, to] of spans) {
    if (to <= end) continue;
    total += to - Math.max(from, end);
    end = to;
  }
  return total;
}

export interface RouteLatency {
  readonly route: string;
  /** DynamoDB requests one API call made, traced on the wire, and those the raw floor makes. */
  readonly calls: {
    readonly api: readonly DynamoCall[];
    readonly raw: readonly DynamoCall[];
    readonly match: boolean;
  };
  readonly apiMs: Summary & { readonly samples: readonly number[] };
  readonly rawMs: Summary & { readonly samples: readonly number[] };
  readonly overheadP50Ms: number;
  /**
   * The per-request read of the caller's user record (one consistent GetItem), timed inside this
   * route's raw floor: what authorising each request by the user's current record costs.
   */
  readonly userReadMs: Summary;
}

export interface ApiLatencyOptions {
  readonly requests: number;
  readonly warmup: number;
  readonly progress: (message: string) => void;
}

export interface ApiResponse {
  readonly status: number;
  readonly text: string;
  readonly ms: number;
}

/** A keep-alive HTTP/1.1 client on one socket: the same transport the SDK uses for the raw calls. */
export class ApiClient {
  private readonly agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
  private readonly base: URL;
  token: string | undefined;

  constructor(url: string) {
    this.base = new URL(url);
  }

  call(
    method: string,
    path: string,
    body?: unknown,
    extraHeaders: Readonly<Record<string, string>> = {},
  ): Promise<ApiResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { ...extraHeaders };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = request(
        { host: this.base.hostname, port: this.base.port, method, path, headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              text: Buffer.concat(chunks).toString('utf8'),
              ms: performance.now() - started,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Fails loudly: a fast 4xx/5xx must never be counted as a latency sample. */
  async expect(
    status: number,
    method: string,
    path: string,
    body?: unknown,
    headers?: Readonly<Record<string, string>>,
  ): Promise<ApiResponse> {
    const response = await this.call(method, path, body, headers);
    if (response.status !== status) {
      throw new Error(
        `${method} ${path}: expected ${status}, got ${response.status}: ${response.text.slice(0, 500)}`,
      );
    }
    return response;
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * Records the DynamoDB requests made (by anyone in this process) while `action` runs. The
 * handlers run in this process, so this sees exactly what a route sends, without touching them.
 */
export async function traceDynamoCalls(action: () => Promise<unknown>): Promise<DynamoCall[]> {
  const calls = await traceTimedDynamoCalls(action);
  return calls.map(({ operation, bytes }) => ({ operation, bytes }));
}

/**
 * As traceDynamoCalls, and times each request from its start until its response body was read.
 * That is the round trip as the handler saw it: it includes any wait for this process's event
 * loop (the handlers' own work delays the reading of a response that has arrived).
 */
export async function traceTimedDynamoCalls(action: () => Promise<unknown>): Promise<TimedDynamoCall[]> {
  const calls: { operation: string; bytes: number; startedAt: number; ms: number }[] = [];
  const onRequest = (message: unknown) => {
    const { request: outgoing } = message as { request: ClientRequest };
    const target = outgoing.getHeader('x-amz-target');
    if (typeof target === 'string' && target.startsWith('DynamoDB_')) {
      const call = {
        operation: target.slice(target.indexOf('.') + 1),
        bytes: Number(outgoing.getHeader('content-length') ?? 0),
        startedAt: performance.now(),
        ms: Number.NaN,
      };
      calls.push(call);
      outgoing.once('response', (response: IncomingMessage) => {
        const done = () => {
          if (Number.isNaN(call.ms)) call.ms = performance.now() - call.startedAt;
        };
        response.once('end', done);
        response.once('close', done);
      });
    }
  };
  subscribe('http.client.request.start', onRequest);
  try {
    await action();
  } finally {
    unsubscribe('http.client.request.start', onRequest);
  }
  return calls;
}

export const timed = async (action: () => Promise<unknown>): Promise<number> => {
  const started = performance.now();
  await action();
  return performance.now() - started;
};

export const MEASURED_ROUTES = ['POST /v1/agents', 'GET /v1/agents/{id}', 'GET /v1/agents?limit=25'] as const;

interface RouteBench {
  readonly route: (typeof MEASURED_ROUTES)[number];
  readonly api: (i: number) => Promise<number>;
  readonly raw: (i: number) => Promise<number>;
}

const createBody = (name: string) => ({
  name,
  businessType: 'dental',
  model: { provider: 'scripted', modelId: 'scripted-v1' },
});

/**
 * p50/p99 of three agent routes through the local platform (HTTP server, JWT check, handler,
 * DynamoDB Local) next to the bare DynamoDB calls each route has to make, sent with the same
 * document client settings to the same table. API and raw calls alternate request by request
 * (ABBA), so a noisy moment on this machine lands on both.
 */
export async function measureApiLatency(options: ApiLatencyOptions): Promise<RouteLatency[]> {
  // Set before the platform imports the handlers: Powertools reads it once, at module load.
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  options.progress('starting DynamoDB Local and the local platform…');
  return withLocalPlatform((platform, assertRunning) => measureAgainst(platform, assertRunning, options));
}

async function measureAgainst(
  platform: LocalPlatform,
  assertRunning: () => void,
  options: ApiLatencyOptions,
): Promise<RouteLatency[]> {
  const api = new ApiClient(platform.url);
  const documents = createDocumentClient({ region: 'us-east-1', endpoint: platform.dynamoEndpoint });
  const table = platform.tableName;
  try {
    const registered = await api.expect(201, 'POST', '/v1/auth/register', {
      tenant: { name: 'Bench Co' },
      owner: { email: 'bench@example.test', password: 'Correct-Horse-9', name: 'Bench' },
    });
    const { tenant, user, auth } = JSON.parse(registered.text) as {
      tenant: { id: string };
      user: { id: string };
      auth: { token: string };
    };
    api.token = auth.token;
    const seed = JSON.parse((await api.expect(201, 'POST', '/v1/agents', createBody('Seed'))).text) as {
      id: string;
    };

    // The items the API wrote, read back as they are stored, so the raw writes carry the same shape and size.
    const key = agentKey(tenant.id, seed.id);
    const versionPartition = (agentId: string) => `${key.pk}#AGENT#${agentId}`;
    const { Item: agentItem } = await documents.send(new GetCommand({ TableName: table, Key: key }));
    const { Item: versionItem } = await documents.send(
      new GetCommand({ TableName: table, Key: { pk: versionPartition(seed.id), sk: 'V#0000000001' } }),
    );
    if (!agentItem || !versionItem)
      throw new Error('Could not read back the seed agent and its first version');
    const versionConfig = versionItem.config as Record<string, unknown>;
    // The admin-change audit entry the API appends after the create, read back the same way.
    const { Items: auditItems } = await documents.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `T#${tenant.id}#AUDIT` },
        ScanIndexForward: false,
        Limit: 1,
      }),
    );
    const auditItem = auditItems?.[0];
    if (!auditItem) throw new Error('Could not read back the audit entry of the seed agent');

    // Every authenticated request first reads its caller's record, strongly consistent
    // (lambdas/http/request.ts principalFrom); each raw floor starts with the same read, timed apart.
    const userReadSamples: number[][] = [[], [], []];
    const readUser = async (route: number) => {
      const ms = await timed(() =>
        documents.send(
          new GetCommand({ TableName: table, Key: userKey(tenant.id, user.id), ConsistentRead: true }),
        ),
      );
      userReadSamples[route]?.push(ms);
    };

    // Mirrors DynamoAgentRepository: create = one TransactWrite of the agent and its first
    // version, each conditional, then the audit log's conditional PutItem of the admin change;
    // get = one GetItem; list = one Query, newest first, deleted filtered out.
    const rawCreate = (i: number) => {
      const id = newId('agent');
      const name = `Raw ${i}`;
      const now = new Date().toISOString();
      const agent = {
        ...agentItem,
        sk: `AGENT#${id}`,
        gsi1sk: `${name.toLowerCase()}#${id}`,
        nameLower: name.toLowerCase(),
        id,
        name,
        createdAt: now,
        updatedAt: now,
      };
      const version = {
        ...versionItem,
        pk: versionPartition(id),
        agentId: id,
        config: { ...versionConfig, name },
        createdAt: now,
      };
      const put = (Item: Record<string, unknown>) => ({
        Put: { TableName: table, Item, ConditionExpression: 'attribute_not_exists(pk)' },
      });
      const audit = { ...auditItem, sk: `${now}#${newId('audit')}`, id: newId('audit'), at: now };
      return timed(async () => {
        await readUser(0);
        await documents.send(new TransactWriteCommand({ TransactItems: [put(agent), put(version)] }));
        await documents.send(
          new PutCommand({ TableName: table, Item: audit, ConditionExpression: 'attribute_not_exists(pk)' }),
        );
      });
    };
    const rawGet = () =>
      timed(async () => {
        await readUser(1);
        await documents.send(new GetCommand({ TableName: table, Key: key }));
      });
    const rawList = () =>
      timed(async () => {
        await readUser(2);
        await documents.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :agentPrefix)',
            FilterExpression: 'attribute_not_exists(deletedAt)',
            ExpressionAttributeValues: { ':pk': key.pk, ':agentPrefix': 'AGENT#' },
            ScanIndexForward: false,
            Limit: 25,
          }),
        );
      });

    const routes: RouteBench[] = [
      {
        route: 'POST /v1/agents',
        api: async (i) => (await api.expect(201, 'POST', '/v1/agents', createBody(`Agent ${i}`))).ms,
        raw: rawCreate,
      },
      {
        route: 'GET /v1/agents/{id}',
        api: async () => (await api.expect(200, 'GET', `/v1/agents/${seed.id}`)).ms,
        raw: rawGet,
      },
      {
        route: 'GET /v1/agents?limit=25',
        api: async () => (await api.expect(200, 'GET', '/v1/agents?limit=25')).ms,
        raw: rawList,
      },
    ];

    const apiSamples = routes.map((): number[] => []);
    const rawSamples = routes.map((): number[] => []);
    const iteration = async (i: number, keep: boolean) => {
      assertRunning();
      for (const [r, route] of routes.entries()) {
        const apiFirst = i % 2 === 0;
        const first = await (apiFirst ? route.api(i) : route.raw(i));
        const second = await (apiFirst ? route.raw(i) : route.api(i));
        if (keep) {
          apiSamples[r]?.push(apiFirst ? first : second);
          rawSamples[r]?.push(apiFirst ? second : first);
        }
      }
    };

    options.progress(`API warm-up: ${options.warmup} rounds…`);
    for (let i = 0; i < options.warmup; i++) await iteration(i, false);

    // Traced after the warm-up, with the table as full as during the measurement (list pages are full).
    const traced: RouteLatency['calls'][] = [];
    for (const route of routes) {
      const apiCalls = await traceDynamoCalls(() => route.api(-1));
      const rawCalls = await traceDynamoCalls(() => route.raw(-1));
      const ops = (calls: DynamoCall[]) => calls.map((c) => c.operation).join();
      traced.push({ api: apiCalls, raw: rawCalls, match: ops(apiCalls) === ops(rawCalls) });
    }

    for (const samples of userReadSamples) samples.length = 0;
    options.progress(`API vs raw DynamoDB: ${options.requests} rounds of ${routes.length * 2} requests…`);
    for (let i = 0; i < options.requests; i++) await iteration(options.warmup + i, true);

    return routes.map((route, r) => {
      const apiMs = { ...summarize(apiSamples[r] ?? []), samples: apiSamples[r] ?? [] };
      const rawMs = { ...summarize(rawSamples[r] ?? []), samples: rawSamples[r] ?? [] };
      const calls = traced[r] ?? { api: [], raw: [], match: false };
      return {
        route: route.route,
        calls,
        apiMs,
        rawMs,
        overheadP50Ms: apiMs.p50 - rawMs.p50,
        userReadMs: summarize(userReadSamples[r] ?? []),
      };
    });
  } finally {
    api.close();
    documents.destroy();
    options.progress('stopping the local platform and DynamoDB Local…');
  }
}
