import { DynamoAgentRepository } from '../adapters/dynamodb/agent-repository';
import { DynamoLocationRepository } from '../adapters/dynamodb/location-repository';
import { loadRuntimeConfig } from './environment';
import { httpHandlerDeps } from './http';
import { tableClient } from './table';

/** The agents HTTP Lambda's dependencies, built once per process at module load. */
const config = loadRuntimeConfig();
const client = tableClient(config);

export const agentDeps = {
  agents: new DynamoAgentRepository(client, config.TABLE_NAME),
  locations: new DynamoLocationRepository(client, config.TABLE_NAME),
};

export const agentHttpDeps = httpHandlerDeps(client, config);
