import { parseArgs } from 'node:util';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { agentCountersKey, agentKey } from '../lambdas/adapters/dynamodb/agent-repository';
import { conversationKey, messageKey } from '../lambdas/adapters/dynamodb/conversation-repository';
import { customerKey } from '../lambdas/adapters/dynamodb/customer-repository';
import { createDocumentClient } from '../lambdas/adapters/dynamodb/document-client';
import { memoryGenerationKey } from '../lambdas/adapters/dynamodb/memory-repository';
import { userKey } from '../lambdas/adapters/dynamodb/user-repository';
import { DEFAULT_COST_TABLE } from '../lambdas/domain/billing/costs';
import { newId } from '../lambdas/domain/shared/ids';
import type { LocalPlatform } from '../local/platform';
import type { ActionLatencyResult } from './action-latency';
import { ApiClient, type DynamoCall, timed, traceDynamoCalls } from './api-latency';
import { finishBench, measureInChildProcess, UNREACHED_TURN_RATE_LIMITS } from './isolated';
import { withLocalPlatform } from './local-stack';
import { heading, ms, p50p99, table, times, verdict } from './report';
import { round, type Summary, summarize } from './stats';

/** p50 of a chat turn through the API over p50 of the DynamoDB round trips it needs. */
export const CHAT_RATIO_TARGET = 1.5;
/** Each customer (so each conversation) gets this many turns, after its unmeasured opening turn. */
export const TURNS_PER_CUSTOMER = 20;

export type TurnKind = 'plain' | 'calculator';
export const TURN_KINDS: readonly TurnKind[] = ['plain', 'calculator'];

const TURNS: Record<
  TurnKind,
  {
    readonly message: string;
    readonly label: string;
    readonly modelCalls: number;
    readonly tools: readonly string[];
    readonly replyContains: string;
  }
> = {
  plain: {
    message: 'Do you take walk-ins?',
    label: 'plain question (1 model call)',
    modelCalls: 1,
    tools: [],
    replyContains: 'Walk-ins are welcome before noon',
  },
  calculator: {
    message: 'what is 12*(3+4)?',
    label: 'calculator round (2 model calls)',
    modelCalls: 2,
    tools: ['calculator'],
    replyContains: '84',
  },
};

/** The raw floor's requests, in the order the turn makes them (the API runs steps 6 and 7 in parallel). */
const RAW_STEPS = [
  'GetItem user (consistent: authorisation)',
  'UpdateItem turn window (rate limit)',
  'GetItem agent',
  'GetItem address claim',
  'GetItem customer',
  'GetItem conversation claim',
  'GetItem conversation',
  'TransactWriteItems execution (Put RUNNING)',
  'Query recent messages',
  'GetItem memory generation',
  'TransactWriteItems completion (5 items; 6 with a tool run)',
] as const;

type Timing = Summary & { readonly samples: readonly number[] };

export interface ChatLatencyRow {
  readonly kind: TurnKind | 'all';
  readonly label: string;
  readonly apiMs: Timing;
  readonly floorMs: Timing;
  /** API p50 / floor p50. */
  readonly ratio: number;
  readonly pass: boolean;
}

export interface ChatLatencyResult {
  readonly turns: number;
  readonly warmup: number;
  readonly turnsPerCustomer: number;
  readonly customers: number;
  readonly targetRatio: number;
  /** One row per turn kind (the checked figures), then all turns together. */
  readonly rows: readonly ChatLatencyRow[];
  /** p50 of each raw request, per turn kind: where the floor goes. */
  readonly floorSteps: readonly { readonly step: string; readonly p50Ms: Record<TurnKind, number> }[];
  /** The DynamoDB requests of one turn of each kind, traced on the wire, API and raw. */
  readonly calls: readonly {
    readonly kind: TurnKind;
    readonly api: readonly DynamoCall[];
    readonly raw: readonly DynamoCall[];
    readonly match: boolean;
  }[];
  /** Where it ran: in a process of its own, with its own DynamoDB Local, or on a platform it was given. */
  readonly isolated: boolean;
}

export interface ChatLatencyOptions {
  readonly turns: number;
  readonly warmup: number;
  readonly progress: (message: string) => void;
}

type Item = Record<string, unknown>;

