import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { LexV2Event, LexV2Result } from 'aws-lambda';
import type { LocalPlatform } from '../local/platform';
import { traceTimedDynamoCalls, wallMs } from './api-latency';
import { withLocalPlatform } from './local-stack';
import { OUT_DIR } from './paths';
import { heading, ms, table, times } from './report';
import { round, type Summary, summarize } from './stats';

/** A voice turn's handler time over its own DynamoDB round trips (issue 12). */
export const VOICE_TURN_RATIO_TARGET = 1.5;

export interface VoiceLatencyResult {
  readonly turns: number;
  /** The Lex code hook invocation of one turn (scripted model, one model call), end to end. */
  readonly turnMs: Summary;
  /** The DynamoDB round trips inside that invocation, as it made them (parallel ones counted once). */
  readonly floorMs: Summary;
  readonly dynamoCallsPerTurn: number;
  readonly ratioP50: number;
  readonly ratioP99: number;
  /** Dialling until the greeting: the contact flow walked up to the bot turn, `start-call` included. */
  readonly firstPromptMs: Summary;
}

const AGENT_NUMBER = '+15550177';

async function api(platform: LocalPlatform, method: string, path: string, body?: unknown, token?: string) {
  const response = await fetch(`${platform.url}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      'idempotency-key': `bench-${Date.now()}-${Math.random()}`,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as { readonly id: string; readonly auth: { readonly token: string } };
}

function lexEvent(text: string, session: Record<string, string>): LexV2Event {
  const intent = {
    name: 'FallbackIntent',
    slots: {},
    state: 'ReadyForFulfillment',
    confirmationState: 'None',
  } as const;
  return {
    messageVersion: '1.0',
    invocationSource: 'FulfillmentCodeHook',
    inputMode: 'Speech',
    responseContentType: 'audio/pcm',
    sessionId: session.contactId ?? 'bench',
    inputTranscript: text,
    bot: {
      id: 'BENCHBOT01',
      name: 'voice',
      aliasId: 'BENCHALIAS',
      aliasName: 'live',
      localeId: 'en_US',
      version: '1',
    },
    interpretations: [{ intent: { ...intent, slots: {} } }],
    proposedNextState: { dialogAction: { type: 'Close' }, intent: { ...intent, slots: {} } },
    sessionState: {
      sessionAttributes: session,
      intent: { ...intent, slots: {} },
      originatingRequestId: 'bench',
    },
    transcriptions: [],
  };
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
  const { localDevCalls } = await import('../local/voice-emulator');
  const phone = localDevCalls();

  const turn: number[] = [];
  const floor: number[] = [];
  const firstPrompt: number[] = [];
  let calls = 0;
  // One call per 10 turns (a conversation grows as calls do), each from its own customer.
  let session: Record<string, string> = {};
  let turnInCall = 0;
  for (let index = -options.warmup; index < options.turns; index++) {
    assertRunning();
    if (index === 0) options.progress(`voice bench: ${options.turns} turns…`);
    if (turnInCall === 0) {
      const from = `+1555${String(3_000_000 + index + options.warmup).slice(-7)}`;
      const started = performance.now();
      const dialled = await phone.turn({ to: AGENT_NUMBER, from });
      const heardAt = performance.now() - started;
      if (dialled.heard[0]?.kind !== 'prompt') throw new Error(`no greeting: ${JSON.stringify(dialled)}`);
      if (index >= 0) firstPrompt.push(heardAt);
      const conversationId = (await handler({
        Name: 'ContactFlowEvent',
        Details: {
          ContactData: {
            Attributes: {},
            Channel: 'VOICE',
            ContactId: `bench-${index}`,
            CustomerEndpoint: { Address: from, Type: 'TELEPHONE_NUMBER' },
            InitialContactId: `bench-${index}`,
            InitiationMethod: 'INBOUND',
            InstanceARN: 'arn:aws:connect:us-east-1:000000000000:instance/bench',
            PreviousContactId: `bench-${index}`,
            Queue: null,
            SystemEndpoint: { Address: AGENT_NUMBER, Type: 'TELEPHONE_NUMBER' },
            MediaStreams: { Customer: { Audio: null } },
          },
          Parameters: { operation: 'start-call' },
        },
      })) as Record<string, string>;
      session = {
        dialledNumber: AGENT_NUMBER,
        callerNumber: from,
        conversationId: conversationId.conversationId ?? '',
        contactId: `c0ffee00-0000-4000-8000-${String(index + 100_000).padStart(12, '0')}`,
      };
    }
    let result: LexV2Result | undefined;
    const started = performance.now();
    const traced = await traceTimedDynamoCalls(async () => {
      result = (await handler(lexEvent('Do you take walk-ins?', session))) as LexV2Result;
    });
    const took = performance.now() - started;
    if (result?.sessionState.dialogAction.type !== 'ElicitIntent') {
      throw new Error(`the turn did not answer in time: ${JSON.stringify(result)}`);
    }
    session = { ...(result.sessionState.sessionAttributes ?? {}) };
    turnInCall = (turnInCall + 1) % 10;
    if (index < 0) continue;
    turn.push(took);
    floor.push(wallMs(traced));
    calls += traced.length;
  }
  const turnMs = summarize(turn);
  const floorMs = summarize(floor);
  return {
    turns: options.turns,
    turnMs,
    floorMs,
    dynamoCallsPerTurn: round(calls / Math.max(1, options.turns)),
    ratioP50: round(turnMs.p50 / floorMs.p50),
    ratioP99: round(turnMs.p99 / floorMs.p99),
    firstPromptMs: summarize(firstPrompt),
  };
}

export function printVoiceLatency(result: VoiceLatencyResult): void {
  console.log(
    heading(`Voice turns (${result.turns} Lex code hook turns, scripted model, 1 model call each)`),
  );
  console.log(
    table(
      ['Measure', 'p50 ms', 'p99 ms', 'Floor p50', 'Floor p99', '× p50', '× p99', 'Target'],
      [
        [
          `voice turn handler (${result.dynamoCallsPerTurn} DynamoDB calls)`,
          ms(result.turnMs.p50),
          ms(result.turnMs.p99),
          ms(result.floorMs.p50),
          ms(result.floorMs.p99),
          times(result.ratioP50),
          times(result.ratioP99),
          `≤ ${VOICE_TURN_RATIO_TARGET}×`,
        ],
        [
          'first prompt heard (dial → greeting)',
          ms(result.firstPromptMs.p50),
          ms(result.firstPromptMs.p99),
          '-',
          '-',
          '-',
          '-',
          '-',
        ],
      ],
    ),
  );
  console.log(
    'Floor = the DynamoDB round trips the turn made, timed inside it (parallel ones once): the rest is the handler, the runtime and the scripted model.',
  );
}

export function voiceFindings(result: VoiceLatencyResult): string[] {
  return result.ratioP50 <= VOICE_TURN_RATIO_TARGET
    ? []
    : [
        `FAIL  voice turn handler: ${times(result.ratioP50)} its DynamoDB round trips at p50 (target ≤ ${VOICE_TURN_RATIO_TARGET}×)`,
      ];
}

/** In a child process: one local platform per process, and the other benches have theirs. */
export async function measureVoiceLatencyIsolated(options: {
  turns: number;
  warmup: number;
  progress: (message: string) => void;
}): Promise<VoiceLatencyResult> {
  await mkdir(OUT_DIR, { recursive: true });
  const out = join(OUT_DIR, 'voice-latency.child.json');
  await rm(out, { force: true });
  options.progress('voice bench: starting a child process with its own DynamoDB Local and local platform…');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        ...process.execArgv,
        __filename,
        '--turns',
        String(options.turns),
        '--warmup',
        String(options.warmup),
        '--out',
        out,
      ],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: {
          ...process.env,
          POWERTOOLS_LOG_LEVEL: 'SILENT',
          TURN_RATE_LIMITS: JSON.stringify({ turnsPerMinute: 100_000, agentTurnsPerMinute: 100_000 }),
        },
      },
    );
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`the voice bench exited with ${signal ?? `code ${code}`}`)),
    );
  });
  return JSON.parse(await readFile(out, 'utf8')) as VoiceLatencyResult;
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
  withLocalPlatform((platform, assertRunning) =>
    measure(platform, assertRunning, {
      turns: Number(values.turns),
      warmup: Number(values.warmup),
      progress: (message) => console.error(message),
    }),
  )
    .then(async (result) => {
      if (values.out) await writeFile(values.out, JSON.stringify(result));
      else printVoiceLatency(result);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
