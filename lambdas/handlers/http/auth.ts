import { DynamoTenantRepository } from '../../adapters/dynamodb/tenant-repository';
import { loadIdentityConfig, loadRuntimeConfig } from '../../composition/environment';
import { createIdentityProvider } from '../../composition/identity';
import { tableClient } from '../../composition/table';
import { registerTenant } from '../../domain/tenants/registration';
import { createHttpHandler } from '../../http/http-handler';
import { AUTH_ROUTES } from '../../http/routes/auth';

const config = loadRuntimeConfig();
const client = tableClient(config);
const deps = {
  tenants: new DynamoTenantRepository(client, config.TABLE_NAME),
  identity: createIdentityProvider(loadIdentityConfig(), {
    client,
    tableName: config.TABLE_NAME,
    region: config.AWS_REGION,
  }),
};

export const handler = createHttpHandler(
  AUTH_ROUTES,
  {
    'POST /v1/auth/register': async ({ body }) => {
      const { tenant, owner, auth } = await registerTenant(deps, body);
      return { body: { tenant, user: owner, auth } };
    },
    'POST /v1/auth/login': async ({ body }) => ({
      body: await deps.identity.authenticate(body.email, body.password),
    }),
  },
  { maxBodyBytes: config.MAX_BODY_BYTES },
);
