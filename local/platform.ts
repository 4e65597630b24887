import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { HttpHandler } from '../lambdas/http/http-handler';
import type { HttpLambdaName } from '../lambdas/http/route-table';
import { type DynamoDbLocal, ensureTable, startDynamoDbLocal } from './dynamodb-local';
import { createLocalHttpServer } from './http-server';
import { useLocalStandIns } from './stand-ins';
import {
  attachLocalWebSocket,
  type LocalWebSocketHandlers,
  type LocalWebSocketOptions,
  settleLocalWebSocket,
} from './websocket-server';

export interface LocalPlatformOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  readonly host?: string;
  /** Keep the data (and the issuer key, so tokens survive restarts) here; in memory otherwise. */
  readonly dataDir?: string;
  /** Use an already running DynamoDB Local instead of starting one (the tests share one). */
  readonly dynamoEndpoint?: string;
  readonly tableName?: string;
  readonly logRequests?: boolean;
  /** The WebSocket idle timeout and maximum duration (API Gateway's 10 minutes and 2 hours by default). */
  readonly webSocket?: Pick<LocalWebSocketOptions, 'idleTimeoutMs' | 'maxConnectionMs'>;
  /** The built console to serve at `/` (default console/dist; `false` serves none). */
  readonly consoleDir?: string | false;
}

export interface LocalPlatform {
  readonly url: string;
  /**
   * The platform operator's login (POST /v1/auth/login): outside every tenant, it may call only
   * the /v1/operator routes. The password is new at each start unless LOCAL_OPERATOR_PASSWORD is set.
   */
  readonly operator: { readonly email: string; readonly password: string };
  readonly tableName: string;
  readonly dynamoEndpoint: string;
  stop(): Promise<void>;
}

export const LOCAL_AUDIENCE = 'agent-platform-local';
/** As often as the AWS schedule (lib/constructs/reservation-housekeeping.ts) sweeps. */
const HOUSEKEEPING_INTERVAL_MS = 5 * 60_000;

async function issuerKeys(dataDir: string | undefined): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const file = dataDir ? join(dataDir, 'local-issuer.jwk.json') : undefined;
  if (file) {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as { privateJwk: JWK; publicJwk: JWK };
    } catch {
      // First start with this data folder: create the key below.
    }
  }
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `local-${Date.now().toString(36)}`;
  const keys = {
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
  };
  if (file) await writeFile(file, JSON.stringify(keys), { mode: 0o600 });
  return keys;
}

let started = false;

/**
 * The whole platform on this machine: DynamoDB Local with the stack's table, the local
 * issuer, and the route table served over HTTP by the same handler functions the Lambdas run.
 * Handlers read their configuration at import, so one platform runs per process.
 */
