import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { APPROVAL_STEP_FUNCTION } from '../lambdas/handlers/workflow/approval-definition';
import { HTTP_LAMBDAS } from '../lib/http-lambdas';
import { type ActionLatencyResult, printActionLatency } from './action-latency';
import { MEASURED_ROUTES, measureApiLatency, type RouteLatency } from './api-latency';
import {
  type BillingBenchResult,
  billingFindings,
  measureBilling,
  printBilling,
  printBillingTail,
} from './billing';
import { type Bundle, bundleEntry, bundleFloor } from './bundles';
import {
  CHAT_RATIO_TARGET,
  type ChatLatencyResult,
  chatChecks,
  chatFindings,
  measureChatLatencyIsolated,
  printChatLatency,
} from './chat-latency';
import { coldImportMs } from './cold-import';
import { type ConsoleLoadResult, measureConsoleLoad, printConsoleLoad } from './console-load';
import {
  INBOUND_ACK_RATIO_TARGET,
  type InboundLatencyResult,
  inboundFindings,
  measureInboundLatencyIsolated,
  printInboundLatency,
} from './inbound-latency';
import {
  MEMORY_P50_TARGET_MS,
  type MemoryRetrievalResult,
  measureMemoryRetrieval,
  printMemoryRetrieval,
} from './memory-retrieval';
import { BUNDLE_DIR, OUT_DIR, REPO_ROOT } from './paths';
import { measureProvisioningIsolated, type ProvisioningBenchResult, printProvisioning } from './provisioning';
import { heading, kb, ms, p50p99, table, times, verdict } from './report';
import { round, type Summary, summarize } from './stats';
import {
  measureTenantCredentials,
  printTenantCredentials,
  type TenantCredentialsResult,
} from './tenant-credentials';
import {
  measureVoiceLatencyIsolated,
  printVoiceLatency,
  VOICE_TURN_RATIO_TARGET,
  type VoiceLatencyResult,
  voiceFindings,
} from './voice-latency';
import {
  measureWebSocketIsolated,
  printWebSocket,
  type WebSocketBenchResult,
  webSocketFindings,
} from './websocket';

// Listing cursors are signed (lambdas/adapters/cursor-codec.ts): a key for this run and its children.
process.env.CURSOR_SIGNING_KEY ??= randomBytes(32).toString('base64url');

const IMPORT_RATIO_TARGET = 1.3;
const OVERHEAD_TARGET_MS = 5;

const { values: args } = parseArgs({
  options: {
    verbose: { type: 'boolean', short: 'v', default: false },
    rounds: { type: 'string', default: '15' },
    requests: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '30' },
    'chat-turns': { type: 'string', default: '200' },
    'chat-warmup': { type: 'string', default: '20' },
    'action-turns': { type: 'string', default: '100' },
    approvals: { type: 'string', default: '30' },
    'inbound-messages': { type: 'string', default: '200' },
    'voice-turns': { type: 'string', default: '200' },
  },
});

function positiveInt(name: string, value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new Error(`--${name} must be a positive integer, not ${value}`);
  return parsed;
}

const rounds = positiveInt('rounds', args.rounds);
const requests = positiveInt('requests', args.requests);
const warmup = positiveInt('warmup', args.warmup);
const chatTurns = positiveInt('chat-turns', args['chat-turns']);
const chatWarmup = positiveInt('chat-warmup', args['chat-warmup']);
const actionTurns = positiveInt('action-turns', args['action-turns']);
const approvals = positiveInt('approvals', args.approvals);
const inboundMessages = positiveInt('inbound-messages', args['inbound-messages']);
const voiceTurns = positiveInt('voice-turns', args['voice-turns']);

// Progress goes to stderr so stdout is only the report.
const progress = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

interface Timing extends Summary {
  readonly samples: readonly number[];
}

interface LambdaResult {
  readonly name: string;
  readonly entry: string;
  readonly sdkClients: readonly string[];
  bundle?: Bundle;
  floor?: Bundle;
  coldImport?: {
    readonly handlerMs: Timing;
    readonly floorMs: Timing;
    readonly ratio: number;
    readonly pass: boolean;
  };
  error?: string;
}

/**
 * The Lambdas measured: every HTTP one, and the approval workflow's step Lambda. The step Lambda
 * builds its clients on its first invocation, not at import; its floor is the clients it then
 * builds (DynamoDB for the records, EventBridge for billing events, Step Functions to resume).
 */
