import { DynamoRateLimitRepository } from '../adapters/dynamodb/rate-limit-repository';
import { DynamoTenantRepository } from '../adapters/dynamodb/tenant-repository';
import { purchaseDeps } from './billing';
import { loadRuntimeConfig, loadTurnRateLimits } from './environment';
import { httpHandlerDeps } from './http';
import { tableClient } from './table';

/** The billing HTTP Lambda's dependencies (tokens, purchases, the payment webhook, operator routes). */
const config = loadRuntimeConfig();
const client = tableClient(config);

export const { deps: billingApiDeps, payments: billingPayments } = purchaseDeps(client);

/** The operator's view of a tenant's turn rate limits (the runtime admits turns under them). */
export const operatorRateLimitDeps = {
  rateLimits: new DynamoRateLimitRepository(client, config.TABLE_NAME),
  defaults: loadTurnRateLimits(),
  now: () => new Date(),
  tenants: new DynamoTenantRepository(client, config.TABLE_NAME),
};

export const billingHttpDeps = httpHandlerDeps(client, config);
