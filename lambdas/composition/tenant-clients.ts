import type { DynamoDBClient, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ENV } from './env-names';
import { environmentSlice, parseEnvironment } from './environment';
import { requireLocalStandIn } from './stand-ins';
import { TENANT_SESSION_TAG } from './tenant-access-policy';
import { currentTenant } from './tenant-scope';

/** The clients a credential provider serves, each of which it may equip with a check of its own. */
export type ServiceName = 'dynamodb' | 'secretsmanager';
export type MiddlewareHost =
  | Pick<DynamoDBClient, 'middlewareStack'>
  | Pick<SecretsManagerClient, 'middlewareStack'>;

/**
 * Where a tenant's clients get their credentials: on AWS the tenant-access role assumed with the
 * tenant as session tag; in local mode and tests the local credential provider (a stand-in), whose
 * clients check every request's keys against the same policy document IAM evaluates.
 */
export interface TenantCredentialProvider {
  /** What a client of `tenantId` signs with; undefined: the function's own credentials. */
  credentialsFor(tenantId: string): DynamoDBClientConfig['credentials'] | undefined;
  /** Equips a client built for `tenantId` (undefined: platform-level) with the provider's checks. */
  attach(client: MiddlewareHost, service: ServiceName, tenantId: string | undefined): void;
}

export interface AwsTenantCredentialOptions {
  readonly roleArn: string;
  readonly region: string;
  /** A stand-in for STS (the bench); unset: STS's regional endpoint. */
  readonly stsEndpoint?: string;
  readonly maxTenants?: number;
}

/** The AWS provider: STS AssumeRole on the tenant-access role, cached per tenant (adapters/sts). */
export function awsTenantCredentials(options: AwsTenantCredentialOptions): TenantCredentialProvider & {
  readonly roles: import('../adapters/sts/tenant-role-credentials').TenantRoleCredentials;
} {
  // Required here, not imported: the functions without tenant access never load STS.
  const { STSClient } = require('@aws-sdk/client-sts') as typeof import('@aws-sdk/client-sts');
  const { TenantRoleCredentials } =
    require('../adapters/sts/tenant-role-credentials') as typeof import('../adapters/sts/tenant-role-credentials');
  const sts = new STSClient({
    region: options.region,
    ...(options.stsEndpoint ? { endpoint: options.stsEndpoint } : {}),
  });
  const roles = new TenantRoleCredentials(sts, {
    roleArn: options.roleArn,
    sessionTag: TENANT_SESSION_TAG,
    ...(options.maxTenants ? { maxTenants: options.maxTenants } : {}),
  });
  return {
    roles,
    credentialsFor: (tenantId) => roles.providerFor(tenantId),
    attach: () => undefined,
  };
}

let provider: TenantCredentialProvider | undefined;

/**
 * The process's provider: the role's when TENANT_ACCESS_ROLE_ARN is set (every Lambda serving a
 * tenant), else local mode's stand-in; with neither, the first scoped call fails, naming the variable.
 */
export function tenantCredentialProvider(): TenantCredentialProvider {
  if (provider) return provider;
  const env = parseEnvironment(
    environmentSlice(ENV.TENANT_ACCESS_ROLE_ARN, ENV.AWS_REGION),
    'tenant credentials',
  );
  provider = env.TENANT_ACCESS_ROLE_ARN
    ? awsTenantCredentials({ roleArn: env.TENANT_ACCESS_ROLE_ARN, region: env.AWS_REGION })
    : requireLocalStandIn('tenantCredentials', 'An unset TENANT_ACCESS_ROLE_ARN')();
  return provider;
}

/** Tenants whose clients one container keeps (each holds a connection pool); least recently used go. */
export const MAX_TENANT_CLIENTS = 200;

/**
 * A client per scope: the platform client outside any scope, one per tenant inside one, built on
 * first use and kept (LRU-bounded). `build` is given the tenant (undefined: platform-level).
 */
export function clientsByScope<C>(
  build: (tenantId: string | undefined) => C,
  maxTenants = MAX_TENANT_CLIENTS,
): { current(): C; readonly size: number } {
  let platform: C | undefined;
  const tenants = new Map<string, C>();
  return {
    current() {
      const tenantId = currentTenant();
      if (tenantId === undefined) {
        platform ??= build(undefined);
        return platform;
      }
      let client = tenants.get(tenantId);
      if (client) {
        tenants.delete(tenantId);
      } else {
        client = build(tenantId);
        for (const oldest of tenants.keys()) {
          if (tenants.size < maxTenants) break;
          tenants.delete(oldest);
        }
      }
      tenants.set(tenantId, client);
      return client;
    },
    get size() {
      return tenants.size;
    },
  };
}
