import type { SecretsManagerClient, SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient, type TableClient } from '../adapters/dynamodb/document-client';
import { loadRuntimeConfig, type RuntimeConfig } from './environment';
import { clientsByScope, type TenantCredentialProvider, tenantCredentialProvider } from './tenant-clients';

export type { TableClient };

type TableConfig = Pick<RuntimeConfig, 'AWS_REGION' | 'DYNAMODB_ENDPOINT'>;

const tables = new Map<string, TableClient>();

/**
 * The one place a client of the data table is built, for every entry point and composition. It
 * routes each `send` by the tenant scope in force (tenant-scope.ts): inside `inTenantScope(T)` to
 * T's client, signed with T's credentials (the tenant-access role tagged `tenant=T` on AWS; the
 * local credential provider's policy check in local mode and tests), which can touch only `T#T`
 * and `T#T#*` items; outside any scope to the platform client, with the function's own
 * credentials, which reach no tenant's items. One routing client per table endpoint and process.
 */
export function tableClient(config: TableConfig = loadRuntimeConfig()): TableClient {
  const key = `${config.AWS_REGION}|${config.DYNAMODB_ENDPOINT ?? ''}`;
  let table = tables.get(key);
  if (!table) {
    table = routingTableClient(config, tenantCredentialProvider);
    tables.set(key, table);
  }
  return table;
}

/** `provider` is asked for on the first call, so a module that builds a client at load needs none yet. */
export function routingTableClient(
  config: TableConfig,
  provider: () => TenantCredentialProvider,
): TableClient & { readonly tenantClients: number } {
  const clients = clientsByScope((tenantId): DynamoDBDocumentClient => {
    const credentials = provider();
    const client = createDocumentClient({
      region: config.AWS_REGION,
      ...(config.DYNAMODB_ENDPOINT ? { endpoint: config.DYNAMODB_ENDPOINT } : {}),
      ...(tenantId ? { credentials: credentials.credentialsFor(tenantId) } : {}),
    });
    credentials.attach(client, 'dynamodb', tenantId);
    return client;
  });
  const send = ((command: Parameters<DynamoDBDocumentClient['send']>[0], ...rest: unknown[]) =>
    (clients.current().send as (...args: unknown[]) => unknown)(command, ...rest)) as TableClient['send'];
  return {
    send,
    get tenantClients() {
      return clients.size;
    },
  };
}

/**
 * The Secrets Manager client of tenant secrets (`${TENANT_SECRETS_PREFIX}/tenants/<tenantId>/...`),
 * routed like the table client: a tenant's secrets are read with that tenant's credentials only.
 * `build` makes one SDK client (adapters/secrets keeps the command list of the bundle small).
 */
export function tenantSecretsClient(
  config: SecretsManagerClientConfig,
  build: (config: SecretsManagerClientConfig) => SecretsManagerClient,
): Pick<SecretsManagerClient, 'send'> {
  const clients = clientsByScope((tenantId): SecretsManagerClient => {
    const provider = tenantCredentialProvider();
    const client = build({
      ...config,
      ...(tenantId ? { credentials: provider.credentialsFor(tenantId) } : {}),
    });
    provider.attach(client, 'secretsmanager', tenantId);
    return client;
  });
  const send = ((command: Parameters<SecretsManagerClient['send']>[0], ...rest: unknown[]) =>
    (clients.current().send as (...args: unknown[]) => unknown)(
      command,
      ...rest,
    )) as SecretsManagerClient['send'];
  return { send };
}
