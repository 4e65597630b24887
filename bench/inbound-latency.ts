import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { createDocumentClient } from '../lambdas/adapters/dynamodb/document-client';
import type { LocalPlatform } from '../local/platform';
import { finishBench, measureInChildProcess, UNREACHED_TURN_RATE_LIMITS } from './isolated';
import { platformApi, withLocalPlatform } from './local-stack';
import { floorRatioFindings, heading, p50p99, table, times } from './report';
import { round, type Summary, summarize } from './stats';

/** The webhook's acknowledgement against its own DynamoDB round trips (route read + dedup put). */
export const INBOUND_ACK_RATIO_TARGET = 1.5;

export interface InboundLatencyResult {
  readonly messages: number;
  /**
   * POST /v1/webhooks/twilio/sms until its answer (route, secrets, signature, dedup, queue), sent
   * with node:http and a keep-alive agent: the HTTP stack the floor's SDK calls use.
   */
  readonly ackMs: Summary;
  /** The same webhook sent with `fetch` (undici): shown for comparison, not held to the target. */
  readonly ackFetchMs: Summary;
  /** The same DynamoDB requests made directly: GetItem of the route, conditional PutItem of the dedup claim. */
  readonly floorMs: Summary;
  readonly ratioP50: number;
  readonly ratioP99: number;
  /** From the POST until the reply is in the outbox (the turn with the scripted model, billing, send). */
  readonly replyMs: Summary;
}

const AUTH_TOKEN = 'bench-twilio-token';
const AGENT_NUMBER = '+15550199';

type InboundSetupReply = {
  readonly id: string;
  readonly auth: { readonly token: string };
  readonly items: readonly unknown[];
};

const api = (platform: LocalPlatform, method: string, path: string, body?: unknown, token?: string) =>
  platformApi<InboundSetupReply>(platform, { method, path, body, token });

/**
 * The provider's side of the webhook. node:http with a keep-alive agent, as the AWS SDK's own
 * handler sends the floor's DynamoDB requests: the ratio then compares the platform's work, not two
 * HTTP client libraries (undici's `fetch` alone adds ~0.4 ms a request on this machine, which no
 * provider's sender would pay the platform for).
 */
const providerAgent = new Agent({ keepAlive: true, maxSockets: 1 });
function postWithNodeHttp(
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const sent = request(
      url,
      {
        method: 'POST',
        agent: providerAgent,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    sent.on('error', reject);
    sent.end(body);
  });
}

async function measure(
  platform: LocalPlatform,
  assertRunning: () => void,
  options: { messages: number; warmup: number; progress: (message: string) => void },
): Promise<InboundLatencyResult> {
  const registered = await api(platform, 'POST', '/v1/auth/register', {
    tenant: { name: 'Inbound bench' },
    owner: { email: `bench-${Date.now()}@example.test`, password: 'Correct-Horse-9', name: 'Bench' },
  });
  const token = registered.auth.token;
  await api(platform, 'POST', '/v1/tokens/purchase', { amount: 1_000_000 }, token);
  const agent = await api(
    platform,
    'POST',
    '/v1/agents',
    {
      name: 'Bench desk',
      businessType: 'dental',
      model: { provider: 'scripted', modelId: 'scripted-v1' },
      tools: ['calculator'],
    },
    token,
  );
  await api(platform, 'POST', `/v1/agents/${agent.id}/start`, undefined, token);
  await api(
    platform,
    'PUT',
    `/v1/agents/${agent.id}/channels/sms`,
    {
      address: AGENT_NUMBER,
      enabled: true,
      credentials: { accountSid: `AC${'0'.repeat(32)}`, authToken: AUTH_TOKEN },
    },
    token,
  );
  const { localInboundQueue } = await import('../lambdas/composition/inbound');
  const client = createDocumentClient({ region: 'us-east-1', endpoint: platform.dynamoEndpoint });
  const url = `${platform.url}/v1/webhooks/twilio/sms`;
  let sequence = 0;

  const post = async (client: 'node:http' | 'fetch'): Promise<number> => {
    const sid = `SM${(++sequence).toString(16).padStart(32, '0')}`;
    const form = {
      MessageSid: sid,
      SmsMessageSid: sid,
      AccountSid: `AC${'0'.repeat(32)}`,
      From: `+1555${String(1_000_000 + sequence).slice(-7)}`,
      To: AGENT_NUMBER,
      Body: `What is ${sequence}+1?`,
      NumMedia: '0',
      ApiVersion: '2010-04-01',
    };
    const body = new URLSearchParams(form).toString();
    const signature = getExpectedTwilioSignature(AUTH_TOKEN, url, form);
    const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature };
    const started = performance.now();
    let status: number;
    if (client === 'fetch') {
      const response = await fetch(url, { method: 'POST', headers, body });
      await response.text();
      status = response.status;
    } else {
      status = (await postWithNodeHttp(url, headers, body)).status;
    }
    if (status !== 200) throw new Error(`webhook answered ${status}`);
    return started;
  };
  const floor = async (): Promise<number> => {
    const started = performance.now();
    await client.send(
      new GetCommand({
        TableName: platform.tableName,
        Key: { pk: `CHADDR#sms#${AGENT_NUMBER}`, sk: 'ROUTE' },
        // The request the directory makes (adapters/dynamodb/channel-directory.ts), exactly.
        ConsistentRead: true,
        ProjectionExpression: 'tenantId, agentId',
      }),
    );
    await client.send(
      new PutCommand({
        TableName: platform.tableName,
        Item: {
          pk: `INBOUND#bench#${++sequence}`,
          sk: 'DEDUP',
          entity: 'inboundDedup',
          expiresAt: Math.floor(Date.now() / 1000) + 3600,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
        ExpressionAttributeValues: { ':now': Math.floor(Date.now() / 1000) },
      }),
    );
    return performance.now() - started;
  };

  const ack: number[] = [];
  const ackFetch: number[] = [];
  const raw: number[] = [];
  const reply: number[] = [];
  for (let index = -options.warmup; index < options.messages; index++) {
    assertRunning();
    if (index === 0) options.progress(`inbound bench: ${options.messages} messages…`);
    // Interleaved with the floor, and the turn held until the webhook has answered (on AWS it runs
    // in another Lambda): the acknowledgement is timed on its own; the reply from the same start.
    const floorFirst = index % 2 === 0;
    const floorMs = floorFirst ? await floor() : undefined;
    const release = localInboundQueue?.hold();
    const started = await post('node:http');
    const acked = performance.now();
    release?.();
    await localInboundQueue?.drain();
    const replied = performance.now();
    const floorAfter = floorFirst ? floorMs : await floor();
    // The same webhook through fetch, for comparison (another customer, its turn held likewise).
    const releaseFetch = localInboundQueue?.hold();
    const startedFetch = await post('fetch');
    const ackedFetch = performance.now();
    releaseFetch?.();
    await localInboundQueue?.drain();
    if (index < 0) continue;
    ack.push(acked - started);
    ackFetch.push(ackedFetch - startedFetch);
    raw.push(floorAfter ?? Number.NaN);
    reply.push(replied - started);
  }
  const outbox = await api(platform, 'GET', '/v1/dev/outbox?kind=sms&limit=5', undefined, token);
  if (outbox.items.length === 0) throw new Error('no reply reached the outbox');
  const ackMs = summarize(ack);
  const floorMs = summarize(raw);
  return {
    messages: options.messages,
    ackMs,
    ackFetchMs: summarize(ackFetch),
    floorMs,
    ratioP50: round(ackMs.p50 / floorMs.p50),
    ratioP99: round(ackMs.p99 / floorMs.p99),
    replyMs: summarize(reply),
  };
}