export async function startLocalPlatform(options: LocalPlatformOptions = {}): Promise<LocalPlatform> {
  if (started) throw new Error('A local platform is already running in this process');
  started = true;
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const tableName = options.tableName ?? 'agent-platform-local';
  const dynamo = options.dynamoEndpoint
    ? undefined
    : await startDynamoDbLocal(options.dataDir ? { dataDir: options.dataDir } : {});
  const dynamoEndpoint = options.dynamoEndpoint ?? (dynamo as DynamoDbLocal).endpoint;
  try {
    await ensureTable(dynamoEndpoint, tableName);
    const keys = await issuerKeys(options.dataDir);
    let issuer = '';
    let resolveHandlers: (handlers: Record<HttpLambdaName, HttpHandler>) => void = () => undefined;
    const handlers = new Promise<Record<HttpLambdaName, HttpHandler>>((resolve) => {
      resolveHandlers = resolve;
    });
    const server = createLocalHttpServer({
      handlers,
      jwks: { keys: [keys.publicJwk] },
      issuer: () => issuer,
      audience: LOCAL_AUDIENCE,
      logRequests: options.logRequests ?? false,
      ...(options.consoleDir === false
        ? {}
        : { consoleDir: options.consoleDir ?? join(__dirname, '../console/dist') }),
    });
    let resolveWebSocketHandlers: (handlers: LocalWebSocketHandlers) => void = () => undefined;
    const webSocket = attachLocalWebSocket(
      server,
      new Promise<LocalWebSocketHandlers>((resolve) => {
        resolveWebSocketHandlers = resolve;
      }),
      { ...options.webSocket, logRequests: options.logRequests ?? false },
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
    });
    const { port } = server.address() as AddressInfo;
    const url = `http://${options.host === '0.0.0.0' ? '127.0.0.1' : (options.host ?? '127.0.0.1')}:${port}`;
    issuer = `${url}/local-issuer`;

    Object.assign(process.env, {
      TABLE_NAME: tableName,
      DYNAMODB_ENDPOINT: dynamoEndpoint,
      AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
      STAGE: 'local',
      IDENTITY_PROVIDER: 'local',
      LOCAL_ISSUER: issuer,
      LOCAL_AUDIENCE,
      LOCAL_SIGNING_JWK: JSON.stringify(keys.privateJwk),
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      POWERTOOLS_SERVICE_NAME: 'agent-platform-local',
      // The offline hashing embedder unless Titan is asked for (EMBEDDER=titan with AWS credentials).
      EMBEDDER: process.env.EMBEDDER ?? 'hash',
      // Listing cursors are signed; without a configured key, one per process (cursors then last
      // until the platform restarts, as the in-memory state behind some of them does).
      CURSOR_SIGNING_KEY: process.env.CURSOR_SIGNING_KEY ?? randomBytes(32).toString('base64url'),
      // The console served here may be the return address of a purchase's hosted checkout.
      CONSOLE_ORIGINS: [process.env.CONSOLE_ORIGINS, url, `http://localhost:${port}`]
        .filter((origin) => origin)
        .join(','),
    });
    useLocalStandIns();
    // Imported only now: each handler reads its configuration once, at module load, as in Lambda.
    resolveHandlers({
      auth: (await import('../lambdas/handlers/http/auth')).handler,
      tenancy: (await import('../lambdas/handlers/http/tenancy')).handler,
      agents: (await import('../lambdas/handlers/http/agents')).handler,
      system: (await import('../lambdas/handlers/http/system')).handler,
      memory: (await import('../lambdas/handlers/http/memory')).handler,
      runtime: (await import('../lambdas/handlers/http/runtime')).handler,
      billing: (await import('../lambdas/handlers/http/billing')).handler,
      actions: (await import('../lambdas/handlers/http/actions')).handler,
      webhooks: (await import('../lambdas/handlers/http/webhooks')).handler,
    });
    // The WebSocket API's Lambdas at /v1/ws on the same port (local/websocket-server.ts).
    resolveWebSocketHandlers({
      authorizer: (await import('../lambdas/handlers/websocket/authorizer')).handler,
      connection: (await import('../lambdas/handlers/websocket/connection')).handler,
      messages: (await import('../lambdas/handlers/websocket/messages')).handler,
    });
    const operator = {
      email: process.env.LOCAL_OPERATOR_EMAIL ?? 'operator@platform.local',
      password: process.env.LOCAL_OPERATOR_PASSWORD ?? `op-${randomBytes(12).toString('base64url')}`,
    };
    const { LocalIdentityProvider } = await import('../lambdas/adapters/local/local-identity');
    const { createDocumentClient } = await import('../lambdas/adapters/dynamodb/document-client');
    await new LocalIdentityProvider({
      client: createDocumentClient({
        region: process.env.AWS_REGION ?? 'us-east-1',
        endpoint: dynamoEndpoint,
      }),
      tableName,
      issuer,
      audience: LOCAL_AUDIENCE,
      signingJwk: JSON.stringify(keys.privateJwk),
      tokenTtlSeconds: 3600,
    }).ensureOperator(operator.email, operator.password);
    // What the AWS housekeeping schedule does: give back the tokens of reservations whose hold ran out.
    const { handler: sweepExpiredReservations } = await import(
      '../lambdas/handlers/events/release-expired-reservations'
    );
    const sweep = setInterval(() => {
      sweepExpiredReservations().catch((error: unknown) =>
        console.error('Reservation housekeeping failed', error),
      );
    }, HOUSEKEEPING_INTERVAL_MS);
    sweep.unref();

    return {
      url,
      operator,
      tableName,
      dynamoEndpoint,
      stop: async () => {
        clearInterval(sweep);
        // Approvals still waiting are stopped (as StopExecution would) before their table goes away.
        await (await import('./approval-workflow')).localApprovalWorkflow().stopAll();
        await (await import('./provisioning-workflow')).localProvisioningWorkflow().stopAll();
        for (const client of webSocket.clients) client.terminate();
        webSocket.close();
        await settleLocalWebSocket();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await dynamo?.stop();
        started = false;
      },
    };
  } catch (error) {
    await dynamo?.stop();
    started = false;
    throw error;
  }
}
