/**
 * Local mode: `npm start [-- --port 3000] [-- --data-dir .local-data]`.
 * Runs DynamoDB Local, the local token issuer and every HTTP route on this machine.
 */
import { parseArgs } from 'node:util';
import { startLocalPlatform } from '../local/platform';

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: process.env.PORT ?? '3000' },
      host: { type: 'string', default: '127.0.0.1' },
      'data-dir': { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port: ${values.port} is not a port number`);
  }
  const startedAt = performance.now();
  const platform = await startLocalPlatform({
    port,
    host: values.host,
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
    logRequests: !values.quiet,
  });
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  console.log(`
Agent platform (local mode) is up in ${seconds}s at ${platform.url}
  data:   ${values['data-dir'] ? `DynamoDB Local in ${values['data-dir']}` : 'DynamoDB Local in memory (pass --data-dir DIR to keep it)'}
  console: ${platform.url}/   (register a business there, or sign in)
  API:    ${platform.url}/v1/openapi.json
  operator (outside every tenant; /v1/operator routes only), log in with POST /v1/auth/login:
          email ${platform.operator.email}   password ${platform.operator.password}

Try it:
  curl -s -X POST ${platform.url}/v1/auth/register -H 'content-type: application/json' \\
    -d '{"tenant":{"name":"Acme Dental"},"owner":{"email":"owner@acme.test","password":"Correct-Horse-9","name":"Ada Owner"}}'

Ctrl-C stops everything.`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    await platform.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
