import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { leadingKeysAllowed } from '../../composition/tenant-access-policy';
import type { MiddlewareHost, ServiceName, TenantCredentialProvider } from '../../composition/tenant-clients';

/**
 * Local mode's credential provider (a stand-in: local/stand-ins.ts gives it; no Lambda bundles it).
 * Its clients carry the local credentials, and a check that refuses, before anything is sent, every
 * request IAM would refuse to the tenant-access role (or to a function's own role outside a
 * scope): the request's leading keys are evaluated by the deployed policy's own evaluator
 * (tenant-access-policy.ts). So local mode and every e2e test fail closed on a missing or wrong scope.
 */
export function localTenantCredentials(): TenantCredentialProvider {
  return {
    credentialsFor: () => undefined,
    attach: (client: MiddlewareHost, service: ServiceName, tenantId: string | undefined) => {
      const stack = (client as Pick<DynamoDBClient, 'middlewareStack'>).middlewareStack;
      stack.add(
        (next, context) => async (args) => {
          const input = args.input as Record<string, unknown>;
          const operation = String(context.commandName ?? 'request').replace(/Command$/, '');
          if (service === 'dynamodb') {
            const keys = leadingKeysOf(input);
            if (!leadingKeysAllowed(tenantId, keys))
              throw accessDenied('dynamodb', operation, tenantId, keys);
          } else {
            const secret = String(input.SecretId ?? input.Name ?? '');
            if (!secretAllowed(tenantId, secret))
              throw accessDenied('secretsmanager', operation, tenantId, [secret]);
          }
          return next(args);
        },
        // After the document client has marshalled the input: the keys are AttributeValues here.
        { step: 'build', name: 'localTenantAccessCheck', priority: 'high' },
      );
    },
  };
}

/** A tenant's secrets are `<prefix>/tenants/<tenantId>/...`; platform code reads none of them. */
function secretAllowed(tenantId: string | undefined, secretId: string): boolean {
  const match = /\/tenants\/([^/]+)\//.exec(secretId);
  if (tenantId === undefined) return match === null;
  return match?.[1] === tenantId;
}

type Item = Record<string, unknown> | undefined;

const stringOf = (value: unknown): string | undefined => {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { S?: unknown }).S === 'string') {
    return (value as { S: string }).S;
  }
  return undefined;
};

/** The partition key of each index the table has (table-definition.ts): a Query's leading key. */
const PARTITION_KEY: Readonly<Record<string, string>> = { '': 'pk', gsi1: 'gsi1pk' };

/**
 * `dynamodb:LeadingKeys` of a request, as IAM computes it: the partition key of every item it
 * names (each item of a batch or transaction), or for a Query the key condition's partition value
 * (the index's, on an index). Empty for a Scan or anything else: the policy's Null check refuses it.
 */
export function leadingKeysOf(input: Record<string, unknown>): string[] {
  const keys: string[] = [];
  const add = (item: Item, attribute = 'pk') => {
    const key = stringOf(item?.[attribute]);
    keys.push(key ?? '');
  };
  if (Array.isArray(input.TransactItems)) {
    for (const entry of input.TransactItems as Record<string, Record<string, unknown>>[]) {
      const operation = entry.Get ?? entry.Put ?? entry.Update ?? entry.Delete ?? entry.ConditionCheck;
      add((operation?.Key ?? operation?.Item) as Item);
    }
    return keys;
  }
  if (input.RequestItems && typeof input.RequestItems === 'object') {
    for (const requests of Object.values(input.RequestItems as Record<string, unknown>)) {
      if (Array.isArray(requests)) {
        for (const request of requests as Record<string, Record<string, Item>>[]) {
          add(request.PutRequest?.Item ?? request.DeleteRequest?.Key);
        }
      } else {
        for (const key of ((requests as { Keys?: Item[] }).Keys ?? []) as Item[]) add(key);
      }
    }
    return keys;
  }
  if (typeof input.KeyConditionExpression === 'string') {
    const partition = PARTITION_KEY[String(input.IndexName ?? '')];
    const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
    const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
    for (const [, name, value] of input.KeyConditionExpression.matchAll(/(#?[\w]+)\s*=\s*(:[\w]+)/g)) {
      const attribute = name?.startsWith('#') ? names[name] : name;
      if (attribute === partition && value) keys.push(stringOf(values[value]) ?? '');
    }
    return keys;
  }
  if (input.Item) add(input.Item as Item);
  else if (input.Key) add(input.Key as Item);
  return keys;
}

/** What AWS answers a request the caller's policy does not allow (the SDK's error shape). */
function accessDenied(
  service: string,
  operation: string,
  tenantId: string | undefined,
  keys: readonly string[],
) {
  const who = tenantId
    ? `the tenant-access role (tenant ${tenantId})`
    : 'the function role (no tenant scope)';
  return Object.assign(
    new Error(
      `User: ${who} is not authorized to perform: ${service}:${operation} on keys ${JSON.stringify(keys.map((key) => key.slice(0, 80)))} because no identity-based policy allows it (local tenant access check)`,
    ),
    { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } },
  );
}
