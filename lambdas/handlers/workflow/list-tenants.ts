import { listTenantsDeps } from '../../composition/billing-run';
import { inPlatformScope } from '../../composition/tenant-scope';
import { listTenantsStep } from './billing-run';

/**
 * The billing run's paging step (statemachines/monthly-billing.asl.json, ListTenants): reads the
 * active tenants a page at a time (`TENANT_PAGE_SIZE`, default 100, at most 300), keeps the run's
 * tally, and after `PAGES_PER_EXECUTION` pages (default 100, at most 400) has the run continue as
 * a new execution. Both maxima keep every execution's history under Step Functions' 25,000 events.
 * Platform-level: the listing names no tenant; each tenant is charged in its own scope by the next steps.
 */
const step = listTenantsStep(listTenantsDeps);

export const handler = (event: unknown) => inPlatformScope(() => step(event));
