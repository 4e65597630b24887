import type { Page, PageRequest } from '../shared/pagination';

/**
 * The audit log: append-only entries (a put that may never overwrite), one per thing that
 * happened, newest first when read. Nothing updates or deletes an entry; entries expire only
 * by the table's retention TTL.
 */
export const AUDIT_TYPES = [
  'action.proposed',
  'action.decided',
  'action.executed',
  'action.failed',
  'action.denied',
  'action.confirmed',
  'action.declined',
  'action.cancelled',
  'action.expired',
  'approval.requested',
  'approval.decided',
  'approval.expired',
  'policy.updated',
  'emergency.stopped',
  'emergency.lifted',
  'admin.change',
] as const;
export type AuditType = (typeof AUDIT_TYPES)[number];

export interface AuditActor {
  /** `operator`: a platform operator (outside every tenant) acting on this tenant. */
  readonly kind: 'user' | 'agent' | 'system' | 'operator';
  readonly id: string;
}

export interface AuditEntry {
  readonly id: string;
  readonly tenantId: string;
  readonly type: AuditType;
  readonly at: string;
  readonly actor: AuditActor;
  readonly agentId?: string;
  readonly actionId?: string;
  readonly approvalId?: string;
  /** What came of it: `executed`, `denied`, `approved`, `200`, ... */
  readonly outcome: string;
  /** Small, secret-free facts: the action name, level, reason, route, target ids. */
  readonly details?: Record<string, unknown>;
}

export interface AuditQuery extends PageRequest {
  /** ISO instants; inclusive from, exclusive to. */
  readonly from?: string;
  readonly to?: string;
  readonly type?: AuditType;
  readonly agentId?: string;
  readonly actorId?: string;
  readonly actionId?: string;
}

export interface AuditLog {
  /** Appends entries; never overwrites one. */
  append(entries: readonly AuditEntry[]): Promise<void>;
  /** Newest first within the range. */
  list(tenantId: string, query: AuditQuery): Promise<Page<AuditEntry>>;
}
