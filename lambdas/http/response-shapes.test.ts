/**
 * The response schemas of the route table name exactly the fields the domain returns: a field
 * the server sends but the document leaves out (or the reverse) is a type error here, before any
 * e2e test sees it. (The e2e harness, test/support/contract.ts, checks the answers themselves.)
 */
import type * as z from 'zod/mini';
import type { OutboxRecord } from '../adapters/local/local-outbox';
import type { EmailIntakeOutcome } from '../composition/email-intake';
import type { ActionOutcome } from '../domain/actions/decision-engine';
import type { ActionRecord, EmergencyStop, Policy } from '../domain/actions/model';
import type { Approval } from '../domain/approvals/model';
import type { AuditEntry } from '../domain/audit/model';
import type { Balance, LedgerEntry } from '../domain/billing/ports';
import type { balanceResponse, ledgerEntryResponse } from '../domain/billing/schemas';
import type { ChannelSetting, channelResponse } from '../domain/channels/settings';
import type { chatWebhookResponse, slackWebhookResponse } from '../domain/channels/webhook-schemas';
import type { Message } from '../domain/conversations/conversations';
import type { ConversationView } from '../domain/conversations/manage';
import type { ChatResult } from '../domain/runtime/agent-runtime';
import type { Execution, ToolRun } from '../domain/runtime/executions';
import type { ChatWebhookAnswer, SlackWebhookAnswer } from '../handlers/http/chat-webhooks';
import type {
  actionOutcomeResponse,
  actionResponse,
  approvalResponse,
  auditResponse,
  emergencyStopResponse,
  outboxResponse,
  policyResponse,
} from './routes/actions';
import type {
  chatResponse,
  conversationResponse,
  executionResponse,
  messageResponse,
  toolRunResponse,
} from './routes/runtime';
import type { emailIntakeResponse } from './routes/webhooks';

type Documented<S extends () => z.ZodMiniType> = z.output<ReturnType<S>>;
type Keys<T> = keyof T & string;
/** `true` when both name the same fields; otherwise the fields only one of them has. */
type SameFields<Doc, Returned> = [
  Exclude<Keys<Doc>, Keys<Returned>>,
  Exclude<Keys<Returned>, Keys<Doc>>,
] extends [never, never]
  ? true
  : { documentedOnly: Exclude<Keys<Doc>, Keys<Returned>>; returnedOnly: Exclude<Keys<Returned>, Keys<Doc>> };

const checked = {
  action: true satisfies SameFields<Documented<typeof actionResponse>, ActionRecord>,
  // A channel as shown: the stored setting without its agent (in the path), with its webhook path.
  channel: true satisfies SameFields<
    Documented<typeof channelResponse>,
    Omit<ChannelSetting, 'agentId'> & { webhookPath?: string }
  >,
  actionOutcome: true satisfies SameFields<Documented<typeof actionOutcomeResponse>, ActionOutcome>,
  // The workflow's execution id is infrastructure: the handler leaves it out.
  approval: true satisfies SameFields<
    Documented<typeof approvalResponse>,
    Omit<Approval, 'workflowExecutionId'>
  >,
  audit: true satisfies SameFields<Documented<typeof auditResponse>, AuditEntry>,
  policy: true satisfies SameFields<Documented<typeof policyResponse>, Policy>,
  emergencyStop: true satisfies SameFields<Documented<typeof emergencyStopResponse>, EmergencyStop>,
  outbox: true satisfies SameFields<Documented<typeof outboxResponse>, OutboxRecord>,
  // The dev email intake answers what became of the message, never whose agent took it.
  emailIntake: true satisfies SameFields<
    Documented<typeof emailIntakeResponse>,
    Extract<EmailIntakeOutcome, { status: 'dropped' }>
  >,
  execution: true satisfies SameFields<Documented<typeof executionResponse>, Execution>,
  chat: true satisfies SameFields<Documented<typeof chatResponse>, ChatResult>,
  conversation: true satisfies SameFields<Documented<typeof conversationResponse>, ConversationView>,
  message: true satisfies SameFields<Documented<typeof messageResponse>, Message>,
  toolRun: true satisfies SameFields<Documented<typeof toolRunResponse>, ToolRun>,
  ledgerEntry: true satisfies SameFields<Documented<typeof ledgerEntryResponse>, LedgerEntry>,
  balance: true satisfies SameFields<Omit<Documented<typeof balanceResponse>, 'tenantStatus'>, Balance>,
  chatWebhook: true satisfies SameFields<Documented<typeof chatWebhookResponse>, ChatWebhookAnswer>,
  slackWebhook: true satisfies SameFields<Documented<typeof slackWebhookResponse>, SlackWebhookAnswer>,
};

describe('response schemas', () => {
  it('name the fields the domain returns, no more and no fewer (checked by tsc)', () => {
    expect(Object.values(checked).every((same) => same === true)).toBe(true);
  });
});
