import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { systemDeps, systemHttpDeps } from '../../composition/system';
import { createHttpHandler } from '../../http/http-handler';
import { OPENAPI_JSON } from '../../http/openapi.generated';
import { SYSTEM_ROUTES } from '../../http/routes/system';
import { logger } from '../../observability';

let openApi: Record<string, unknown> | undefined;

export const handler = createHttpHandler(
  SYSTEM_ROUTES,
  {
    'GET /v1/health': async () => {
      const started = performance.now();
      try {
        // A point read of a key that never exists: proves the table answers, costs half a read unit.
        await systemDeps.table.send(
          new GetCommand({ TableName: systemDeps.tableName, Key: { pk: 'HEALTH', sk: 'HEALTH' } }),
        );
        return {
          body: { status: 'ok', checks: { table: `ok (${Math.round(performance.now() - started)} ms)` } },
        };
      } catch (error) {
        logger.warn('Health check could not reach the table', error as Error);
        return { status: 503, body: { status: 'degraded', checks: { table: 'unreachable' } } };
      }
    },
    'GET /v1/openapi.json': async ({ event }) => {
      // Generated from the route table at build time (npm run generate:openapi), parsed once.
      openApi ??= JSON.parse(OPENAPI_JSON) as Record<string, unknown>;
      const server = `${event.headers['x-forwarded-proto'] ?? 'https'}://${event.requestContext.domainName}`;
      return { body: { ...openApi, servers: [{ url: server }] } };
    },
  },
  systemHttpDeps,
);