const MEASURED_LAMBDAS: Record<string, { readonly entry: string; readonly sdkClients: readonly string[] }> = {
  ...HTTP_LAMBDAS,
  [APPROVAL_STEP_FUNCTION.name]: {
    entry: APPROVAL_STEP_FUNCTION.entry,
    sdkClients: [
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/lib-dynamodb',
      '@aws-sdk/client-eventbridge',
      '@aws-sdk/client-sfn',
      '@aws-sdk/client-sts',
    ],
  },
};

async function bundleAll(): Promise<LambdaResult[]> {
  const results: LambdaResult[] = [];
  for (const [name, spec] of Object.entries(MEASURED_LAMBDAS)) {
    progress(`bundling ${name} (${spec.entry}) and its floor…`);
    const result: LambdaResult = { name, entry: spec.entry, sdkClients: spec.sdkClients };
    try {
      result.bundle = await bundleEntry(name, spec.entry, BUNDLE_DIR);
      result.floor = await bundleFloor(name, spec.sdkClients, BUNDLE_DIR);
    } catch (error) {
      result.error = `bundling failed: ${errorText(error)}`;
    }
    results.push(result);
  }
  return results;
}

/**
 * Every round visits every Lambda, timing its handler and its floor back to back, in swapped
 * order on odd rounds: slow stretches of this shared box hit handlers and floors alike, and
 * neither always runs with the other's disk cache warm. One round is discarded first.
 */
async function measureColdImports(lambdas: LambdaResult[]): Promise<void> {
  const timed = lambdas.filter((l) => l.bundle && l.floor && !l.error);
  const handlerSamples = new Map<string, number[]>(timed.map((l) => [l.name, []]));
  const floorSamples = new Map<string, number[]>(timed.map((l) => [l.name, []]));
  const failed = new Set<string>();
  for (let r = -1; r < rounds; r++) {
    if (r >= 0) progress(`cold import round ${r + 1}/${rounds}`);
    for (const lambda of timed) {
      if (failed.has(lambda.name) || !lambda.bundle || !lambda.floor) continue;
      const pair = [
        { file: lambda.bundle.file, into: handlerSamples.get(lambda.name) },
        { file: lambda.floor.file, into: floorSamples.get(lambda.name) },
      ];
      if (r % 2 !== 0) pair.reverse();
      try {
        for (const { file, into } of pair) {
          const sample = await coldImportMs(file);
          if (r >= 0) into?.push(sample);
        }
      } catch (error) {
        failed.add(lambda.name);
        lambda.error = errorText(error);
      }
    }
  }
  for (const lambda of timed) {
    if (failed.has(lambda.name)) continue;
    const handler = handlerSamples.get(lambda.name) ?? [];
    const floor = floorSamples.get(lambda.name) ?? [];
    const handlerMs = { ...summarize(handler), samples: handler.map((s) => round(s, 3)) };
    const floorMs = { ...summarize(floor), samples: floor.map((s) => round(s, 3)) };
    const ratio = handlerMs.p50 / floorMs.p50;
    lambda.coldImport = { handlerMs, floorMs, ratio, pass: ratio <= IMPORT_RATIO_TARGET };
  }
}

function printLambdas(lambdas: readonly LambdaResult[]): void {
  console.log(
    heading(
      `Lambda bundles and cold import (LAMBDA_ESBUILD_OPTIONS; median of ${rounds} fresh node processes each, alternating)`,
    ),
  );
  const rows = lambdas.map((l) => {
    const c = l.coldImport;
    const size = (b: Bundle | undefined) => (b ? kb(b.bytes) : '-');
    const sizeRatio = l.bundle && l.floor ? times(l.bundle.bytes / l.floor.bytes) : '-';
    return [
      l.name,
      size(l.bundle),
      size(l.floor),
      sizeRatio,
      c ? ms(c.handlerMs.p50) : '-',
      c ? ms(c.floorMs.p50) : '-',
      c ? times(c.ratio) : '-',
      `≤ ${IMPORT_RATIO_TARGET}×`,
      c ? verdict(c.pass) : 'ERROR',
    ];
  });
  console.log(
    table(
      ['Lambda', 'Bundle KB', 'Floor KB', 'Size ×', 'Import ms', 'Floor ms', 'Import ×', 'Target', 'Result'],
      rows,
    ),
  );
  console.log(
    'Floor = a handler that only imports and constructs the SDK clients the entry lists in sdkClients.',
  );
  for (const l of lambdas) if (l.error) console.log(`ERROR ${l.name}: ${l.error}`);
}

