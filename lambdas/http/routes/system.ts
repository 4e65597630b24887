import * as z from 'zod/mini';
import { lazySchema } from '../../domain/shared/zod';
import type { RouteGroup } from '../route-spec';

export const SYSTEM_ROUTES = {
  'GET /v1/health': {
    lambda: 'system',
    permission: 'public',
    summary: 'Liveness and table reachability',
    status: 200,
    response: lazySchema(() =>
      z.object({ status: z.enum(['ok', 'degraded']), checks: z.record(z.string(), z.string()) }),
    ),
  },
  'GET /v1/openapi.json': {
    lambda: 'system',
    permission: 'public',
    summary: 'This API as an OpenAPI 3.1 document',
    status: 200,
  },
} as const satisfies RouteGroup<'system'>;
