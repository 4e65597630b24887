import { DynamoActionRepository } from '../lambdas/adapters/dynamodb/action-repository';
import { DynamoApprovalRepository } from '../lambdas/adapters/dynamodb/approval-repository';
import { createDocumentClient } from '../lambdas/adapters/dynamodb/document-client';
import { localOutbox } from '../lambdas/adapters/local/local-outbox';
import type { LocalPlatform } from '../local/platform';
import {
  ApiClient,
  type DynamoCall,
  type TimedDynamoCall,
  traceTimedDynamoCalls,
  wallMs,
} from './api-latency';
import { AGENT_BODY, TURNS_PER_CUSTOMER } from './chat-latency';
import { heading, ms, p50p99, table } from './report';
import { round, type Summary, summarize } from './stats';

/**
 * What the decision engine adds to a chat turn. One agent (the chat bench's, with `send_sms`
 * enabled; the tenant's policy leaves SMS automatic) takes turns alternately: a plain question, and
 * a message the scripted model answers by proposing one SMS, which the engine checks, pays for and
 * runs through the local outbox before the reply. Every turn is traced on the wire, so each turn
 * stands beside its own DynamoDB round trips (the time at least one was in flight). Then the
 * policy makes SMS need approval, and approvals are decided one after another and in a burst,
 * each timed from the approve request until the local approval workflow (the ASL file, in this
 * process) has sent the SMS and marked the action executed.
 */

export type ActionTurnKind = 'plain' | 'sms';
const ACTION_TURN_KINDS: readonly ActionTurnKind[] = ['plain', 'sms'];
const PHONE = '+15551234567';

const MESSAGES: Record<ActionTurnKind, { readonly message: string; readonly label: string }> = {
  plain: { message: 'Do you take walk-ins?', label: 'plain question, actions enabled' },
  sms: { message: `text ${PHONE}: see you at 3`, label: 'one automatic send_sms (outbox)' },
};

type Timing = Summary & { readonly samples: readonly number[] };

export interface ActionTurnRow {
  readonly kind: ActionTurnKind;
  readonly label: string;
  readonly apiMs: Timing;
  /** Wall time of the turn's own DynamoDB round trips (parallel requests counted once). */
  readonly dynamoMs: Timing;
  /** API − DynamoDB, turn by turn: the code's own time, the model's included. */
  readonly ownMs: Timing;
  /** DynamoDB requests per turn (median). */
  readonly requests: number;
}

export interface ApprovalScenario {
  readonly name: string;
  readonly approvals: number;
  readonly inFlight: number;
  /** The approve request alone (decide + resume the waiting workflow). */
  readonly approveMs: Summary;
  /** From sending approve until the action is executed (SMS in the outbox, record updated). */
  readonly approveToExecutedMs: Summary;
  readonly approvalsPerSecond: number;
}

export interface ActionLatencyResult {
  readonly turns: number;
  readonly warmup: number;
  readonly rows: readonly ActionTurnRow[];
  /** send_sms p50 − plain p50: in total, and what of it is DynamoDB. */
  readonly added: { readonly apiMs: number; readonly dynamoMs: number; readonly requests: number };
  /** The DynamoDB requests of one traced turn of each kind. */
  readonly calls: readonly { readonly kind: ActionTurnKind; readonly calls: readonly DynamoCall[] }[];
  readonly approvals: readonly ApprovalScenario[];
}

export interface ActionLatencyOptions {
  /** Measured turns, half of each kind. */
  readonly turns: number;
  readonly warmup: number;
  /** Approvals per scenario. */
  readonly approvals: number;
  readonly progress: (message: string) => void;
}

interface ChatReply {
  readonly reply: string;
  readonly actions?: readonly {
    readonly actionId: string;
    readonly action: string;
    readonly status: string;
    readonly approvalId?: string;
  }[];
}

const sleep = (msDelay: number) => new Promise((resolve) => setTimeout(resolve, msDelay));

