import type { Agent } from '../agents/schemas';
import type { Conversation } from '../conversations/conversations';
import { CHANNEL_ADDRESS_KIND, type Customer, normaliseAddress } from '../conversations/customers';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import type { Principal } from '../shared/principal';
import type { ChatInput } from './chat';
import type { RuntimeDeps } from './runtime-deps';

/** Who a turn is for: the agent that answers, and the conversation and customer it answers in. */

/** Paused, stopped, draft or errored agents do not answer; the reason says which. */
export async function answeringAgent(deps: RuntimeDeps, tenantId: string, agentId: string): Promise<Agent> {
  const agent = await deps.agents.get(tenantId, agentId);
  if (!agent) {
    if (await deps.agents.isDeleted(tenantId, agentId)) {
      throw new ConflictError(`Agent ${agentId} was deleted; it no longer answers`, { status: 'deleted' });
    }
    throw new NotFoundError('Agent', agentId);
  }
  if (agent.status !== 'active') {
    throw new ConflictError(`Agent ${agentId} is ${agent.status}; only an active agent answers`, {
      status: agent.status,
    });
  }
  return agent;
}

async function customerFor(deps: RuntimeDeps, principal: Principal, input: ChatInput): Promise<Customer> {
  const kind = CHANNEL_ADDRESS_KIND[input.channel];
  const given = input.customer ?? {};
  const raw =
    kind === 'phone'
      ? given.phone
      : kind === 'email'
        ? given.email
        : // A web chat without a customer is the signed-in user trying their agent.
          (given.externalId ?? (kind === 'web' ? `user:${principal.userId}` : undefined));
  if (!raw) {
    const field = kind === 'phone' ? 'phone' : kind === 'email' ? 'email' : 'externalId';
    throw ValidationError.forField(`body.customer.${field}`, `is required on the ${input.channel} channel`);
  }
  return deps.customers.resolve(principal.tenantId, { kind, value: normaliseAddress(kind, raw) }, given.name);
}

/**
 * The conversation a turn belongs to: the one named (it must be this agent's), or the one for
 * (agent, channel, customer), opened on first contact.
 */
export async function conversationFor(
  deps: RuntimeDeps,
  principal: Principal,
  agent: Agent,
  input: ChatInput,
): Promise<{ conversation: Conversation; customer: Customer }> {
  if (input.conversationId !== undefined) {
    const conversation = await deps.conversations.get(principal.tenantId, input.conversationId);
    if (!conversation || conversation.agentId !== agent.id) {
      throw new NotFoundError('Conversation', input.conversationId);
    }
    const customer = await deps.customers.get(principal.tenantId, conversation.customerId);
    if (!customer) throw new NotFoundError('Customer', conversation.customerId);
    return { conversation, customer };
  }
  if (input.channel !== 'web' && !agent.channels.some((c) => c.type === input.channel && c.enabled)) {
    throw new ConflictError(`The ${input.channel} channel is not enabled on agent ${agent.id}`);
  }
  const customer = await customerFor(deps, principal, input);
  const conversation = await deps.conversations.open(
    principal.tenantId,
    agent.id,
    input.channel,
    customer.id,
  );
  return { conversation, customer };
}
