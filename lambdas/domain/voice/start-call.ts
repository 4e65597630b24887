import { debit } from '../billing/billing';
import { normaliseAddress } from '../conversations/customers';
import { AppError } from '../shared/errors';
import { DEFAULT_VOICE, greetingOf, PHRASES } from './phrases';
import type { StartCallResult } from './protocol';
import { ssmlOf } from './speech';
import { routeCall, type VoiceDeps } from './voice-deps';

/** A call as the contact flow's `start-call` block sees it. */
export interface IncomingCall {
  readonly contactId: string;
  /** The agent's number: the number dialled, or the caller id of a call the agent placed. */
  readonly dialledNumber: string;
  /** The customer: who called, or who was called. */
  readonly callerNumber: string;
  /** Connect's InitiationMethod (INBOUND, API, OUTBOUND, TRANSFER, CALLBACK). */
  readonly initiation: string;
  /** Contact attributes: a call placed by `place_call` carries `origin`, `tenantId`, `agentId`, `purpose`. */
  readonly attributes: Readonly<Record<string, string>>;
}

/** The idempotency key of a call's charge: one per contact, whatever Connect or Lambda retries. */
export const callChargeKey = (contactId: string) => `voice-call:${contactId}`;

/**
 * `start-call`: routes the dialled number to the tenant's agent (platform level), then in the
 * tenant's scope recognises the caller (one customer across SMS, WhatsApp and voice), opens the
 * conversation (agent, `voice`, customer) and charges the call once per contact. An unknown
 * number, an agent not answering or a tenant out of tokens get a polite message and are charged
 * nothing.
 */
export async function startCall(deps: VoiceDeps, call: IncomingCall): Promise<StartCallResult> {
  const notOk = (outcome: StartCallResult['outcome'], message: string): StartCallResult => ({
    outcome,
    prompt: '',
    voiceId: DEFAULT_VOICE.voiceId,
    conversationId: '',
    message: ssmlOf(message),
  });
  const route = await routeCall(deps, call.dialledNumber);
  if (!route) return notOk('unknown-number', PHRASES.unknownNumber);
  return deps.scopes.tenant(route.tenantId, async () => {
    const { runtime } = deps;
    const agent = await runtime.agents.get(route.tenantId, route.agentId);
    if (!agent || agent.status !== 'active' || !agent.channels.some((c) => c.type === 'voice' && c.enabled)) {
      return notOk('unavailable', PHRASES.unavailable(agent?.name ?? 'this agent'));
    }
    const voiceId = agent.voice?.voiceId ?? DEFAULT_VOICE.voiceId;
    const placed = placedByAgent(call, route);
    if (!placed) {
      const cost = runtime.billing.costs.call;
      try {
        if (cost > 0) {
          await debit(
            runtime.billing,
            route.tenantId,
            cost,
            { action: 'call', agentId: agent.id },
            callChargeKey(call.contactId),
            'channel:voice',
          );
        }
      } catch (error) {
        // Out of tokens or suspended: the caller is told politely and nothing is charged.
        if (error instanceof AppError && error.statusCode === 402) {
          return { ...notOk('no-tokens', PHRASES.noTokens), voiceId };
        }
        throw error;
      }
    }
    const customer = await runtime.customers.resolve(route.tenantId, {
      kind: 'phone',
      value: normaliseAddress('phone', call.callerNumber),
    });
    const conversation = await runtime.conversations.open(route.tenantId, agent.id, 'voice', customer.id);
    return {
      outcome: 'ok',
      prompt: ssmlOf(greetingOf(agent, placed?.purpose)),
      voiceId,
      conversationId: conversation.id,
      message: '',
    };
  });
}

/**
 * A call the agent placed (`place_call`, paid for by that action): Connect started it through the
 * API with the attributes the voice adapter set. Callers cannot set contact attributes, so an
 * inbound call never looks like one.
 */
function placedByAgent(
  call: IncomingCall,
  route: { tenantId: string; agentId: string },
): { purpose: string } | undefined {
  const { origin, tenantId, agentId, purpose } = call.attributes;
  if (call.initiation !== 'API' && call.initiation !== 'OUTBOUND') return undefined;
  if (origin !== 'place_call' || tenantId !== route.tenantId || agentId !== route.agentId) return undefined;
  return { purpose: purpose ?? '' };
}