interface ChatReply {
  readonly executionId: string;
  readonly conversationId: string;
  readonly customerId: string;
  readonly reply: string;
  readonly toolCalls: readonly { readonly name: string; readonly status: string }[];
  readonly usage: { readonly modelCalls: number };
}

/** A completed turn as stored, cloned with fresh ids for every raw floor of its kind. */
interface TurnTemplate {
  readonly execution: Item;
  readonly messages: readonly [Item, Item];
  readonly toolRuns: readonly Item[];
}

/** One customer's conversation through the API, and its shadow that the raw floor writes to. */
interface CustomerBlock {
  readonly externalId: string;
  readonly customerId: string;
  readonly addressClaim: { readonly pk: string; readonly sk: string };
  readonly conversationClaim: { readonly pk: string; readonly sk: string };
  readonly shadowConversationId: string;
}

export const AGENT_BODY = {
  name: 'Chat Bench',
  businessType: 'dental',
  model: { provider: 'scripted', modelId: 'scripted-v1' },
  instructions: 'You are the front desk assistant of Smile Dental. Answer briefly and politely.',
  businessProfile: {
    name: 'Smile Dental',
    description: 'A family dental practice offering check-ups, cleanings and whitening.',
    phone: '+14155550100',
    address: '1 Main Street, Springfield',
    hours: [
      { day: 'mon', opens: '09:00', closes: '17:00' },
      { day: 'tue', opens: '09:00', closes: '17:00' },
      { day: 'wed', opens: '09:00', closes: '17:00' },
      { day: 'thu', opens: '09:00', closes: '19:00' },
      { day: 'fri', opens: '09:00', closes: '15:00' },
    ],
  },
  knowledgeBase: {
    products: [
      { name: 'Cleaning', description: 'Scale and polish, 45 minutes.', price: 120, currency: 'USD' },
      { name: 'Whitening', description: 'In-chair whitening, 90 minutes.', price: 350, currency: 'USD' },
    ],
    policies: [
      { title: 'Cancellation', content: 'Cancel at least 24 hours ahead, or a 30 USD fee applies.' },
    ],
    faqs: [
      { question: 'Do you take walk-ins?', answer: 'Walk-ins are welcome before noon.' },
      { question: 'Is there parking?', answer: 'Free parking behind the building.' },
    ],
  },
  tools: ['calculator', 'current_time', 'knowledge_lookup'],
};

/**
 * p50/p99 of `POST /v1/agents/{id}/chat` with the scripted model on the local platform, next to
 * the floor: the DynamoDB requests such a turn makes (read from the repositories, and checked
 * against a traced turn), issued one by one with the same document client settings against the
 * same table, with items of the same shape and size and fresh keys for every write, each timed
 * and summed. API turn and floor alternate, in swapped order every other pair of turns.
 */
