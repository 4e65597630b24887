import * as z from 'zod/mini';
import { createDocumentClient } from '../../adapters/dynamodb/document-client';
import { DynamoTenantRepository } from '../../adapters/dynamodb/tenant-repository';
import { loadRuntimeConfig } from '../../composition/environment';
import { integer } from '../../domain/shared/zod';
import {
  DEFAULT_PAGES_PER_EXECUTION,
  DEFAULT_TENANT_PAGE_SIZE,
  listTenantsStep,
  MAX_PAGES_PER_EXECUTION,
  MAX_TENANT_PAGE_SIZE,
} from './billing-run';

/**
 * The billing run's paging step (statemachines/monthly-billing.asl.json, ListTenants): reads the
 * active tenants a page at a time (`TENANT_PAGE_SIZE`, default 100, at most 300), keeps the run's
 * tally, and after `PAGES_PER_EXECUTION` pages (default 100, at most 400) has the run continue as
 * a new execution. Both maxima keep every execution's history under Step Functions' 25,000 events.
 */
const config = loadRuntimeConfig();
const pageSize = z
  ._default(integer(1, MAX_TENANT_PAGE_SIZE, { coerce: true }), DEFAULT_TENANT_PAGE_SIZE)
  .parse(process.env.TENANT_PAGE_SIZE);
const pagesPerExecution = z
  ._default(integer(1, MAX_PAGES_PER_EXECUTION, { coerce: true }), DEFAULT_PAGES_PER_EXECUTION)
  .parse(process.env.PAGES_PER_EXECUTION);

export const handler = listTenantsStep({
  tenants: new DynamoTenantRepository(
    createDocumentClient({ region: config.AWS_REGION, endpoint: config.DYNAMODB_ENDPOINT }),
    config.TABLE_NAME,
  ),
  pageSize,
  pagesPerExecution,
});
