import type { ActionDeps } from '../actions/deps';
import type { AgentRepository } from '../agents/ports';
import type { BillingDeps } from '../billing/billing';
import type { ConversationRepository } from '../conversations/conversations';
import type { CustomerRepository } from '../conversations/customers';
import type { HttpGetPort, MemorySearchPort } from '../tools/registry';
import type { StepAllowances } from './chat-turn';
import type { ExecutionQueue, ExecutionRepository } from './executions';
import type { ModelProvider } from './model';
import type { TurnEventSink } from './turn-events';

/** The ports the agent runtime's use cases (chat, tasks, the queue worker) run on. */
export interface RuntimeDeps {
  readonly agents: AgentRepository;
  readonly customers: CustomerRepository;
  readonly conversations: ConversationRepository;
  readonly executions: ExecutionRepository;
  readonly models: { get(provider: string): ModelProvider };
  readonly memory: MemorySearchPort;
  readonly http: HttpGetPort;
  readonly queue: ExecutionQueue;
  /** Model calls are paid for in tokens: reserved before a turn, settled (or released) after. */
  readonly billing: BillingDeps;
  /**
   * The decision engine's dependencies: actions the model proposes go through it. Absent, the
   * agent is offered no actions (its read-only tools only).
   */
  readonly actions?: ActionDeps;
  readonly now: () => Date;
  readonly log?: { error(message: string, extra: Record<string, unknown>): void };
  /**
   * What a model call and a tool round are expected to take, for turns under a deadline, before one
   * has been timed in the turn (default `DEFAULT_STEP_ALLOWANCES`).
   */
  readonly stepAllowances?: StepAllowances;
  /**
   * Where chat turns tell their watchers what happens (thinking, streamed text, tool runs,
   * decided actions, approvals requested, the reply or the error). Default: nobody watches.
   */
  readonly events?: TurnEventSink;
}
