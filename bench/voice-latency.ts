import { randomUUID } from 'node:crypto';
import { ClientRequest } from 'node:http';
import { parseArgs } from 'node:util';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactGetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { LexV2Result } from 'aws-lambda';
import { createDocumentClient } from '../lambdas/adapters/dynamodb/document-client';
import { ID_PREFIXES, type IdKind, newId } from '../lambdas/domain/shared/ids';
import type { LocalPlatform } from '../local/platform';
import { contactFlowEvent, lexFallbackEvent } from '../local/voice-events';
import { timed, traceTimedDynamoCalls, wallMs } from './api-latency';
import { shadowConversation } from './chat-latency';
import { finishBench, measureInChildProcess, UNREACHED_TURN_RATE_LIMITS } from './isolated';
import { platformApi, withLocalPlatform } from './local-stack';
import { floorRatioFindings, heading, p50p99, table, times } from './report';
import { round, type Summary, summarize } from './stats';

/** A voice turn's handler time over its own DynamoDB round trips (issue 12). */
export const VOICE_TURN_RATIO_TARGET = 1.5;

export interface VoiceLatencyResult {
  readonly turns: number;
  /** The Lex code hook invocation of one turn (scripted model, one model call), end to end. */
  readonly turnMs: Summary;
  /**
   * The floor, as the chat bench's: the DynamoDB requests the turn made, captured on the wire and
   * replayed one after another by a document client (fresh ids for every write), each timed, summed.
   */
  readonly floorMs: Summary;
  /** The same requests as the turn saw them, timed on the wire inside it (parallel ones once). Information. */
  readonly inTurnDynamoMs: Summary;
  readonly dynamoCallsPerTurn: number;
  /** turn p50 / floor p50 (the checked figure) and the same at p99. */
  readonly ratioP50: number;
  readonly ratioP99: number;
  /** turn p50 / in-turn DynamoDB p50 (information: the old, in-turn comparison). */
  readonly inTurnRatioP50: number;
  /** Dialling until the greeting: the contact flow walked up to the bot turn, `start-call` included. */
  readonly firstPromptMs: Summary;
}

const AGENT_NUMBER = '+15550177';

type VoiceSetupReply = { readonly id: string; readonly auth: { readonly token: string } };

const api = (platform: LocalPlatform, method: string, path: string, body?: unknown, token?: string) =>
  platformApi<VoiceSetupReply>(platform, { method, path, body, token });

/** A DynamoDB request as it went on the wire: its operation and JSON body. */
interface WireRequest {
  readonly operation: string;
  readonly body: string;
}

/**
 * The DynamoDB requests made while `action` runs, with their bodies (the SDK ends each request with
 * its whole body). Requests the turn-event fan-out makes behind the turn (subscriber lists, read for
 * whoever watches, cached) are not the turn's own and are left out, as the chat bench's floor does.
 */
async function captureDynamoRequests(action: () => Promise<unknown>): Promise<WireRequest[]> {
  const requests: WireRequest[] = [];
  const end = ClientRequest.prototype.end;
  ClientRequest.prototype.end = function (this: ClientRequest, ...args: unknown[]) {
    const target = this.getHeader('x-amz-target');
    const body = args[0];
    if (typeof target === 'string' && target.startsWith('DynamoDB_') && typeof body !== 'function') {
      requests.push({ operation: target.slice(target.indexOf('.') + 1), body: String(body ?? '') });
    }
    return Reflect.apply(end, this, args) as ClientRequest;
  } as typeof end;
  try {
    await action();
  } finally {
    ClientRequest.prototype.end = end;
  }
  return requests.filter((r) => !r.body.includes('#WSSUB#'));
}

const KIND_OF_PREFIX = new Map(
  (Object.entries(ID_PREFIXES) as [IdKind, string][]).map(([kind, prefix]) => [prefix, kind]),
);
/** Ids a turn makes afresh (its execution, messages, reservation, ledger entries, tool runs, actions …). */
const FRESH_IDS = /\b(exe|led|rsv|tlr|act|aud|obx|apr|bkg)_[0-9A-HJKMNP-TV-Z]{26}\b/g;

