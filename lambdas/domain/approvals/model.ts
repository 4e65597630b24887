import type { ActionName, DecisionLevel } from '../actions/model';
import type { Page, PageRequest } from '../shared/pagination';

/**
 * An approval request: a consultation- or approval-level action waiting for a coordinator. The
 * approval state machine (`statemachines/approval.asl.json`) waits on it with a task token;
 * approve/reject decide it once (a conditional write from `pending`), and only then resume it.
 */
export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'expired', 'cancelled'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

export interface Approval {
  readonly id: string;
  readonly tenantId: string;
  readonly actionId: string;
  readonly agentId: string;
  readonly action: ActionName;
  readonly params: Record<string, unknown>;
  readonly level: Extract<DecisionLevel, 'consultation' | 'approval'>;
  /** Why it needs a person (the decision's reason). */
  readonly reason: string;
  readonly status: ApprovalStatus;
  readonly requestedBy: string;
  readonly locationId?: string;
  readonly createdAt: string;
  /** ISO instant after which the workflow expires it. */
  readonly expiresAt: string;
  /** The workflow execution waiting on it (ARN on AWS, a local id locally). */
  readonly workflowExecutionId?: string;
  readonly decidedBy?: string;
  readonly decidedAt?: string;
  readonly comment?: string;
  readonly updatedAt: string;
}

/** An approval as the API shows it: the workflow execution waiting on it is the platform's business. */
export type ApprovalView = Omit<Approval, 'workflowExecutionId'>;

export function approvalView(approval: Approval): ApprovalView {
  const { workflowExecutionId: _execution, ...view } = approval;
  return view;
}

export function approvalPageView(page: Page<Approval>): Page<ApprovalView> {
  return { ...page, items: page.items.map(approvalView) };
}

export interface ApprovalListFilter extends PageRequest {
  readonly status?: ApprovalStatus;
  /** Only approvals at one of these locations (a location-limited reader); absent: all. */
  readonly locationIds?: readonly string[];
}

export interface ApprovalRepository {
  create(approval: Approval): Promise<void>;
  get(tenantId: string, approvalId: string): Promise<Approval | undefined>;
  /** Newest first. */
  list(tenantId: string, filter: ApprovalListFilter): Promise<Page<Approval>>;
  /** Pending approvals of the tenant (or one agent of it), for the emergency stop. */
  listPending(tenantId: string, agentId?: string): Promise<Approval[]>;
  /**
   * Stores the workflow's task token and execution id (never returned by `get`/`list`: the
   * token resumes the workflow, so it stays in the table only). Only while pending.
   */
  attachTaskToken(
    tenantId: string,
    approvalId: string,
    taskToken: string,
    workflowExecutionId: string,
  ): Promise<boolean>;
  /** The stored task token, for whoever decides. */
  taskToken(tenantId: string, approvalId: string): Promise<string | undefined>;
  /**
   * Decides, once: moves `pending` → `to` with who, when and the comment, as one conditional
   * write; when it was no longer pending, reports what it found (the loser of a race gets this).
   */
  decide(
    tenantId: string,
    approvalId: string,
    to: Exclude<ApprovalStatus, 'pending'>,
    by: { readonly userId: string; readonly at: string; readonly comment?: string },
  ): Promise<{ approval: Approval } | { refusedFrom: ApprovalStatus | 'missing' }>;
}

/** What the waiting workflow is told when the approval is decided. */
export interface ApprovalOutcome {
  readonly outcome: Exclude<ApprovalStatus, 'pending'>;
}

/**
 * The approval workflow, as a port: Step Functions on AWS, the same ASL run in-process by
 * `aws-local-stepfunctions` in local mode and tests.
 */
export interface ApprovalWorkflowPort {
  start(input: ApprovalWorkflowInput): Promise<{ readonly executionId: string }>;
  /** Resumes the waiting workflow. False when the token is no longer waited on (timed out, gone). */
  resume(taskToken: string, outcome: ApprovalOutcome): Promise<boolean>;
  /** Keeps a waiting task alive (HeartbeatSeconds). False when the token is no longer waited on. */
  heartbeat(taskToken: string): Promise<boolean>;
}

export interface ApprovalWorkflowInput {
  readonly tenantId: string;
  readonly approvalId: string;
  readonly actionId: string;
}