function printApi(routes: readonly RouteLatency[]): void {
  console.log(
    heading(
      `API latency vs raw DynamoDB Local (${requests} requests each after ${warmup} warm-up, interleaved)`,
    ),
  );
  const callList = (calls: RouteLatency['calls']['api']) =>
    calls.map((c) => `${c.operation} ${c.bytes}B`).join(' + ') || 'none';
  const rows = routes.map((r) => [
    r.route,
    ...p50p99(r.apiMs),
    ...p50p99(r.rawMs),
    ms(r.overheadP50Ms),
    `≤ ${OVERHEAD_TARGET_MS} ms`,
    verdict(r.overheadP50Ms <= OVERHEAD_TARGET_MS),
  ]);
  console.log(
    table(['Route', 'API p50', 'API p99', 'Raw p50', 'Raw p99', 'Overhead p50', 'Target', 'Result'], rows),
  );
  console.log(
    'Times in ms. Overhead = API p50 − raw p50. Every raw floor includes the per-request read of the caller’s user record (consistent GetItem, 1 RCU):',
  );
  for (const r of routes) {
    console.log(`  ${r.route}: user read p50 ${ms(r.userReadMs.p50)}, p99 ${ms(r.userReadMs.p99)}`);
  }
  console.log('DynamoDB requests per call, traced on the wire:');
  for (const r of routes) {
    const mark = r.calls.match ? 'same operations' : 'MISMATCH: the raw floor does not mirror the route';
    console.log(`  ${r.route}: API ${callList(r.calls.api)} | raw ${callList(r.calls.raw)} (${mark})`);
  }
}

function printBundleInputs(title: string, bundle: Bundle): void {
  console.log(`\n${title}: ${relative(REPO_ROOT, bundle.file)} (${kb(bundle.bytes)} KB)`);
  const share = (bytes: number) => ((100 * bytes) / bundle.bytes).toFixed(1);
  console.log(
    table(
      ['Package / folder', 'KB', '%'],
      bundle.topPackages.map((p) => [p.name, kb(p.bytes), share(p.bytes)]),
    ),
  );
  console.log(
    table(
      ['Input file', 'KB', '%'],
      bundle.topInputs.map((i) => [i.name, kb(i.bytes), share(i.bytes)]),
    ),
  );
}

function printVerbose(lambdas: readonly LambdaResult[]): void {
  console.log(heading('Largest bundle inputs (bytes in the minified output, from the esbuild metafile)'));
  for (const l of lambdas) if (l.bundle) printBundleInputs(l.name, l.bundle);
  // Entries listing the same SDK clients get identical floors; each is shown once.
  const floors = new Map<string, { bundle: Bundle; names: string[] }>();
  for (const l of lambdas) {
    if (!l.floor) continue;
    const key = [...l.sdkClients].sort().join();
    const seen = floors.get(key);
    if (seen) seen.names.push(l.name);
    else floors.set(key, { bundle: l.floor, names: [l.name] });
  }
  for (const { bundle, names } of floors.values()) printBundleInputs(`floor of ${names.join(', ')}`, bundle);
}

