import { billingDeps } from '../../adapters/billing-composition';
import { DynamoAuditLog } from '../../adapters/dynamodb/audit-repository';
import { createDocumentClient } from '../../adapters/dynamodb/document-client';
import { DynamoUserRepository } from '../../adapters/dynamodb/user-repository';
import { loadRuntimeConfig } from '../../config';
import { credit, getBalance, getUsage, setLowBalanceThreshold } from '../../domain/billing/billing';
import { ValidationError } from '../../domain/shared/errors';
import { createHttpHandler } from '../../http/http-handler';
import { idempotencyKey } from '../../http/request';
import { BILLING_ROUTES } from '../../http/routes/billing';

const config = loadRuntimeConfig();
const client = createDocumentClient({ region: config.AWS_REGION, endpoint: config.DYNAMODB_ENDPOINT });
const deps = billingDeps(client);

export const handler = createHttpHandler(
  BILLING_ROUTES,
  {
    'GET /v1/tokens/balance': async ({ principal }) => ({ body: await getBalance(deps, principal.tenantId) }),
    'PUT /v1/tokens/settings': async ({ principal, body }) => ({
      body: await setLowBalanceThreshold(deps, principal.tenantId, body.lowBalanceThreshold),
    }),
    'GET /v1/tokens/costs': async () => ({ body: deps.costs }),
    'GET /v1/tokens/usage': async ({ principal, query }) => ({
      body: await getUsage(deps, principal.tenantId, query),
    }),
    'POST /v1/tokens/add': async ({ principal, body, event }) => {
      // Money-like and retried by clients: without a key a timeout could credit twice.
      const key = idempotencyKey(event);
      if (key === undefined) {
        throw ValidationError.forField(
          'header.idempotency-key',
          'is required to add tokens (retries reuse it)',
        );
      }
      const result = await credit(
        deps,
        principal.tenantId,
        body.amount,
        { type: body.type, ...(body.reference === undefined ? {} : { reference: body.reference }) },
        key,
        principal.userId,
      );
      return { body: result, ...(result.replayed ? { headers: { 'idempotent-replayed': 'true' } } : {}) };
    },
  },
  {
    maxBodyBytes: config.MAX_BODY_BYTES,
    users: new DynamoUserRepository(client, config.TABLE_NAME),
    audit: new DynamoAuditLog(client, config.TABLE_NAME),
  },
);
