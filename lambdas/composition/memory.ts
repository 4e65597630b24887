import { DynamoAgentRepository } from '../adapters/dynamodb/agent-repository';
import { DynamoMemoryRepository } from '../adapters/dynamodb/memory-repository';
import { loadEmbedderConfig, processEmbedder } from './embedders';
import { loadRuntimeConfig } from './environment';
import { httpHandlerDeps } from './http';
import { tableClient } from './table';

/** The memory HTTP Lambda's dependencies, built once per process at module load. */
const config = loadRuntimeConfig();
// Checked now, so a bad variable fails the cold start; the client is made on first use (list,
// get and delete never embed).
loadEmbedderConfig();
const client = tableClient(config);

export const memoryDeps = {
  agents: new DynamoAgentRepository(client, config.TABLE_NAME),
  // Vectors stay cached in this process between invocations (see VectorCache).
  memories: new DynamoMemoryRepository(client, config.TABLE_NAME),
  get embedder() {
    return processEmbedder();
  },
};

export const memoryHttpDeps = httpHandlerDeps(client, config);
