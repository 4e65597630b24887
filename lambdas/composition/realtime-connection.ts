import { loadRuntimeConfig } from './environment';
import { connectionStore } from './realtime-delivery';
import { tableClient } from './table';

/** `$connect` / `$disconnect`: the connection store only (no runtime, no SDK beyond DynamoDB). */
const config = loadRuntimeConfig();

export const connectionDeps = {
  store: connectionStore(tableClient(config), config.TABLE_NAME),
  now: () => new Date(),
};
