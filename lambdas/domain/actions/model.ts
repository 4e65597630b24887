import type { ToolName } from '../agents/schemas';
import type { Page, PageRequest } from '../shared/pagination';

/**
 * The action vocabulary (DESIGN §3.5, §3.6): what an agent may *do*, as opposed to the read-only
 * tools of `domain/tools`. Every proposed action becomes an `ActionRecord` whose status moves
 * only forward, by conditional writes; the decision engine (`decision-engine.ts`) is the only
 * place that creates them.
 */
export const ACTION_NAMES = [
  'send_sms',
  'send_whatsapp',
  'send_email',
  'place_call',
  'create_resource',
  'read_resource',
  'update_resource',
  'delete_resource',
  'book_appointment',
  'take_payment',
  'notify_coordinator',
  'escalate',
  'request_approval',
  // Every action is also a tool name an agent can enable: the two lists cannot drift apart.
] as const satisfies readonly ToolName[];
export type ActionName = (typeof ACTION_NAMES)[number];

export const ACTION_CATEGORIES = ['communication', 'resource', 'external_service', 'coordination'] as const;
export type ActionCategory = (typeof ACTION_CATEGORIES)[number];

/** From least to most human involvement; `denied` is a policy's outright no. */
export const DECISION_LEVELS = ['automatic', 'suggestion', 'consultation', 'approval'] as const;
export type DecisionLevel = (typeof DECISION_LEVELS)[number];
export type PolicyLevel = DecisionLevel | 'denied';

export const ACTION_STATUSES = [
  /** Refused before anything happened: bad parameters, no permission, policy, no tokens, stopped. */
  'denied',
  /** A suggestion waiting for the user to confirm (tokens held). */
  'awaiting_confirmation',
  /** Consultation or approval: waiting for a coordinator (tokens held, workflow running). */
  'awaiting_approval',
  'executing',
  'executed',
  'failed',
  /** A coordinator said no, or the user declined the suggestion. */
  'rejected',
  'expired',
  /** Emergency stop. */
  'cancelled',
] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

/** Why the decision went the way it did, in words for the caller and the audit log. */
export interface Decision {
  readonly level: PolicyLevel;
  readonly reason: string;
  /** The policy rule that decided, by index in the tenant's rules; absent: the action default. */
  readonly ruleIndex?: number;
}

export interface ActionRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly agentId: string;
  readonly action: ActionName;
  readonly category: ActionCategory;
  /** As validated (or, when validation failed, as proposed). */
  readonly params: Record<string, unknown>;
  readonly status: ActionStatus;
  readonly decision: Decision;
  /** The user the agent acts for: the action runs with this user's permissions. */
  readonly actorUserId: string;
  readonly locationId?: string;
  readonly conversationId?: string;
  readonly executionId?: string;
  /** Tokens this action costs; held by `reservationId` until it runs or is given back. */
  readonly cost: number;
  readonly reservationId?: string;
  readonly approvalId?: string;
  readonly result?: Record<string, unknown>;
  readonly error?: { readonly code: string; readonly message: string };
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ActionListFilter extends PageRequest {
  readonly agentId?: string;
  readonly status?: ActionStatus;
}

export interface ActionRepository {
  create(record: ActionRecord): Promise<void>;
  get(tenantId: string, actionId: string): Promise<ActionRecord | undefined>;
  /**
   * Moves the record to `patch.status` only if its status is one of `from` (one conditional
   * write); otherwise reports what it found. This is what makes confirm/approve/expire races safe.
   */
  transition(
    tenantId: string,
    actionId: string,
    from: readonly ActionStatus[],
    patch: Partial<Omit<ActionRecord, 'id' | 'tenantId' | 'createdAt'>> & {
      readonly status: ActionStatus;
      readonly updatedAt: string;
    },
  ): Promise<{ record: ActionRecord } | { refusedFrom: ActionStatus | 'missing' }>;
  /**
   * The one way into `executing`: creates `record` as executing (`from: 'new'`, an automatic
   * action) or moves it there from one of `from`, in one transaction with a check that no
   * tenant-wide emergency stop is in force and the agent is active (so not stopped, paused or
   * deleted). Once a stop is written, or the agent paused, no action starts executing.
   */
  startExecution(
    record: ActionRecord,
    from: 'new' | readonly ActionStatus[],
    at: string,
  ): Promise<ExecutionStart>;
  /** Newest first. */
  list(tenantId: string, filter: ActionListFilter): Promise<Page<ActionRecord>>;
  /** Every action of the tenant (optionally of one agent) in `status`, for the emergency stop. */
  listAllInStatus(tenantId: string, status: ActionStatus, agentId?: string): Promise<ActionRecord[]>;
}

/** What `startExecution` did: started it, found it moved already, or found a stop in force. */
export type ExecutionStart =
  | { readonly record: ActionRecord }
  | { readonly refusedFrom: ActionStatus | 'missing' }
  | { readonly stopped: 'tenant' | 'agent'; readonly agentStatus?: string };

// ---------------------------------------------------------------------------------------------
// The tenant's policy.

export interface PolicyCondition {
  /** A numeric parameter of the action, e.g. `amount` of `take_payment`. */
  readonly param: string;
  readonly gt?: number;
  readonly gte?: number;
  readonly lt?: number;
  readonly lte?: number;
}

export interface PolicyRule {
  /** Matches one action; or `category` matches a whole category; neither: every action. */
  readonly action?: ActionName;
  readonly category?: ActionCategory;
  readonly when?: PolicyCondition;
  readonly level: PolicyLevel;
  readonly description?: string;
  /** Applies only to this agent's actions; absent: to every agent of the tenant. */
  readonly agentId?: string;
}

export interface Policy {
  readonly tenantId: string;
  readonly rules: readonly PolicyRule[];
  /** Actions one turn may propose; the rest are denied (a model talked into a spree stops here). */
  readonly maxActionsPerTurn: number;
  /** How long an approval waits for a coordinator before it expires. */
  readonly approvalTimeoutSeconds: number;
  readonly version: number;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

export interface PolicyRepository {
  /** Undefined until the tenant sets one (the defaults apply). */
  get(tenantId: string): Promise<Policy | undefined>;
  /** Writes version `policy.version` only if the stored one is `policy.version - 1` (0: none). */
  put(policy: Policy): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Emergency stop.

export interface EmergencyStop {
  readonly tenantId: string;
  /** Absent: the whole tenant is stopped. */
  readonly agentId?: string;
  readonly reason: string;
  readonly stoppedBy: string;
  readonly stoppedAt: string;
}

export interface EmergencyStopRepository {
  /** The tenant-wide stop, if one is in force. */
  getTenantStop(tenantId: string): Promise<EmergencyStop | undefined>;
  setTenantStop(stop: EmergencyStop): Promise<void>;
  /**
   * Sets the stop's `stoppedAt` to when it took full effect (the actions under way when it was
   * written have finished); false when the stop was lifted meanwhile (nothing is written then).
   */
  stampTenantStop(tenantId: string, stoppedAt: string): Promise<boolean>;
  clearTenantStop(tenantId: string): Promise<void>;
}
