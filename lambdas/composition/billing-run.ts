import { DynamoTenantRepository } from '../adapters/dynamodb/tenant-repository';
import { ENV } from './env-names';
import { environmentSlice, loadRuntimeConfig, parseEnvironment } from './environment';
import { tableClient } from './table';

/**
 * The billing run's paging step's dependencies: the platform-level tenant listing (a Query on gsi1
 * `TENANTS`, outside any tenant scope) and its paging (`TENANT_PAGE_SIZE`, `PAGES_PER_EXECUTION`).
 * The charge and suspend steps use the billing composition (billing.ts), one tenant scope each.
 */
const config = loadRuntimeConfig();
const { TENANT_PAGE_SIZE: pageSize, PAGES_PER_EXECUTION: pagesPerExecution } = parseEnvironment(
  environmentSlice(ENV.TENANT_PAGE_SIZE, ENV.PAGES_PER_EXECUTION),
  'billing run paging',
);

export const listTenantsDeps = {
  tenants: new DynamoTenantRepository(tableClient(config), config.TABLE_NAME),
  pageSize,
  pagesPerExecution,
};