async function until<T>(what: string, probe: () => Promise<T | undefined>, intervalMs = 1): Promise<T> {
  const deadline = performance.now() + 10_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export async function measureActionLatency(
  platform: LocalPlatform,
  assertRunning: () => void,
  options: ActionLatencyOptions,
): Promise<ActionLatencyResult> {
  const api = new ApiClient(platform.url);
  const documents = createDocumentClient({ region: 'us-east-1', endpoint: platform.dynamoEndpoint });
  const actionRecords = new DynamoActionRepository(documents, platform.tableName);
  const approvalRecords = new DynamoApprovalRepository(documents, platform.tableName);
  const burstClients: ApiClient[] = [];
  try {
    const registered = await api.expect(201, 'POST', '/v1/auth/register', {
      tenant: { name: 'Action Bench Co' },
      owner: { email: 'action-bench@example.test', password: 'Correct-Horse-9', name: 'Bench' },
    });
    const { tenant, auth } = JSON.parse(registered.text) as {
      tenant: { id: string };
      auth: { token: string };
    };
    const tenantId = tenant.id;
    api.token = auth.token;
    await api.expect(
      201,
      'POST',
      '/v1/tokens/purchase',
      { amount: 1_000_000 },
      { 'idempotency-key': `action-bench-${Date.now()}` },
    );
    const agent = JSON.parse(
      (
        await api.expect(201, 'POST', '/v1/agents', {
          ...AGENT_BODY,
          name: 'Action Bench',
          tools: [...AGENT_BODY.tools, 'send_sms'],
        })
      ).text,
    ) as { id: string };
    await api.expect(200, 'POST', `/v1/agents/${agent.id}/start`);

    const chat = async (kind: ActionTurnKind, externalId: string) => {
      const response = await api.expect(200, 'POST', `/v1/agents/${agent.id}/chat`, {
        message: MESSAGES[kind].message,
        customer: { externalId },
      });
      return { ms: response.ms, reply: JSON.parse(response.text) as ChatReply };
    };
    const turn = async (kind: ActionTurnKind, externalId: string, expected: string) => {
      const { ms: apiMs, reply } = await chat(kind, externalId);
      const statuses = (reply.actions ?? []).map((a) => `${a.action}:${a.status}`).join();
      if (statuses !== (kind === 'sms' ? `send_sms:${expected}` : '')) {
        throw new Error(`The ${kind} turn did not go as scripted: ${JSON.stringify(reply).slice(0, 500)}`);
      }
      return { apiMs, reply };
    };

    const api50: Record<ActionTurnKind, number[]> = { plain: [], sms: [] };
    const dynamo: Record<ActionTurnKind, number[]> = { plain: [], sms: [] };
    const own: Record<ActionTurnKind, number[]> = { plain: [], sms: [] };
    const requests: Record<ActionTurnKind, number[]> = { plain: [], sms: [] };
    const traced: { kind: ActionTurnKind; calls: DynamoCall[] }[] = [];
    const total = options.warmup + options.turns;
    options.progress(
      `action bench: ${options.warmup} warm-up then ${options.turns} measured turns (plain / send_sms), each traced…`,
    );
    for (let t = 0; t < total; t++) {
      assertRunning();
      const kind: ActionTurnKind = t % 2 === 0 ? 'plain' : 'sms';
      const externalId = `action-bench-${Math.floor(t / TURNS_PER_CUSTOMER)}`;
      let apiMs = 0;
      const calls: TimedDynamoCall[] = await traceTimedDynamoCalls(async () => {
        apiMs = (await turn(kind, externalId, 'executed')).apiMs;
      });
      // A customer's opening turn also creates it and its conversation: not measured.
      if (t < options.warmup || t % TURNS_PER_CUSTOMER === 0) {
        if (t >= options.warmup - 2 && t < options.warmup && !traced.some((c) => c.kind === kind))
          traced.push({ kind, calls: calls.map(({ operation, bytes }) => ({ operation, bytes })) });
        continue;
      }
      const inDynamo = wallMs(calls);
      api50[kind].push(apiMs);
      dynamo[kind].push(inDynamo);
      own[kind].push(apiMs - inDynamo);
      requests[kind].push(calls.length);
    }
    if (localOutbox.list(tenantId, { kind: 'sms', limit: 1 }).items.length === 0)
      throw new Error('No SMS reached the local outbox: the action bench is not measuring a send');

    const timing = (samples: number[]): Timing => ({
      ...summarize(samples),
      samples: samples.map((s) => round(s, 3)),
    });
    const rows = ACTION_TURN_KINDS.map(
      (kind): ActionTurnRow => ({
        kind,
        label: MESSAGES[kind].label,
        apiMs: timing(api50[kind]),
        dynamoMs: timing(dynamo[kind]),
        ownMs: timing(own[kind]),
        requests: summarize(requests[kind]).p50,
      }),
    );
    const [plain, sms] = rows as [ActionTurnRow, ActionTurnRow];

    // Approvals: the same agent, SMS now need a coordinator's approval.
    await api.expect(200, 'PUT', '/v1/policies', { rules: [{ action: 'send_sms', level: 'approval' }] });
    let customer = 0;
    /** A turn that proposes one SMS, which waits for approval; resolves once the workflow waits too. */
    const pendingApproval = async () => {
      const { reply } = await turn('sms', `approval-bench-${customer++}`, 'awaiting_approval');
      const action = reply.actions?.[0];
      if (!action?.approvalId) throw new Error(`No approval was opened: ${JSON.stringify(reply)}`);
      const { approvalId, actionId } = action;
      await until('the workflow to wait for the decision', async () =>
        (await approvalRecords.taskToken(tenantId, approvalId)) ? true : undefined,
      );
      return { approvalId, actionId };
    };
    const approveAndWait = async (client: ApiClient, pending: { approvalId: string; actionId: string }) => {
      const started = performance.now();
      const approve = await client.expect(200, 'POST', `/v1/approvals/${pending.approvalId}/approve`, {
        comment: 'bench',
      });
      await until(
        'the approved action to be executed',
        async () => {
          const record = await actionRecords.get(tenantId, pending.actionId);
          if (record?.status === 'failed' || record?.status === 'rejected')
            throw new Error(`The approved action ended ${record.status}`);
          return record?.status === 'executed' ? true : undefined;
        },
        2,
      );
      return { approveMs: approve.ms, totalMs: performance.now() - started };
    };
    const scenario = async (name: string, inFlight: number): Promise<ApprovalScenario> => {
      options.progress(`action bench: ${name}: opening ${options.approvals} approvals…`);
      const pending: { approvalId: string; actionId: string }[] = [];
      for (let i = 0; i < options.approvals; i++) pending.push(await pendingApproval());
      options.progress(`action bench: ${name}: approving…`);
      while (burstClients.length < inFlight) {
        const client = new ApiClient(platform.url);
        client.token = api.token;
        burstClients.push(client);
      }
      const approveMs: number[] = [];
      const totalMs: number[] = [];
      let next = 0;
      const started = performance.now();
      await Promise.all(
        burstClients.slice(0, inFlight).map(async (client) => {
          while (next < pending.length) {
            assertRunning();
            const item = pending[next++];
            if (!item) break;
            const result = await approveAndWait(client, item);
            approveMs.push(result.approveMs);
            totalMs.push(result.totalMs);
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      return {
        name,
        approvals: pending.length,
        inFlight,
        approveMs: summarize(approveMs),
        approveToExecutedMs: summarize(totalMs),
        approvalsPerSecond: round(pending.length / seconds, 1),
      };
    };
    const approvals = [
      await scenario('one at a time', 1),
      await scenario('10 in flight', Math.min(10, options.approvals)),
    ];

    return {
      turns: options.turns,
      warmup: options.warmup,
      rows,
      added: {
        apiMs: round(sms.apiMs.p50 - plain.apiMs.p50, 3),
        dynamoMs: round(sms.dynamoMs.p50 - plain.dynamoMs.p50, 3),
        requests: sms.requests - plain.requests,
      },
      calls: traced,
      approvals,
    };
  } finally {
    api.close();
    for (const client of burstClients) client.close();
    documents.destroy();
  }
}

export function printActionLatency(result: ActionLatencyResult): void {
  console.log(
    heading(
      `Decision engine: a chat turn with one automatic action beside its own DynamoDB round trips (${result.turns} turns after ${result.warmup} warm-up, alternating)`,
    ),
  );
  console.log(
    table(
      ['Turn', 'API p50', 'API p99', 'DynamoDB p50', 'DynamoDB p99', 'Rest p50', 'Requests'],
      result.rows.map((r) => [
        r.label,
        ...p50p99(r.apiMs),
        ...p50p99(r.dynamoMs),
        ms(r.ownMs.p50),
        String(r.requests),
      ]),
    ),
  );
  console.log(
    [
      `The SMS adds ${ms(result.added.apiMs)} ms at p50, of which ${ms(result.added.dynamoMs)} ms is its ${result.added.requests} extra DynamoDB requests.`,
      'Times in ms. DynamoDB = the wall time during which at least one of the turn’s own DynamoDB requests was in',
      'flight, traced on the wire in the same turn (its response read, so it includes waits for this process’s event',
      'loop); Rest = API − DynamoDB, turn by turn (HTTP, auth, handler, scripted model, decision engine, outbox).',
      'Both kinds run on the same agent (send_sms enabled, so both read the policy); model calls cost 0 tokens, the SMS 1.',
    ].join('\n'),
  );
  for (const c of result.calls)
    console.log(
      `  ${MESSAGES[c.kind].label}: ${c.calls.length} requests: ${c.calls.map((call) => call.operation).join(', ')}`,
    );
  console.log(
    heading(
      'Approval workflow: approve → executed (local approval workflow: the ASL file run in-process, SMS to the outbox)',
    ),
  );
  console.log(
    table(
      [
        'Scenario',
        'Approvals',
        'Approve p50',
        'Approve p99',
        'To executed p50',
        'To executed p99',
        'Approvals/s',
      ],
      result.approvals.map((a) => [
        a.name,
        String(a.approvals),
        ...p50p99(a.approveMs),
        ...p50p99(a.approveToExecutedMs),
        a.approvalsPerSecond.toFixed(1),
      ]),
    ),
  );
  console.log(
    [
      'Times in ms. Each approval is opened by a chat turn and approved once its workflow waits for the decision (task',
      'token stored). Approve = POST /v1/approvals/{id}/approve; to executed = from sending it until the action record',
      'reads executed (polled every 2 ms): check and execute steps, the SMS, the settlement of its tokens.',
    ].join('\n'),
  );
}
