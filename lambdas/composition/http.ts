import { DynamoAuditLog } from '../adapters/dynamodb/audit-repository';
import type { TableClient } from '../adapters/dynamodb/document-client';
import { DynamoUserRepository } from '../adapters/dynamodb/user-repository';
import type { RuntimeConfig } from './environment';

/**
 * What every tenant-facing HTTP Lambda's handler is given besides its routes: the body limit, the
 * per-request user read (roles, revocation) and the audit log of admin changes.
 */
export function httpHandlerDeps(client: TableClient, config: RuntimeConfig) {
  return {
    maxBodyBytes: config.MAX_BODY_BYTES,
    users: new DynamoUserRepository(client, config.TABLE_NAME),
    audit: new DynamoAuditLog(client, config.TABLE_NAME),
  };
}