export async function measureChatLatency(
  platform: LocalPlatform,
  assertRunning: () => void,
  options: ChatLatencyOptions,
  isolated = false,
): Promise<ChatLatencyResult> {
  if (options.warmup < 2)
    throw new Error('the chat bench needs at least 2 warm-up turns (one traced of each kind)');
  const api = new ApiClient(platform.url);
  const documents: DynamoDBDocumentClient = createDocumentClient({
    region: 'us-east-1',
    endpoint: platform.dynamoEndpoint,
  });
  const TableName = platform.tableName;
  try {
    const registered = await api.expect(201, 'POST', '/v1/auth/register', {
      tenant: { name: 'Chat Bench Co' },
      owner: { email: 'chat-bench@example.test', password: 'Correct-Horse-9', name: 'Bench' },
    });
    const { tenant, user, auth } = JSON.parse(registered.text) as {
      tenant: { id: string };
      user: { id: string };
      auth: { token: string };
    };
    api.token = auth.token;
    const tenantId = tenant.id;
    // The raw floor counts its turns in another tenant's window item (same shape), so that only the
    // API's turns count against the bench tenant's limits.
    const rawRateTenant = newId('tenant');
    const agent = JSON.parse((await api.expect(201, 'POST', '/v1/agents', AGENT_BODY)).text) as {
      id: string;
    };
    await api.expect(200, 'POST', `/v1/agents/${agent.id}/start`);
    // The counters the raw floor ADDs to: same key shape, another agent id, so the agent's stats stay the API's.
    const rawCountersKey = agentCountersKey(tenantId, newId('agent'));

    const get = async (Key: Item, what: string): Promise<Item> => {
      const { Item: item } = await documents.send(new GetCommand({ TableName, Key }));
      if (!item) throw new Error(`Could not read back ${what} (${JSON.stringify(Key)})`);
      return item;
    };

    const apiTurn = async (kind: TurnKind, externalId: string): Promise<{ ms: number; reply: ChatReply }> => {
      const spec = TURNS[kind];
      const response = await api.expect(200, 'POST', `/v1/agents/${agent.id}/chat`, {
        message: spec.message,
        customer: { externalId },
      });
      const reply = JSON.parse(response.text) as ChatReply;
      const tools = reply.toolCalls.map((c) => `${c.name}:${c.status}`).join();
      if (
        reply.usage.modelCalls !== spec.modelCalls ||
        tools !== spec.tools.map((t) => `${t}:succeeded`).join() ||
        !reply.reply.includes(spec.replyContains)
      ) {
        // A summary fold adds a model call; a different tool path, other requests: either breaks the mirror.
        throw new Error(`The ${kind} turn did not go as scripted: ${response.text.slice(0, 500)}`);
      }
      return { ms: response.ms, reply };
    };

    const templateOf = async (reply: ChatReply): Promise<TurnTemplate> => {
      const execution = await get(
        { pk: `T#${tenantId}#EXEC#${reply.executionId}`, sk: 'EXEC' },
        'the execution',
      );
      const message = (n: number) =>
        get(
          messageKey(tenantId, { conversationId: reply.conversationId, id: `${reply.executionId}#${n}` }),
          'a message',
        );
      const { Items: toolRuns = [] } = await documents.send(
        new QueryCommand({
          TableName,
          KeyConditionExpression: 'pk = :pk',
          FilterExpression: 'executionId = :execution',
          ExpressionAttributeValues: { ':pk': `T#${tenantId}#TOOLRUNS`, ':execution': reply.executionId },
        }),
      );
      if (toolRuns.length !== reply.toolCalls.length) throw new Error('Could not read back the tool runs');
      return { execution, messages: [await message(1), await message(2)], toolRuns };
    };

    // Templates from a first conversation (which also loads the agent's memory index, as a warm process has).
    options.progress('chat bench: agent created and started; recording one turn of each kind…');
    await apiTurn('plain', 'bench-template');
    const templates: Record<TurnKind, TurnTemplate> = {
      plain: await templateOf((await apiTurn('plain', 'bench-template')).reply),
      calculator: await templateOf((await apiTurn('calculator', 'bench-template')).reply),
    };

    /** A new customer: its opening turn (unmeasured) creates it and its conversation; the shadow copies that. */
    const openCustomer = async (n: number): Promise<CustomerBlock> => {
      const externalId = `bench-customer-${n}`;
      const { reply } = await apiTurn('plain', externalId);
      const addressClaim = { pk: `T#${tenantId}#ADDR`, sk: `web#${externalId}` };
      const conversationClaim = { pk: `T#${tenantId}#AGENT#${agent.id}`, sk: `CONV#web#${reply.customerId}` };
      if ((await get(addressClaim, 'the address claim')).customerId !== reply.customerId)
        throw new Error(
          'The address claim does not point at the customer: the raw floor reads the wrong item',
        );
      if ((await get(conversationClaim, 'the conversation claim')).conversationId !== reply.conversationId)
        throw new Error('The conversation claim does not point at the conversation');
      return {
        externalId,
        customerId: reply.customerId,
        addressClaim,
        conversationClaim,
        shadowConversationId: await shadowConversation(documents, TableName, tenantId, reply.conversationId),
      };
    };

    /** The requests of a chat turn, as the repositories make them, one by one, each timed. */
    const rawTurn = async (kind: TurnKind, block: CustomerBlock): Promise<number[]> => {
      const template = templates[kind];
      const steps: number[] = [];
      const step = async (action: () => Promise<unknown>) => {
        steps.push(await timed(action));
      };
      const id = newId('execution');
      const conversation = conversationKey(tenantId, block.shadowConversationId);
      const at = new Date().toISOString();
      const executionKeys = { pk: `T#${tenantId}#EXEC#${id}`, sk: 'EXEC', gsi1sk: id };
      const { output: _output, latencyMs: _latency, ...base } = template.execution;
      const running: Item = {
        ...base,
        ...executionKeys,
        id,
        conversationId: block.shadowConversationId,
        customerId: block.customerId,
        status: 'RUNNING',
        toolCalls: [],
        usage: { inputTokens: 0, outputTokens: 0, modelCalls: 0 },
        costUsd: 0,
        priced: true,
        statusHistory: [
          { status: 'PENDING', at },
          { status: 'RUNNING', at },
        ],
        createdAt: at,
        updatedAt: at,
      };

      // The HTTP pipeline's read of the caller's record (lambdas/http/request.ts).
      await step(() =>
        documents.send(new GetCommand({ TableName, Key: userKey(tenantId, user.id), ConsistentRead: true })),
      );
      // Turn admission (DynamoRateLimitRepository.countTurn): one conditional UpdateItem.
      await step(() =>
        documents.send(
          new UpdateCommand({
            TableName,
            Key: { pk: `T#${rawRateTenant}`, sk: `TURNS#${new Date().toISOString().slice(0, 16)}` },
            UpdateExpression:
              'ADD turns :one, #agent :one SET expiresAt = if_not_exists(expiresAt, :expiresAt)',
            ConditionExpression:
              '(attribute_not_exists(turns) OR turns < :tenantLimit) AND ' +
              '(attribute_not_exists(#agent) OR #agent < :agentLimit)',
            ExpressionAttributeNames: { '#agent': `agent#${agent.id}` },
            ExpressionAttributeValues: {
              ':one': 1,
              ':tenantLimit': 1_000_000,
              ':agentLimit': 1_000_000,
              ':expiresAt': Math.floor(Date.now() / 1000) + 360,
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      await step(() => documents.send(new GetCommand({ TableName, Key: agentKey(tenantId, agent.id) })));
      await step(() => documents.send(new GetCommand({ TableName, Key: block.addressClaim })));
      await step(() =>
        documents.send(new GetCommand({ TableName, Key: customerKey(tenantId, block.customerId) })),
      );
      await step(() => documents.send(new GetCommand({ TableName, Key: block.conversationClaim })));
      await step(() => documents.send(new GetCommand({ TableName, Key: conversation })));
      await step(() =>
        documents.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName, Item: running, ConditionExpression: 'attribute_not_exists(pk)' } },
            ],
          }),
        ),
      );
      await step(() =>
        documents.send(
          new QueryCommand({
            TableName,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
            ExpressionAttributeValues: { ':pk': conversation.pk, ':from': 'MSG#', ':to': 'MSG#~' },
            ScanIndexForward: false,
            Limit: 51,
          }),
        ),
      );
      await step(() =>
        documents.send(
          new GetCommand({
            TableName,
            Key: memoryGenerationKey(tenantId, agent.id),
            ConsistentRead: true,
            ProjectionExpression: 'generation',
          }),
        ),
      );

      const doneAt = new Date().toISOString();
      const usage = template.execution.usage as { inputTokens: number; outputTokens: number };
      const completed: Item = {
        ...template.execution,
        ...executionKeys,
        id,
        conversationId: block.shadowConversationId,
        customerId: block.customerId,
        statusHistory: [
          { status: 'PENDING', at },
          { status: 'RUNNING', at },
          { status: 'COMPLETED', at: doneAt },
        ],
        createdAt: at,
        updatedAt: doneAt,
      };
      const toolRuns = template.toolRuns.map((run) => {
        const runId = newId('toolRun');
        return { ...run, sk: runId, id: runId, executionId: id, createdAt: doneAt };
      });
      const messages = template.messages.map((message, n) => ({
        ...message,
        ...messageKey(tenantId, { conversationId: block.shadowConversationId, id: `${id}#${n + 1}` }),
        id: `${id}#${n + 1}`,
        conversationId: block.shadowConversationId,
        executionId: id,
        createdAt: n === 0 ? at : doneAt,
      }));
      // As DynamoExecutionRepository.complete builds it.
      const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [
        {
          Put: {
            TableName,
            Item: completed,
            ConditionExpression: '#status = :running',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':running': 'RUNNING' },
          },
        },
        {
          Update: {
            TableName,
            Key: rawCountersKey,
            UpdateExpression:
              'ADD executions :one, #outcome :one, tokens :tokens, costUsd :cost, latencyMs :latency',
            ExpressionAttributeNames: { '#outcome': 'succeeded' },
            ExpressionAttributeValues: {
              ':one': 1,
              ':tokens': usage.inputTokens + usage.outputTokens,
              ':cost': template.execution.costUsd,
              ':latency': template.execution.latencyMs ?? 0,
            },
          },
        },
        ...toolRuns.map((Item) => ({ Put: { TableName, Item } })),
        ...messages.map((Item) => ({
          Put: { TableName, Item, ConditionExpression: 'attribute_not_exists(pk)' },
        })),
        {
          Update: {
            TableName,
            Key: conversation,
            UpdateExpression:
              'SET #status = :active, updatedAt = :at, lastMessageAt = :at, gsi1sk = :activity ADD messageCount :count',
            ConditionExpression: 'attribute_exists(pk) AND #status <> :paused',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':active': 'active',
              ':paused': 'paused',
              ':at': doneAt,
              ':activity': `${doneAt}#${block.shadowConversationId}`,
              ':count': messages.length,
            },
          },
        },
      ];
      await step(() => documents.send(new TransactWriteCommand({ TransactItems: items })));
      return steps;
    };

    const apiSamples: Record<TurnKind, number[]> = { plain: [], calculator: [] };
    const floorSamples: Record<TurnKind, number[]> = { plain: [], calculator: [] };
    const stepSamples: Record<TurnKind, number[][]> = {
      plain: RAW_STEPS.map(() => []),
      calculator: RAW_STEPS.map(() => []),
    };
    const calls: { kind: TurnKind; api: DynamoCall[]; raw: DynamoCall[]; match: boolean }[] = [];
    const total = options.warmup + options.turns;
    let block: CustomerBlock | undefined;
    options.progress(
      `chat bench: ${options.warmup} warm-up then ${options.turns} measured turns, each beside its raw floor…`,
    );
    for (let t = 0; t < total; t++) {
      assertRunning();
      if (t % TURNS_PER_CUSTOMER === 0 || !block) block = await openCustomer(t / TURNS_PER_CUSTOMER);
      const current = block;
      const kind: TurnKind = t % 2 === 0 ? 'plain' : 'calculator';
      // Swapped every other pair, so each kind runs API-first and floor-first equally often.
      const apiFirst = Math.floor(t / 2) % 2 === 0;
      // The last two warm-up turns, one of each kind, are traced.
      const traced = t >= options.warmup - 2 && t < options.warmup;
      let apiMs = 0;
      let steps: number[] = [];
      const runApi = async () => {
        apiMs = (await apiTurn(kind, current.externalId)).ms;
      };
      const runRaw = async () => {
        steps = await rawTurn(kind, current);
      };
      if (traced) {
        const apiCalls = await traceDynamoCalls(runApi);
        const rawCalls = await traceDynamoCalls(runRaw);
        // The API issues two requests in parallel, so their order on the wire may vary.
        const ops = (list: DynamoCall[]) =>
          list
            .map((c) => c.operation)
            .sort()
            .join();
        calls.push({ kind, api: apiCalls, raw: rawCalls, match: ops(apiCalls) === ops(rawCalls) });
      } else {
        for (const run of apiFirst ? [runApi, runRaw] : [runRaw, runApi]) await run();
      }
      if (t < options.warmup) continue;
      if (t === options.warmup) options.progress('chat bench: warm-up done, measuring…');
      apiSamples[kind].push(apiMs);
      floorSamples[kind].push(steps.reduce((sum, s) => sum + s, 0));
      for (const [s, sample] of steps.entries()) stepSamples[kind][s]?.push(sample);
    }

    const timing = (samples: number[]): Timing => ({
      ...summarize(samples),
      samples: samples.map((s) => round(s, 3)),
    });
    const row = (
      kind: TurnKind | 'all',
      label: string,
      apiRaw: number[],
      floorRaw: number[],
    ): ChatLatencyRow => {
      const apiMs = timing(apiRaw);
      const floorMs = timing(floorRaw);
      const ratio = apiMs.p50 / floorMs.p50;
      return { kind, label, apiMs, floorMs, ratio, pass: ratio <= CHAT_RATIO_TARGET };
    };
    return {
      turns: options.turns,
      warmup: options.warmup,
      turnsPerCustomer: TURNS_PER_CUSTOMER,
      customers: Math.ceil(total / TURNS_PER_CUSTOMER),
      targetRatio: CHAT_RATIO_TARGET,
      rows: [
        ...TURN_KINDS.map((kind) => row(kind, TURNS[kind].label, apiSamples[kind], floorSamples[kind])),
        row(
          'all',
          'all turns',
          [...apiSamples.plain, ...apiSamples.calculator],
          [...floorSamples.plain, ...floorSamples.calculator],
        ),
      ],
      floorSteps: RAW_STEPS.map((step, s) => ({
        step,
        p50Ms: {
          plain: round(summarize(stepSamples.plain[s] ?? []).p50, 3),
          calculator: round(summarize(stepSamples.calculator[s] ?? []).p50, 3),
        },
      })),
      calls,
      isolated,
    };
  } finally {
    api.close();
    documents.destroy();
  }
}

