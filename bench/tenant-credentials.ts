import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient, type TableClient } from '../lambdas/adapters/dynamodb/document-client';
import { localTenantCredentials } from '../lambdas/adapters/local/local-tenant-credentials';
import { routingTableClient } from '../lambdas/composition/table';
import { awsTenantCredentials } from '../lambdas/composition/tenant-clients';
import { inTenantScope } from '../lambdas/composition/tenant-scope';
import { newId } from '../lambdas/domain/shared/ids';
import { ensureTable, startDynamoDbLocal } from '../local/dynamodb-local';
import { heading, ms, p50p99, table } from './report';
import { type Summary, summarize } from './stats';

/**
 * The cost of tenant-scoped credentials on the table path, side by side in one run on one
 * DynamoDB Local: a point read with the plain client (the floor), with the routing client for a
 * warm tenant (its client and credentials cached), and for a cold tenant (its first request: the
 * credentials and the client are made, then the read). Two providers: the local one (its policy
 * check on every request) and the AWS one (STS AssumeRole against a local stand-in answering as
 * STS does, reached through the STS client's endpoint), so the provider's own code path is timed.
 * The stand-in answers at once: on AWS, add AssumeRole's own round trip (~10–30 ms in-region) to
 * the cold figure, once per tenant per container per ~10 minutes.
 */
export interface TenantCredentialsResult {
  readonly rows: readonly { readonly path: string; readonly summary: Summary }[];
  readonly assumeRoleCalls: number;
  readonly coldTenants: number;
}

const TABLE = 'bench-tenant-credentials';

export async function measureTenantCredentials(options: {
  readonly progress: (message: string) => void;
  readonly warmRequests?: number;
  readonly coldTenants?: number;
}): Promise<TenantCredentialsResult> {
  const warmRequests = options.warmRequests ?? 400;
  const coldTenants = options.coldTenants ?? 100;
  process.env.AWS_ACCESS_KEY_ID ??= 'bench';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';
  const dynamo = await startDynamoDbLocal();
  const sts = await startStsStandIn();
  try {
    await ensureTable(dynamo.endpoint, TABLE);
    const config = { AWS_REGION: 'us-east-1', DYNAMODB_ENDPOINT: dynamo.endpoint };
    const plain = createDocumentClient({ region: 'us-east-1', endpoint: dynamo.endpoint });
    const local = routingTableClient(config, localTenantCredentials);
    const aws = awsTenantCredentials({
      roleArn: 'arn:aws:iam::123456789012:role/bench-tenant-access',
      region: 'us-east-1',
      stsEndpoint: sts.url,
    });
    const viaSts = routingTableClient(config, () => aws);

    const warmTenant = newId('tenant');
    const read = (client: TableClient, tenantId: string) =>
      client.send(new GetCommand({ TableName: TABLE, Key: { pk: `T#${tenantId}`, sk: 'TENANT' } }));
    const timed = async (work: () => Promise<unknown>) => {
      const started = performance.now();
      await work();
      return performance.now() - started;
    };

    options.progress('tenant credentials: warm-up');
    for (let i = 0; i < 30; i++) {
      await read(plain, warmTenant);
      await inTenantScope(warmTenant, () => read(local, warmTenant));
      await inTenantScope(warmTenant, () => read(viaSts, warmTenant));
    }
    // Interleaved, so drift in DynamoDB Local or the machine hits every path alike.
    options.progress(`tenant credentials: ${warmRequests} warm reads per path`);
    const warm = { plain: [] as number[], local: [] as number[], sts: [] as number[] };
    for (let i = 0; i < warmRequests; i++) {
      warm.plain.push(await timed(() => read(plain, warmTenant)));
      warm.local.push(await timed(() => inTenantScope(warmTenant, () => read(local, warmTenant))));
      warm.sts.push(await timed(() => inTenantScope(warmTenant, () => read(viaSts, warmTenant))));
    }
    options.progress(`tenant credentials: ${coldTenants} cold tenants per provider`);
    const cold = { local: [] as number[], sts: [] as number[] };
    for (let i = 0; i < coldTenants; i++) {
      const first = newId('tenant');
      cold.local.push(await timed(() => inTenantScope(first, () => read(local, first))));
      const second = newId('tenant');
      cold.sts.push(await timed(() => inTenantScope(second, () => read(viaSts, second))));
    }
    return {
      rows: [
        { path: 'plain client (floor)', summary: summarize(warm.plain) },
        { path: 'warm tenant, local provider', summary: summarize(warm.local) },
        { path: 'warm tenant, AWS provider (STS stand-in)', summary: summarize(warm.sts) },
        { path: 'cold tenant, local provider', summary: summarize(cold.local) },
        { path: 'cold tenant, AWS provider (STS stand-in)', summary: summarize(cold.sts) },
      ],
      assumeRoleCalls: sts.calls(),
      coldTenants,
    };
  } finally {
    await sts.stop();
    await dynamo.stop();
  }
}

export function printTenantCredentials(result: TenantCredentialsResult): void {
  const floor = result.rows[0]?.summary;
  console.log(heading('Tenant credentials (point read on DynamoDB Local)'));
  console.log(
    table(
      ['path', 'n', 'p50 ms', 'p99 ms', 'p50 over floor ms'],
      result.rows.map(({ path, summary }) => [
        path,
        String(summary.n),
        ...p50p99(summary),
        floor ? ms(summary.p50 - floor.p50) : '-',
      ]),
    ),
  );
  console.log(
    `AssumeRole calls: ${result.assumeRoleCalls} (1 warm tenant + ${result.coldTenants} cold ones: one per tenant). ` +
      'The STS stand-in answers at once; on AWS a cold tenant also pays AssumeRole’s round trip.',
  );
}

/** Answers STS AssumeRole (query protocol, XML) with fresh 15-minute credentials. */
async function startStsStandIn(): Promise<{ url: string; calls(): number; stop(): Promise<void> }> {
  let calls = 0;
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      if (!body.includes('Action=AssumeRole')) {
        response.writeHead(400).end();
        return;
      }
      calls += 1;
      const expiration = new Date(Date.now() + 900_000).toISOString();
      response
        .writeHead(200, { 'content-type': 'text/xml' })
        .end(
          `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>` +
            `<AccessKeyId>ASIA${randomBytes(8).toString('hex').toUpperCase()}</AccessKeyId>` +
            `<SecretAccessKey>${randomBytes(20).toString('base64')}</SecretAccessKey>` +
            `<SessionToken>${randomBytes(64).toString('base64')}</SessionToken>` +
            `<Expiration>${expiration}</Expiration></Credentials>` +
            '<AssumedRoleUser><AssumedRoleId>AROA:bench</AssumedRoleId><Arn>arn:aws:sts::123456789012:assumed-role/bench</Arn></AssumedRoleUser>' +
            '</AssumeRoleResult><ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata></AssumeRoleResponse>',
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls: () => calls,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** `npx tsx bench/tenant-credentials.ts`: this section alone. */
if (require.main === module) {
  measureTenantCredentials({ progress: (message) => process.stderr.write(`[bench] ${message}\n`) })
    .then(printTenantCredentials)
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