/** Where the raw floor writes instead of the turn's own items (the chat bench's shadows). */
interface Shadow {
  readonly tenantId: string;
  readonly agentId: string;
  /** The rate window's tenant and the counters' agent: the floor counts there, not against the bench's. */
  readonly rateTenantId: string;
  readonly countersAgentId: string;
  readonly conversationId: string;
  readonly shadowConversationId: string;
  readonly contactId: string;
  readonly shadowContactId: string;
}

const AV_MAPS = new Set(['Key', 'Item', 'ExpressionAttributeValues', 'ExclusiveStartKey']);

/** Wire (AttributeValue) input to the document client's: the floor pays marshalling, as the turn does. */
function documentInput(value: unknown, name?: string): unknown {
  if (Array.isArray(value)) {
    return name === 'Keys'
      ? value.map((key) => unmarshall(key as Record<string, AttributeValue>))
      : value.map((item) => documentInput(item));
  }
  if (value && typeof value === 'object') {
    if (name && AV_MAPS.has(name)) return unmarshall(value as Record<string, AttributeValue>);
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, documentInput(v, key)]));
  }
  return value;
}

/** One request through the document client, as the repositories send it. */
function send(documents: DynamoDBDocumentClient, operation: string, input: never): Promise<unknown> {
  switch (operation) {
    case 'GetItem':
      return documents.send(new GetCommand(input));
    case 'PutItem':
      return documents.send(new PutCommand(input));
    case 'UpdateItem':
      return documents.send(new UpdateCommand(input));
    case 'DeleteItem':
      return documents.send(new DeleteCommand(input));
    case 'Query':
      return documents.send(new QueryCommand(input));
    case 'BatchGetItem':
      return documents.send(new BatchGetCommand(input));
    case 'BatchWriteItem':
      return documents.send(new BatchWriteCommand(input));
    case 'TransactGetItems':
      return documents.send(new TransactGetCommand(input));
    case 'TransactWriteItems':
      return documents.send(new TransactWriteCommand(input));
    default:
      throw new Error(`the voice floor cannot replay ${operation}`);
  }
}

/**
 * The turn's requests again, one after another, each timed: the same operations, keys, expressions
 * and item sizes, with a fresh id for everything the turn created (so every conditional write
 * succeeds as the turn's did), the call's conversation and contact swapped for their shadows, and
 * the rate window and agent counters counted elsewhere. The tenant's balance is the turn's own
 * item (reserve and settle are conditional on it): the floor spends a turn's tokens too.
 */
async function replayTurn(
  documents: DynamoDBDocumentClient,
  requests: readonly WireRequest[],
  shadow: Shadow,
): Promise<number[]> {
  const fresh = new Map<string, string>();
  const steps: number[] = [];
  for (const request of requests) {
    const body = request.body
      .replace(FRESH_IDS, (id) => {
        let renamed = fresh.get(id);
        if (!renamed) {
          renamed = newId(KIND_OF_PREFIX.get(id.slice(0, 3)) as IdKind);
          fresh.set(id, renamed);
        }
        return renamed;
      })
      .replaceAll(shadow.conversationId, shadow.shadowConversationId)
      .replaceAll(`voice:${shadow.contactId}:`, `voice:${shadow.shadowContactId}:`);
    if (body.length !== request.body.length) {
      throw new Error(`the voice floor's ${request.operation} is not the size of the turn's`);
    }
    const input = documentInput(JSON.parse(body)) as Record<string, unknown>;
    const redirect = (key: Record<string, unknown> | undefined) => {
      const { pk, sk } = key ?? {};
      if (!key || typeof pk !== 'string' || typeof sk !== 'string') return;
      if (sk.startsWith('TURNS#')) key.pk = `T#${shadow.rateTenantId}`;
      if (sk === 'STATS') key.pk = pk.replace(shadow.agentId, shadow.countersAgentId);
    };
    redirect(input.Key as Record<string, unknown> | undefined);
    for (const item of (input.TransactItems as Record<string, { Key?: Record<string, unknown> }>[]) ?? []) {
      for (const part of Object.values(item)) redirect(part.Key);
    }
    if (typeof input.ClientRequestToken === 'string') input.ClientRequestToken = randomUUID();
    steps.push(await timed(() => send(documents, request.operation, input as never)));
  }
  return steps;
}