/**
 * Runs the chat bench in a process of its own, with its own DynamoDB Local. The local platform
 * runs once per process (handlers read their configuration at import), and the API latency bench
 * starts and stops its own, so the chat bench cannot join it from here.
 */
/** What the child process measures on its one platform: chat turns, then the decision engine's figures. */
/**
 * A conversation copied under another id (its META item and messages): the raw floor's turns grow the
 * copy, as the measured turns grow the original. The voice bench's floor does the same.
 */
export async function shadowConversation(
  documents: DynamoDBDocumentClient,
  tableName: string,
  tenantId: string,
  conversationId: string,
): Promise<string> {
  const { Items = [] } = await documents.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': conversationKey(tenantId, conversationId).pk },
    }),
  );
  if (Items.length === 0) throw new Error(`the conversation ${conversationId} is not stored`);
  const shadowId = newId('conversation');
  const shadowPk = conversationKey(tenantId, shadowId).pk;
  const copies = Items.map((item) =>
    item.sk === 'META'
      ? { ...item, pk: shadowPk, id: shadowId, gsi1sk: `${String(item.updatedAt)}#${shadowId}` }
      : { ...item, pk: shadowPk, conversationId: shadowId },
  );
  await documents.send(
    new TransactWriteCommand({
      TransactItems: copies.map((Item) => ({ Put: { TableName: tableName, Item } })),
    }),
  );
  return shadowId;
}