async function main(): Promise<void> {
  const started = performance.now();
  await mkdir(BUNDLE_DIR, { recursive: true });
  const lambdas = await bundleAll();
  await measureColdImports(lambdas);

  let routes: RouteLatency[] = [];
  let apiError: string | undefined;
  try {
    routes = await measureApiLatency({ requests, warmup, progress });
  } catch (error) {
    apiError = errorText(error);
  }

  let chat: ChatLatencyResult | undefined;
  let chatError: string | undefined;
  let actions: ActionLatencyResult | undefined;
  let actionsError: string | undefined;
  try {
    const turns = await measureChatLatencyIsolated({
      turns: chatTurns,
      warmup: chatWarmup,
      actionTurns,
      approvals,
      progress,
    });
    chat = turns.chat;
    actions = turns.actions;
    actionsError = turns.actionsError;
  } catch (error) {
    chatError = errorText(error);
    actionsError = 'not measured: the chat bench process failed';
  }

  let webSocket: WebSocketBenchResult | undefined;
  let webSocketError: string | undefined;
  try {
    webSocket = await measureWebSocketIsolated({ turns: 100, deltas: 1000, connections: 1000, progress });
  } catch (error) {
    webSocketError = errorText(error);
  }

  let memory: MemoryRetrievalResult | undefined;
  let memoryError: string | undefined;
  try {
    memory = measureMemoryRetrieval({ progress });
  } catch (error) {
    memoryError = errorText(error);
  }

  let billing: BillingBenchResult | undefined;
  let billingError: string | undefined;
  try {
    billing = await measureBilling({ progress });
  } catch (error) {
    billingError = errorText(error);
  }

  let tenantCredentials: TenantCredentialsResult | undefined;
  let tenantCredentialsError: string | undefined;
  try {
    tenantCredentials = await measureTenantCredentials({ progress });
  } catch (error) {
    tenantCredentialsError = errorText(error);
  }

  let inbound: InboundLatencyResult | undefined;
  let inboundError: string | undefined;
  try {
    inbound = await measureInboundLatencyIsolated({ messages: inboundMessages, warmup: 20, progress });
  } catch (error) {
    inboundError = errorText(error);
  }

  let voice: VoiceLatencyResult | undefined;
  let voiceError: string | undefined;
  try {
    voice = await measureVoiceLatencyIsolated({ turns: voiceTurns, warmup: 20, progress });
  } catch (error) {
    voiceError = errorText(error);
  }

  let provisioning: ProvisioningBenchResult | undefined;
  let provisioningError: string | undefined;
  try {
    provisioning = await measureProvisioningIsolated({ provisionings: 40, progress });
  } catch (error) {
    provisioningError = errorText(error);
  }

  let consoleLoad: ConsoleLoadResult | undefined;
  let consoleError: string | undefined;
  try {
    consoleLoad = await measureConsoleLoad({ rounds: 15, progress });
  } catch (error) {
    consoleError = errorText(error);
  }

  printLambdas(lambdas);
  if (apiError) console.log(`${heading('API latency')}\nERROR: ${apiError}`);
  else printApi(routes);
  if (chat) printChatLatency(chat);
  else console.log(`${heading('Chat turn latency')}\nERROR: ${chatError}`);
  if (actions) printActionLatency(actions);
  else console.log(`${heading('Decision engine')}\nERROR: ${actionsError}`);
  if (webSocket) printWebSocket(webSocket);
  else console.log(`${heading('WebSocket API (local mode, /v1/ws)')}\nERROR: ${webSocketError}`);
  if (memory) printMemoryRetrieval(memory);
  else console.log(`${heading('Memory retrieval')}\nERROR: ${memoryError}`);
  if (billing) {
    printBilling(billing);
    printBillingTail(billing);
  } else console.log(`${heading('Token debits')}\nERROR: ${billingError}`);
  if (tenantCredentials) printTenantCredentials(tenantCredentials);
  else console.log(`${heading('Tenant credentials')}\nERROR: ${tenantCredentialsError}`);
  if (inbound) printInboundLatency(inbound);
  else console.log(`${heading('Inbound messages')}\nERROR: ${inboundError}`);
  if (voice) printVoiceLatency(voice);
  else console.log(`${heading('Voice turns')}\nERROR: ${voiceError}`);
  if (provisioning) printProvisioning(provisioning);
  else console.log(`${heading('Agent provisioning')}\nERROR: ${provisioningError}`);
  if (consoleLoad) printConsoleLoad(consoleLoad);
  else console.log(`${heading('Console first load')}\nERROR: ${consoleError}`);
  if (args.verbose) printVerbose(lambdas);

  const failures = [
    ...lambdas.flatMap((l) => {
      if (l.error || !l.coldImport) return [`ERROR cold import ${l.name}: ${l.error ?? 'not measured'}`];
      return l.coldImport.pass
        ? []
        : [
            `FAIL  cold import ${l.name}: ${times(l.coldImport.ratio)} its floor (target ≤ ${IMPORT_RATIO_TARGET}×)`,
          ];
    }),
    ...(provisioningError ? [`ERROR provisioning: ${provisioningError}`] : []),
    ...(apiError ? [`ERROR API latency: ${apiError}`] : []),
    ...routes.flatMap((r) => [
      ...(r.overheadP50Ms <= OVERHEAD_TARGET_MS
        ? []
        : [
            `FAIL  ${r.route}: ${ms(r.overheadP50Ms)} ms over raw DynamoDB at p50 (target ≤ ${OVERHEAD_TARGET_MS} ms)`,
          ]),
      ...(r.calls.match ? [] : [`WARN  ${r.route}: raw floor makes different DynamoDB calls than the route`]),
    ]),
    ...(chatError ? [`ERROR chat latency: ${chatError}`] : []),
    ...(chat ? chatFindings(chat) : []),
    ...(actionsError ? [`ERROR decision engine: ${actionsError}`] : []),
    ...(webSocketError ? [`ERROR websocket: ${webSocketError}`] : []),
    ...(webSocket ? webSocketFindings(webSocket) : []),
    ...(memoryError ? [`ERROR memory retrieval: ${memoryError}`] : []),
    ...(memory && !memory.pass
      ? [
          `FAIL  memory top-${memory.k} retrieval: ${ms(memory.searchMs.p50)} ms p50 (target ≤ ${memory.targetMs} ms)`,
        ]
      : []),
    ...(billingError ? [`ERROR billing: ${billingError}`] : []),
    ...(billing ? billingFindings(billing) : []),
    ...(inboundError ? [`ERROR inbound messages: ${inboundError}`] : []),
    ...(inbound ? inboundFindings(inbound) : []),
    ...(voiceError ? [`ERROR voice turns: ${voiceError}`] : []),
    ...(voice ? voiceFindings(voice) : []),
    ...(consoleError ? [`ERROR console first load: ${consoleError}`] : []),
  ];
  const checks =
    lambdas.length + (apiError ? MEASURED_ROUTES.length : routes.length) + chatChecks(chat).checks + 4;
  const passed =
    lambdas.filter((l) => l.coldImport?.pass).length +
    routes.filter((r) => r.overheadP50Ms <= OVERHEAD_TARGET_MS).length +
    chatChecks(chat).passed +
    (memory?.pass ? 1 : 0) +
    // The billing figures have no target; what is checked is that the ledger stayed exact.
    (billing?.exact ? 1 : 0) +
    (inbound && inbound.ratioP50 <= INBOUND_ACK_RATIO_TARGET ? 1 : 0) +
    (voice && voice.ratioP50 <= VOICE_TURN_RATIO_TARGET ? 1 : 0);
  console.log(heading('Summary'));
  console.log(failures.length === 0 ? `All ${checks} targets met.` : failures.join('\n'));
  console.log(`${passed}/${checks} targets met; ${((performance.now() - started) / 1000).toFixed(0)} s.`);

  const resultsFile = join(OUT_DIR, 'results.json');
  const json = {
    generatedAt: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    options: { rounds, requests, warmup, chatTurns, chatWarmup, actionTurns, approvals },
    targets: {
      importRatio: IMPORT_RATIO_TARGET,
      overheadMs: OVERHEAD_TARGET_MS,
      memoryP50Ms: MEMORY_P50_TARGET_MS,
      chatRatio: CHAT_RATIO_TARGET,
      inboundAckRatio: INBOUND_ACK_RATIO_TARGET,
      voiceTurnRatio: VOICE_TURN_RATIO_TARGET,
    },
    lambdas: lambdas.map(({ bundle, floor, ...rest }) => ({
      ...rest,
      bundle: bundle && { ...bundle, file: relative(REPO_ROOT, bundle.file) },
      floor: floor && { ...floor, file: relative(REPO_ROOT, floor.file) },
    })),
    api: apiError
      ? { error: apiError }
      : {
          routes: routes.map((r) => ({
            ...r,
            apiMs: { ...r.apiMs, samples: r.apiMs.samples.map((s) => round(s, 3)) },
            rawMs: { ...r.rawMs, samples: r.rawMs.samples.map((s) => round(s, 3)) },
            pass: r.overheadP50Ms <= OVERHEAD_TARGET_MS,
          })),
        },
    chatLatency: chat ?? { error: chatError },
    actionLatency: actions ?? { error: actionsError },
    memoryRetrieval: memory ?? { error: memoryError },
    billing: billing ?? { error: billingError },
    inboundLatency: inbound ?? { error: inboundError },
    voiceLatency: voice ?? { error: voiceError },
    consoleLoad: consoleLoad ?? { error: consoleError },
    failures,
  };
  await writeFile(resultsFile, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`Results: ${relative(REPO_ROOT, resultsFile)}`);
  // Missed targets are findings, not failures of the bench; only a figure it could not take is.
  process.exitCode = failures.some((f) => f.startsWith('ERROR')) ? 1 : 0;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