export function printInboundLatency(result: InboundLatencyResult): void {
  console.log(
    heading(
      `Inbound messages (${result.messages} Twilio SMS webhooks, signed, one customer each; scripted model)`,
    ),
  );
  console.log(
    table(
      ['Measure', 'p50 ms', 'p99 ms', 'Floor p50', 'Floor p99', '× p50', '× p99', 'Target'],
      [
        [
          'webhook acknowledgement',
          ...p50p99(result.ackMs),
          ...p50p99(result.floorMs),
          times(result.ratioP50),
          times(result.ratioP99),
          `≤ ${INBOUND_ACK_RATIO_TARGET}×`,
        ],
        [
          '  the same, sent with fetch',
          ...p50p99(result.ackFetchMs),
          ...p50p99(result.floorMs),
          times(round(result.ackFetchMs.p50 / result.floorMs.p50)),
          times(round(result.ackFetchMs.p99 / result.floorMs.p99)),
          '-',
        ],
        ['inbound → reply in the outbox', ...p50p99(result.replyMs), '-', '-', '-', '-', '-'],
      ],
    ),
  );
  console.log(
    'Floor = the acknowledgement’s own DynamoDB round trips made directly (route GetItem + conditional dedup PutItem).\n' +
      'Both sent with node:http keep-alive (the SDK’s handler); the fetch row adds undici’s client cost.\n' +
      'On AWS the acknowledgement also makes an SQS SendMessage (the local queue is in-process) and, on a\n' +
      'container’s first message for a channel, a Secrets Manager read (then cached); neither is in this floor.',
  );
}

export function inboundFindings(result: InboundLatencyResult): string[] {
  return floorRatioFindings('inbound webhook acknowledgement', result.ratioP50, INBOUND_ACK_RATIO_TARGET);
}

/** In a child process: one local platform per process, and the other benches have theirs. */
export function measureInboundLatencyIsolated(options: {
  messages: number;
  warmup: number;
  progress: (message: string) => void;
}): Promise<InboundLatencyResult> {
  return measureInChildProcess({
    script: __filename,
    label: 'inbound bench',
    flags: { messages: options.messages, warmup: options.warmup },
    env: { TURN_RATE_LIMITS: UNREACHED_TURN_RATE_LIMITS },
    progress: options.progress,
  });
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string', default: '200' },
      warmup: { type: 'string', default: '20' },
      out: { type: 'string' },
    },
  });
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  void finishBench(
    withLocalPlatform((platform, assertRunning) =>
      measure(platform, assertRunning, {
        messages: Number(values.messages),
        warmup: Number(values.warmup),
        progress: (message) => process.stderr.write(`[bench] ${message}\n`),
      }),
    ),
    values.out,
    printInboundLatency,
  );
}