export interface TurnBenchResult {
  readonly chat: ChatLatencyResult;
  readonly actions?: ActionLatencyResult;
  readonly actionsError?: string;
}

export interface TurnBenchOptions extends ChatLatencyOptions {
  /** Decision-engine bench: measured turns (half plain, half with one automatic SMS). */
  readonly actionTurns: number;
  /** Approvals per approval scenario. */
  readonly approvals: number;
}

export function measureChatLatencyIsolated(options: TurnBenchOptions): Promise<TurnBenchResult> {
  return measureInChildProcess({
    script: __filename,
    label: 'chat bench',
    flags: {
      turns: options.turns,
      warmup: options.warmup,
      'action-turns': options.actionTurns,
      approvals: options.approvals,
    },
    env: { TURN_RATE_LIMITS: UNREACHED_TURN_RATE_LIMITS },
    progress: options.progress,
  });
}

export function chatFindings(result: ChatLatencyResult): string[] {
  return [
    ...result.rows
      .filter((r) => r.kind !== 'all' && !r.pass)
      .map(
        (r) =>
          `FAIL  chat turn, ${r.label}: ${times(r.ratio)} its DynamoDB floor at p50 (target ≤ ${result.targetRatio}×)`,
      ),
    ...result.calls
      .filter((c) => !c.match)
      .map(
        (c) =>
          `WARN  chat turn, ${TURNS[c.kind].label}: raw floor makes different DynamoDB calls than the API`,
      ),
  ];
}

