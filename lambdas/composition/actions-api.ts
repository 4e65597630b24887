import { actionDeps } from './actions';
import { loadRuntimeConfig } from './environment';
import { httpHandlerDeps } from './http';
import { tableClient } from './table';

/** The actions HTTP Lambda's dependencies (actions, approvals, policy, emergency stop). */
const config = loadRuntimeConfig();
const client = tableClient(config);

export const actionsApiDeps = actionDeps(client);

export const actionsHttpDeps = httpHandlerDeps(client, config);
