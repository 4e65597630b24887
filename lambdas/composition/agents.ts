import { DynamoAgentRepository } from '../adapters/dynamodb/agent-repository';
import { DynamoChannelSettingsRepository } from '../adapters/dynamodb/channel-settings-repository';
import { DynamoLocationRepository } from '../adapters/dynamodb/location-repository';
import { DynamoWebChatStore } from '../adapters/dynamodb/web-chat-repository';
import type { ChannelSettingsDeps } from '../domain/channels/configure';
import type { WebChatDeps } from '../domain/realtime/web-chat';
import { logger } from '../observability';
import { channelStores } from './channels';
import { loadRuntimeConfig } from './environment';
import { httpHandlerDeps } from './http';
import { tableClient } from './table';
import { telegramWebhooks } from './telegram-webhooks';
import { DATA_SCOPES } from './tenant-scope';

/** The agents HTTP Lambda's dependencies, built once per process at module load. */
const config = loadRuntimeConfig();
const client = tableClient(config);

const agents = new DynamoAgentRepository(client, config.TABLE_NAME);

export const agentDeps = {
  agents,
  locations: new DynamoLocationRepository(client, config.TABLE_NAME),
};

const stores = channelStores(client, config.TABLE_NAME);

export const channelSettingsDeps: ChannelSettingsDeps = {
  agents,
  settings: new DynamoChannelSettingsRepository(agents, client, config.TABLE_NAME),
  directory: stores.directory,
  secrets: stores.secrets,
  telegramWebhooks: telegramWebhooks(),
  log: logger,
};

export const webChatDeps: WebChatDeps = {
  agents,
  store: new DynamoWebChatStore(client, config.TABLE_NAME),
  secrets: stores.secrets,
  scopes: DATA_SCOPES,
  now: () => new Date(),
};

export const agentHttpDeps = httpHandlerDeps(client, config);
