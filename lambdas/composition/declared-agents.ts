import { DynamoAgentRepository } from '../adapters/dynamodb/agent-repository';
import { DynamoChannelDirectory } from '../adapters/dynamodb/channel-directory';
import { DynamoLocationRepository } from '../adapters/dynamodb/location-repository';
import { DynamoTenantRepository } from '../adapters/dynamodb/tenant-repository';
import type { DeclaredRecordsDeps } from '../domain/provisioning/declared';
import { platformScoped } from './channels';
import { loadRuntimeConfig } from './environment';
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
