import { DynamoTenantRepository } from '../adapters/dynamodb/tenant-repository';
import { createCallerAddress } from './caller-address';
import { loadIdentityConfig, loadRuntimeConfig } from './environment';
import { createIdentityProvider } from './identity';
import { tableClient } from './table';
import { DATA_SCOPES } from './tenant-scope';

/** The auth HTTP Lambda's dependencies (registration, sign-in), built once per process at module load. */
const config = loadRuntimeConfig();
const client = tableClient(config);

export const authDeps = {
  tenants: new DynamoTenantRepository(client, config.TABLE_NAME),
  identity: createIdentityProvider(loadIdentityConfig(), {
    client,
    tableName: config.TABLE_NAME,
    region: config.AWS_REGION,
  }),
  scopes: DATA_SCOPES,
};

export const authHttpDeps = { maxBodyBytes: config.MAX_BODY_BYTES };

/** The caller's address: the viewer's behind the console's CloudFront, else `sourceIp` (http/caller-address.ts). */
export const callerAddress = createCallerAddress();
