import { DynamoTenantRepository } from '../../adapters/dynamodb/tenant-repository';
import { ENV } from '../../composition/env-names';
import { environmentSlice, loadRuntimeConfig, parseEnvironment } from '../../composition/environment';
import { tableClient } from '../../composition/table';
import { listTenantsStep } from './billing-run';

/**
 * The billing run's paging step (statemachines/monthly-billing.asl.json, ListTenants): reads the
 * active tenants a page at a time (`TENANT_PAGE_SIZE`, default 100, at most 300), keeps the run's
 * tally, and after `PAGES_PER_EXECUTION` pages (default 100, at most 400) has the run continue as
 * a new execution. Both maxima keep every execution's history under Step Functions' 25,000 events.
 */
const config = loadRuntimeConfig();
const { TENANT_PAGE_SIZE: pageSize, PAGES_PER_EXECUTION: pagesPerExecution } = parseEnvironment(
  environmentSlice(ENV.TENANT_PAGE_SIZE, ENV.PAGES_PER_EXECUTION),
  'billing run paging',
);

export const handler = listTenantsStep({
  tenants: new DynamoTenantRepository(tableClient(config), config.TABLE_NAME),
  pageSize,
  pagesPerExecution,
});
