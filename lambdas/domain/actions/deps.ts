import type { AgentRepository } from '../agents/ports';
import type { ApprovalRepository, ApprovalWorkflowPort } from '../approvals/model';
import type { AuditLog } from '../audit/model';
import type { BillingDeps } from '../billing/billing';
import type { TurnEventSink } from '../runtime/turn-events';
import type { UserRepository } from '../tenants/ports';
import type { ActionPorts } from './definition';
import type { ActionRepository, EmergencyStopRepository, PolicyRepository } from './model';

/**
 * What the decision engine, the approval workflow's steps and the approvals API share. Built
 * once per process by `composition/actions.ts`.
 */
export interface ActionDeps {
  readonly actions: ActionRepository;
  readonly approvals: ApprovalRepository;
  readonly policies: PolicyRepository;
  readonly stops: EmergencyStopRepository;
  readonly audit: AuditLog;
  readonly agents: AgentRepository;
  readonly users: Pick<UserRepository, 'get' | 'list'>;
  /** Actions are paid in tokens: reserved when decided, settled when done, released otherwise. */
  readonly billing: BillingDeps;
  readonly ports: ActionPorts;
  readonly workflow: ApprovalWorkflowPort;
  readonly now: () => Date;
  /**
   * Where watchers of a conversation hear of its approvals being decided (by a coordinator, by
   * expiry) and of its handoffs. Default: nobody watches.
   */
  readonly turnEvents?: TurnEventSink;
  readonly log?: { error(message: string, extra: Record<string, unknown>): void };
}
