import { parseArgs } from 'node:util';
import type { LocalPlatform } from '../local/platform';
import { localProvisioningWorkflow } from '../local/provisioning-workflow';
import { finishBench, measureInChildProcess } from './isolated';
import { platformApi, withLocalPlatform } from './local-stack';
import { heading, table, timingRow } from './report';
import { type Summary, summarize } from './stats';

/**
 * Local provisioning of an agent on four channels (voice, SMS, Telegram, Slack) over HTTP: from
 * `POST /v1/agents/provision` until the provision-agent workflow (the ASL file, in-process, against
 * the local stand-ins) has finished — 13 step Lambda invocations, each a record read and write on
 * DynamoDB Local, plus the channel set-ups. The stand-ins answer at once: this measures the
 * platform's own work per provisioning, not Connect's (see the README for AWS's limits).
 */
export interface ProvisioningBenchResult {
  readonly provisionings: number;
  readonly totalMs: Summary;
  readonly startMs: Summary;
}

type ProvisioningReply = {
  readonly auth?: { readonly token: string };
  readonly provisioningId?: string;
  readonly agentId?: string;
  readonly status?: string;
  readonly failure?: unknown;
};

const api = (platform: LocalPlatform, method: string, path: string, body?: unknown, token?: string) =>
  platformApi<ProvisioningReply>(platform, { method, path, body, token, idempotencyKey: false });

async function measure(
  platform: LocalPlatform,
  assertRunning: () => void,
  options: { provisionings: number; warmup: number },
): Promise<ProvisioningBenchResult> {
  const registered = await api(platform, 'POST', '/v1/auth/register', {
    tenant: { name: 'Provisioning bench' },
    owner: { email: `bench-prov-${Date.now()}@example.test`, password: 'Correct-Horse-9', name: 'Bench' },
  });
  const token = registered.auth?.token ?? '';
  const total: number[] = [];
  const start: number[] = [];
  for (let i = 0; i < options.warmup + options.provisionings; i++) {
    assertRunning();
    const body = {
      agent: {
        name: `Bench ${i}`,
        businessType: 'dental',
        model: { provider: 'scripted', modelId: 'scripted-v1' },
      },
      channels: [
        { type: 'voice' },
        {
          type: 'sms',
          address: `+1555030${String(i).padStart(4, '0')}`,
          credentials: { accountSid: 'ACbench', authToken: 'bench' },
        },
        { type: 'telegram', credentials: { botToken: `${i}:bench-bot` } },
        { type: 'slack', credentials: { botToken: `xoxb-T0BENCH${i}-1`, signingSecret: 'bench-signing' } },
      ],
    };
    const t0 = performance.now();
    const started = await api(platform, 'POST', '/v1/agents/provision', body, token);
    const t1 = performance.now();
    await localProvisioningWorkflow().idle();
    const t2 = performance.now();
    const record = await api(platform, 'GET', `/v1/provisioning/${started.provisioningId}`, undefined, token);
    if (record.status !== 'succeeded')
      throw new Error(`provisioning ${i} ended ${record.status}: ${JSON.stringify(record.failure)}`);
    // The local number pool holds 50: give the number back for the next round.
    await api(platform, 'DELETE', `/v1/agents/${started.agentId}`, undefined, token);
    if (i >= options.warmup) {
      start.push(t1 - t0);
      total.push(t2 - t0);
    }
  }
  return { provisionings: options.provisionings, totalMs: summarize(total), startMs: summarize(start) };
}

export function printProvisioning(result: ProvisioningBenchResult): void {
  console.log(heading('Agent provisioning (local, four channels)'));
  console.log(
    table(
      ['measure', 'n', 'p50 ms', 'p99 ms', 'max ms'],
      [
        timingRow('POST /v1/agents/provision (202)', result.startMs, true),
        timingRow('202 → workflow done (13 steps)', result.totalMs, true),
      ],
    ),
  );
}

export function measureProvisioningIsolated(options: {
  provisionings: number;
  progress: (message: string) => void;
}): Promise<ProvisioningBenchResult> {
  return measureInChildProcess({
    script: __filename,
    label: 'provisioning bench',
    flags: { provisionings: options.provisionings },
    progress: options.progress,
  });
}

if (require.main === module) {
  const { values } = parseArgs({
    options: { provisionings: { type: 'string', default: '40' }, out: { type: 'string' } },
  });
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  void finishBench(
    withLocalPlatform((platform, assertRunning) =>
      measure(platform, assertRunning, { provisionings: Number(values.provisionings), warmup: 5 }),
    ),
    values.out,
    printProvisioning,
  );
}