async function measure(
  platform: LocalPlatform,
  assertRunning: () => void,
  options: { turns: number; warmup: number; progress: (message: string) => void },
): Promise<VoiceLatencyResult> {
  const registered = await api(platform, 'POST', '/v1/auth/register', {
    tenant: { name: 'Voice bench' },
    owner: { email: `voice-bench-${Date.now()}@example.test`, password: 'Correct-Horse-9', name: 'Bench' },
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
      knowledgeBase: {
        faqs: [{ question: 'Do you take walk-ins?', answer: 'Walk-ins are welcome before noon.' }],
      },
    },
    token,
  );
  await api(platform, 'POST', `/v1/agents/${agent.id}/start`, undefined, token);
  await api(platform, 'PUT', `/v1/agents/${agent.id}/channels/voice`, { address: AGENT_NUMBER }, token);
  const { handler } = await import('../lambdas/handlers/voice/voice');
  const { drainTurnEvents } = await import('../lambdas/composition/turn-events');
  const { localDevCalls } = await import('../local/voice-emulator');
  const phone = localDevCalls();
  const tenantId = (registered as unknown as { tenant: { id: string } }).tenant.id;
  const documents = createDocumentClient({ region: 'us-east-1', endpoint: platform.dynamoEndpoint });
  const rateTenantId = newId('tenant');
  const countersAgentId = newId('agent');

  const turn: number[] = [];
  const floor: number[] = [];
  const inTurn: number[] = [];
  const firstPrompt: number[] = [];
  let calls = 0;
  // One call per 10 turns (a conversation grows as calls do), each from its own customer.
  let session: Record<string, string> = {};
  let shadow: Shadow | undefined;
  let turnInCall = 0;
  try {
    for (let index = -options.warmup; index < options.turns; index++) {
      assertRunning();
      if (index === 0) options.progress(`voice bench: ${options.turns} turns, each beside its raw floor…`);
      if (turnInCall === 0 || !shadow) {
        const from = `+1555${String(3_000_000 + index + options.warmup).slice(-7)}`;
        const started = performance.now();
        const dialled = await phone.turn({ to: AGENT_NUMBER, from });
        const heardAt = performance.now() - started;
        if (dialled.heard[0]?.kind !== 'prompt') throw new Error(`no greeting: ${JSON.stringify(dialled)}`);
        if (index >= 0) firstPrompt.push(heardAt);
        const conversationId = (await handler(
          contactFlowEvent(
            { contactId: `bench-${index}`, dialled: AGENT_NUMBER, caller: from },
            { operation: 'start-call' },
          ),
        )) as Record<string, string>;
        const contactId = `c0ffee00-0000-4000-8000-${String(index + 100_000).padStart(12, '0')}`;
        session = {
          dialledNumber: AGENT_NUMBER,
          callerNumber: from,
          conversationId: conversationId.conversationId ?? '',
          contactId,
        };
        shadow = {
          tenantId,
          agentId: agent.id,
          rateTenantId,
          countersAgentId,
          conversationId: session.conversationId ?? '',
          shadowConversationId: await shadowConversation(
            documents,
            platform.tableName,
            tenantId,
            session.conversationId ?? '',
          ),
          contactId,
          shadowContactId: randomUUID(),
        };
      }
      let result: LexV2Result | undefined;
      let requests: WireRequest[] = [];
      const started = performance.now();
      const traced = await traceTimedDynamoCalls(async () => {
        requests = await captureDynamoRequests(async () => {
          result = (await handler(lexFallbackEvent('Do you take walk-ins?', session))) as LexV2Result;
        });
      });
      const took = performance.now() - started;
      if (result?.sessionState.dialogAction.type !== 'ElicitIntent') {
        throw new Error(`the turn did not answer in time: ${JSON.stringify(result)}`);
      }
      session = { ...(result.sessionState.sessionAttributes ?? {}) };
      turnInCall = (turnInCall + 1) % 10;
      // What the turn publishes for watchers is delivered behind it (local mode reads the subscriber
      // lists): done before the floor, untimed, so that neither the floor nor the next turn waits on it.
      await drainTurnEvents();
      // The floor right after its turn: turns and floors alternate, so each sits between two of the other.
      const steps = await replayTurn(documents, requests, shadow);
      if (index < 0) continue;
      turn.push(took);
      floor.push(steps.reduce((sum, step) => sum + step, 0));
      inTurn.push(wallMs(traced));
      calls += requests.length;
    }
  } finally {
    documents.destroy();
  }
  const turnMs = summarize(turn);
  const floorMs = summarize(floor);
  const inTurnDynamoMs = summarize(inTurn);
  return {
    turns: options.turns,
    turnMs,
    floorMs,
    inTurnDynamoMs,
    dynamoCallsPerTurn: round(calls / Math.max(1, options.turns)),
    ratioP50: round(turnMs.p50 / floorMs.p50),
    ratioP99: round(turnMs.p99 / floorMs.p99),
    inTurnRatioP50: round(turnMs.p50 / inTurnDynamoMs.p50),
    firstPromptMs: summarize(firstPrompt),
  };
}

