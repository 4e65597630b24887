import { loadRuntimeConfig } from './environment';
import { tableClient } from './table';

/**
 * The system HTTP Lambda's dependencies: the table it proves reachable (a platform-level point read
 * of the `HEALTH` key, outside any tenant scope) and the body limit.
 */
const config = loadRuntimeConfig();

export const systemDeps = { table: tableClient(config), tableName: config.TABLE_NAME };

export const systemHttpDeps = { maxBodyBytes: config.MAX_BODY_BYTES };
