import { DynamoAgentRepository } from '../adapters/dynamodb/agent-repository';
import { DynamoChannelDirectory } from '../adapters/dynamodb/channel-directory';
import { DynamoLocationRepository } from '../adapters/dynamodb/location-repository';
import { DynamoTenantRepository } from '../adapters/dynamodb/tenant-repository';
import type { DeclaredRecordsDeps } from '../domain/provisioning/declared';
import { platformScoped } from './channels';
import { ENV } from './env-names';
import { environmentSlice, loadRuntimeConfig, parseEnvironment } from './environment';
import { type TableClient, tableClient } from './table';
import { DATA_SCOPES } from './tenant-scope';

/** The declared-agents records function's dependencies: the same repositories as the API's. */
export function buildDeclaredRecordsDeps(options: { client?: TableClient } = {}): DeclaredRecordsDeps {
  const config = loadRuntimeConfig();
  const client = options.client ?? tableClient(config);
  const table = config.TABLE_NAME;
  return {
    tenants: new DynamoTenantRepository(client, table),
    agents: new DynamoAgentRepository(client, table),
    locations: new DynamoLocationRepository(client, table),
    directory: platformScoped(new DynamoChannelDirectory(client, table)),
    scopes: DATA_SCOPES,
  };
}

/** The one tenant the function serves (`DECLARED_TENANT_ID`, set by its stack); unset: none checked. */
export function declaredTenantOf(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return parseEnvironment(environmentSlice(ENV.DECLARED_TENANT_ID), 'declared agent records', env, {
    emptyIsUnset: true,
  }).DECLARED_TENANT_ID;
}