export function printVoiceLatency(result: VoiceLatencyResult): void {
  console.log(
    heading(
      `Voice turns (${result.turns} Lex code hook turns, scripted model, 1 model call each, billing on; interleaved with raw floors)`,
    ),
  );
  console.log(
    table(
      ['Measure', 'p50 ms', 'p99 ms', 'Floor p50', 'Floor p99', '× p50', '× p99', 'Target'],
      [
        [
          `voice turn handler (${result.dynamoCallsPerTurn} DynamoDB calls)`,
          ...p50p99(result.turnMs),
          ...p50p99(result.floorMs),
          times(result.ratioP50),
          times(result.ratioP99),
          `≤ ${VOICE_TURN_RATIO_TARGET}×`,
        ],
        [
          '  (info) its DynamoDB time inside the turn',
          ...p50p99(result.inTurnDynamoMs),
          '-',
          '-',
          `turn ${times(result.inTurnRatioP50)}`,
          '-',
          '-',
        ],
        ['first prompt heard (dial → greeting)', ...p50p99(result.firstPromptMs), '-', '-', '-', '-', '-'],
      ],
    ),
  );
  console.log(
    [
      'Floor = as the chat bench: the DynamoDB requests the turn made (captured on the wire), sent again one after another',
      'by a document client to the same table (same reads, key shapes, expressions and request sizes; fresh ids for what the turn created),',
      'each timed and summed; one floor right after each turn. The turn sends two of them in parallel, so it can come in',
      'under that sum. In-turn = the same requests timed on the wire inside the turn (parallel ones once; it leaves out the',
      "SDK's own work before and after each request and takes in the event loop's waits): information only.",
    ].join('\n'),
  );
}

export function voiceFindings(result: VoiceLatencyResult): string[] {
  return floorRatioFindings('voice turn handler', result.ratioP50, VOICE_TURN_RATIO_TARGET);
}

/** In a child process: one local platform per process, and the other benches have theirs. */
export function measureVoiceLatencyIsolated(options: {
  turns: number;
  warmup: number;
  progress: (message: string) => void;
}): Promise<VoiceLatencyResult> {
  return measureInChildProcess({
    script: __filename,
    label: 'voice bench',
    flags: { turns: options.turns, warmup: options.warmup },
    env: { TURN_RATE_LIMITS: UNREACHED_TURN_RATE_LIMITS },
    progress: options.progress,
  });
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      turns: { type: 'string', default: '200' },
      warmup: { type: 'string', default: '20' },
      out: { type: 'string' },
    },
  });
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  void finishBench(
    withLocalPlatform((platform, assertRunning) =>
      measure(platform, assertRunning, {
        turns: Number(values.turns),
        warmup: Number(values.warmup),
        progress: (message) => console.error(message),
      }),
    ),
    values.out,
    printVoiceLatency,
  );
}