/** The checked figures: one per turn kind. */
export const chatChecks = (result: ChatLatencyResult | undefined) => ({
  checks: TURN_KINDS.length,
  passed: result ? result.rows.filter((r) => r.kind !== 'all' && r.pass).length : 0,
});

export function printChatLatency(result: ChatLatencyResult): void {
  console.log(
    heading(
      `Chat turn vs its DynamoDB round trips (scripted model, DynamoDB Local; ${result.turns} turns after ${result.warmup} warm-up, interleaved with raw floors)`,
    ),
  );
  const rows = result.rows.map((r) => [
    r.label,
    ...p50p99(r.apiMs),
    ...p50p99(r.floorMs),
    times(r.ratio),
    r.kind === 'all' ? '(info)' : `≤ ${result.targetRatio.toFixed(2)}×`,
    r.kind === 'all' ? '-' : verdict(r.pass),
  ]);
  console.log(
    table(
      ['Turn', 'API p50', 'API p99', 'Floor p50', 'Floor p99', 'API/floor p50', 'Target', 'Result'],
      rows,
    ),
  );
  console.log(
    [
      'Times in ms. Floor = the DynamoDB requests the turn makes, sent one after another by the same document client to',
      'the same table with items of the same shape and size (fresh keys for every write), each timed and summed. The API',
      'sends the execution Put and the history Query in parallel, so it can come in under that sequential sum.',
      'Completion = execution Put + agent counters Update + [tool run Put] + 2 message Puts + conversation Update.',
      `Turns alternate plain / calculator. Every ${result.turnsPerCustomer} turns a fresh customer (body.customer.externalId) starts a`,
      'fresh conversation, so history stays short (no folding into a summary in the 8k scripted window); its opening turn,',
      `which also creates the customer and the conversation, is not measured (${result.customers} customers).`,
      'Model calls are priced at 0 tokens here, so the turn carries no reservation and settlement: what those add',
      'is the billing bench below (the chat turn with billing on is not measured yet).',
      ...(result.isolated
        ? [
            'Ran in a child process with its own DynamoDB Local (the API latency bench starts and stops its own platform).',
          ]
        : []),
    ].join('\n'),
  );
  console.log(
    table(
      ['Raw floor request (p50 ms)', 'plain', 'calculator'],
      [
        ...result.floorSteps.map((s) => [s.step, ms(s.p50Ms.plain), ms(s.p50Ms.calculator)]),
        [
          'sum of the p50s',
          ms(result.floorSteps.reduce((sum, s) => sum + s.p50Ms.plain, 0)),
          ms(result.floorSteps.reduce((sum, s) => sum + s.p50Ms.calculator, 0)),
        ],
      ],
    ),
  );
  console.log('DynamoDB requests of one turn of each kind, traced on the wire (request body bytes):');
  const list = (c: readonly DynamoCall[]) =>
    c.map((call) => `${call.operation} ${call.bytes}B`).join(' + ') || 'none';
  for (const c of result.calls) {
    const mark = c.match
      ? `same operations, ${c.api.length} requests`
      : 'MISMATCH: the raw floor does not mirror the turn';
    console.log(`  ${TURNS[c.kind].label} (${mark}):\n    API ${list(c.api)}\n    raw ${list(c.raw)}`);
  }
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      turns: { type: 'string', default: '200' },
      warmup: { type: 'string', default: '20' },
      'action-turns': { type: 'string', default: '100' },
      approvals: { type: 'string', default: '30' },
      out: { type: 'string' },
    },
  });
  // Before the platform imports the handlers: Powertools reads it once, at module load.
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  // Model calls free for this run: the turn measured (and its floor) is the conversation's
  // DynamoDB work; the billing of a call (reserve + settle) is measured by the billing bench.
  process.env.TOKEN_COSTS = JSON.stringify({ ...DEFAULT_COST_TABLE, llmCall: 0 });
  const options: ChatLatencyOptions = {
    turns: Number(values.turns),
    warmup: Number(values.warmup),
    progress: (message) => process.stderr.write(`[bench] ${message}\n`),
  };
  const isolated = values.out !== undefined;
  void finishBench(
    withLocalPlatform(async (platform, assertRunning): Promise<TurnBenchResult> => {
      const chat = await measureChatLatency(platform, assertRunning, options, isolated);
      // On the same platform, after the chat turns; imported here, as it imports this module.
      const { measureActionLatency } = await import('./action-latency');
      try {
        const actions = await measureActionLatency(platform, assertRunning, {
          turns: Number(values['action-turns']),
          warmup: options.warmup,
          approvals: Number(values.approvals),
          progress: options.progress,
        });
        return { chat, actions };
      } catch (error) {
        assertRunning();
        return { chat, actionsError: error instanceof Error ? error.message : String(error) };
      }
    }),
    values.out,
    async (result) => {
      printChatLatency(result.chat);
      const { printActionLatency } = await import('./action-latency');
      if (result.actions) printActionLatency(result.actions);
      else console.log(`Decision engine bench failed: ${result.actionsError}`);
    },
  );
}
