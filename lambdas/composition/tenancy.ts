import { DynamoAgentRepository } from '../adapters/dynamodb/agent-repository';
import { DynamoLocationRepository } from '../adapters/dynamodb/location-repository';
import { DynamoTenantRepository } from '../adapters/dynamodb/tenant-repository';
import { DynamoUserRepository } from '../adapters/dynamodb/user-repository';
import { createCallerAddress } from './caller-address';
import { loadIdentityConfig, loadRuntimeConfig } from './environment';
import { httpHandlerDeps } from './http';
import { createIdentityProvider } from './identity';
import { tableClient } from './table';

/** The tenancy HTTP Lambda's dependencies (tenant, users, locations), built once per process. */
const config = loadRuntimeConfig();
const client = tableClient(config);

export const tenancyDeps = {
  tenants: new DynamoTenantRepository(client, config.TABLE_NAME),
  users: new DynamoUserRepository(client, config.TABLE_NAME),
  locations: new DynamoLocationRepository(client, config.TABLE_NAME),
  // Read only, when a location is deleted: the agents placed at it.
  agents: new DynamoAgentRepository(client, config.TABLE_NAME),
  identity: createIdentityProvider(loadIdentityConfig(), {
    client,
    tableName: config.TABLE_NAME,
    region: config.AWS_REGION,
  }),
};

export const tenancyHttpDeps = httpHandlerDeps(client, config);

/** Turning one's own TOTP off signs the user in again: Cognito threat protection gets their address. */
export const callerAddress = createCallerAddress();
