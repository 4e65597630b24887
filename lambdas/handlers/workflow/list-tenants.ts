import * as z from 'zod/mini';
import { createDocumentClient } from '../../adapters/dynamodb/document-client';
import { DynamoTenantRepository } from '../../adapters/dynamodb/tenant-repository';
import { loadRuntimeConfig } from '../../config';
import { integer } from '../../domain/shared/zod';
import { DEFAULT_TENANT_PAGE_SIZE, listTenantsStep } from './billing-run';

/**
 * The billing run's paging step (statemachines/monthly-billing.asl.json, ListTenants): reads the
 * active tenants a page at a time (`TENANT_PAGE_SIZE`, default 100) and keeps the run's tally.
 */
const config = loadRuntimeConfig();
const pageSize = z
  ._default(integer(1, 1000, { coerce: true }), DEFAULT_TENANT_PAGE_SIZE)
  .parse(process.env.TENANT_PAGE_SIZE);

export const handler = listTenantsStep({
  tenants: new DynamoTenantRepository(
    createDocumentClient({ region: config.AWS_REGION, endpoint: config.DYNAMODB_ENDPOINT }),
    config.TABLE_NAME,
  ),
  pageSize,
});
