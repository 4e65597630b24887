import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { APPROVAL_STEP_FUNCTION } from '../../lambdas/handlers/workflow/approval-definition';
import { MONTHLY_BILLING_STEPS } from '../../lambdas/handlers/workflow/monthly-billing-definition';
import { PROVISION_STEP_FUNCTION } from '../../lambdas/handlers/workflow/provision-definition';
import { LAMBDA_ESBUILD_OPTIONS } from '../../lib/bundling';
import { EMAIL_INTAKE_ENTRY, EMAIL_INTAKE_SERVICE } from '../../lib/constructs/email-receiving';
import { EXECUTION_WORKER_ENTRY } from '../../lib/constructs/execution-queue';
import { INBOUND_WORKER_ENTRY, INBOUND_WORKER_SERVICE } from '../../lib/constructs/inbound-queue';
import { VOICE_ENTRY, VOICE_SERVICE } from '../../lib/constructs/voice-channel';
import { WEBSOCKET_ENTRIES } from '../../lib/constructs/websocket-api';
import { HTTP_LAMBDAS } from '../../lib/http-lambdas';
import { DECLARED_RECORDS_ENTRY, DECLARED_RECORDS_SERVICE } from '../../lib/stacks/declared-tenant-stack';

const REPO_ROOT = join(__dirname, '..', '..');

/** Every deployed Lambda entry: the HTTP ones, the execution worker, the workflows' steps, housekeeping. */
const ENTRIES: [string, { entry: string }][] = [
  ...Object.entries(HTTP_LAMBDAS),
  ['execution-worker', { entry: EXECUTION_WORKER_ENTRY }],
  [INBOUND_WORKER_SERVICE, { entry: INBOUND_WORKER_ENTRY }],
  [EMAIL_INTAKE_SERVICE, { entry: EMAIL_INTAKE_ENTRY }],
  [VOICE_SERVICE, { entry: VOICE_ENTRY }],
  [DECLARED_RECORDS_SERVICE, { entry: DECLARED_RECORDS_ENTRY }],
  [APPROVAL_STEP_FUNCTION.name, { entry: APPROVAL_STEP_FUNCTION.entry }],
  [PROVISION_STEP_FUNCTION.name, { entry: PROVISION_STEP_FUNCTION.entry }],
  ...Object.values(MONTHLY_BILLING_STEPS).map((step): [string, { entry: string }] => [
    step.name,
    { entry: step.entry },
  ]),
  ...Object.entries(WEBSOCKET_ENTRIES).map(([name, entry]): [string, { entry: string }] => [name, { entry }]),
  // The one entry lib/constructs/reservation-housekeeping.ts names inline.
  ['release-expired-reservations', { entry: 'lambdas/handlers/events/release-expired-reservations.ts' }],
];

/**
 * Inputs no deployed bundle may hold: local mode's own code (its approval workflow runner, Step
 * Functions emulator, HTTP server, DynamoDB Local), the library that runner uses, the offline
 * stand-ins (lambdas/adapters/local: scripted model, hashing embedder, local outbox, local identity
 * issuer), which local mode injects into the composition, and the issuer's JWT library.
 */
const LOCAL_ONLY: readonly [string, RegExp][] = [
  ['local mode (local/)', /^local\//],
  ['aws-local-stepfunctions', /node_modules\/aws-local-stepfunctions\//],
  ['the scripted model', /lambdas\/adapters\/local\/scripted-model\.ts$/],
  ['the hashing embedder', /lambdas\/adapters\/local\/hash-embedder\.ts$/],
  ['the local identity issuer', /lambdas\/adapters\/local\/local-identity\.ts$/],
  ['the local outbox', /lambdas\/adapters\/local\/local-outbox\.ts$/],
  ['a local stand-in', /lambdas\/adapters\/local\//],
  ['jose', /node_modules\/jose\//],
];

function handlerFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((item) => {
    const path = join(dir, item.name);
    if (item.isDirectory()) return handlerFiles(path);
    if (!item.name.endsWith('.ts') || item.name.endsWith('.test.ts')) return [];
    return /^export (const|async function|function) handler\b/m.test(readFileSync(path, 'utf8'))
      ? [relative(REPO_ROOT, path)]
      : [];
  });
}

describe('Lambda bundles', () => {
  it('cover every handler under lambdas/handlers', () => {
    const listed = new Set(ENTRIES.map(([, lambda]) => lambda.entry));
    expect(handlerFiles(join(REPO_ROOT, 'lambdas/handlers')).filter((file) => !listed.has(file))).toEqual([]);
  });

  it.each(ENTRIES)('%s leaves local-only code out', async (_name, lambda) => {
    const result = await build({
      ...LAMBDA_ESBUILD_OPTIONS,
      mainFields: [...LAMBDA_ESBUILD_OPTIONS.mainFields],
      external: [...LAMBDA_ESBUILD_OPTIONS.external],
      define: { ...LAMBDA_ESBUILD_OPTIONS.define },
      entryPoints: [lambda.entry],
      absWorkingDir: REPO_ROOT,
      write: false,
      metafile: true,
    });
    const code = result.outputFiles?.[0]?.text ?? '';
    const inputs = Object.keys(result.metafile?.inputs ?? {});
    expect(code.length).toBeGreaterThan(100_000);
    expect(code).not.toContain('LOCALID#');
    // Named, so a failure says what leaked and through which file.
    const leaked = LOCAL_ONLY.flatMap(([what, pattern]) =>
      inputs.filter((input) => pattern.test(input)).map((input) => `${what}: ${input}`),
    );
    expect(leaked).toEqual([]);
    // The MIME parser (~1.1 MB minified) is the email intake's alone: the webhooks Lambda's local
    // email route is compiled away in a Lambda build.
    const mime = inputs.filter((input) => /node_modules\/(mailparser|html-to-text|iconv-lite)\//.test(input));
    if (lambda.entry === EMAIL_INTAKE_ENTRY) expect(mime).not.toEqual([]);
    else expect(mime).toEqual([]);
    // zod/mini only: classic zod's method-laden schemas cost cold-start time.
    expect(inputs.filter((input) => /node_modules\/zod\/v4\/classic\//.test(input))).toEqual([]);
  });
});
