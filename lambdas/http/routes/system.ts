import * as z from 'zod/mini';
import { lazySchema } from '../../domain/shared/zod';
import type { RouteGroup } from '../route-spec';

const healthResponse = lazySchema(() =>
  z.object({ status: z.enum(['ok', 'degraded']), checks: z.record(z.string(), z.string()) }),
);

export const SYSTEM_ROUTES = {
  'GET /v1/health': {
    lambda: 'system',
    permission: 'public',
    summary: 'Liveness and table reachability',
    status: 200,
    response: healthResponse,
    otherResponses: { 503: { description: 'Degraded: the table does not answer', response: healthResponse } },
  },
  'GET /v1/openapi.json': {
    lambda: 'system',
    permission: 'public',
    summary: 'This API as an OpenAPI 3.1 document',
    status: 200,
    response: lazySchema(() =>
      z.looseObject({
        openapi: z.literal('3.1.0'),
        info: z.looseObject({ title: z.string(), version: z.string() }),
        servers: z.array(z.object({ url: z.string() })),
        paths: z.record(z.string(), z.record(z.string(), z.unknown())),
      }),
    ),
  },
} as const satisfies RouteGroup<'system'>;
