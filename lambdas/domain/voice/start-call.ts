import { createHash } from 'node:crypto';
import { encodeTime } from 'ulid';
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
    languageCode: languageCodeOf(DEFAULT_VOICE.localeId),
    conversationId: '',
    message: ssmlOf(message),
  });
  // A call the agent placed from a number that is not its own (the tenant's or the environment's
  // caller id) is the agent's by the attributes the voice adapter set.
  const route = (await routeCall(deps, call.dialledNumber)) ?? placedRoute(call);
  if (!route) return notOk('unknown-number', PHRASES.unknownNumber);
  return deps.scopes.tenant(route.tenantId, async () => {
    const { runtime } = deps;
    const agent = await runtime.agents.get(route.tenantId, route.agentId);
    if (agent?.status !== 'active' || !agent.channels.some((c) => c.type === 'voice' && c.enabled)) {
      return notOk('unavailable', PHRASES.unavailable(agent?.name ?? 'this agent'));
    }
    const voiceId = agent.voice?.voiceId ?? DEFAULT_VOICE.voiceId;
    const languageCode = languageCodeOf(agent.voice?.localeId ?? DEFAULT_VOICE.localeId);
    const placed = placedByAgent(call, route);
    // When the call began, as first recorded: a retried start-call finds the same charge.
    let startedAt = new Date(deps.clock()).toISOString();
    if (!placed) {
      const cost = runtime.billing.costs.call;
      try {
        if (cost > 0) {
          const charge = await debit(
            runtime.billing,
            route.tenantId,
            cost,
            { action: 'call', agentId: agent.id },
            callChargeKey(call.contactId),
            'channel:voice',
          );
          startedAt = charge.createdAt;
        }
      } catch (error) {
        // Out of tokens or suspended: the caller is told politely and nothing is charged.
        if (error instanceof AppError && error.statusCode === 402) {
          return { ...notOk('no-tokens', PHRASES.noTokens), voiceId, languageCode };
        }
        throw error;
      }
    }
    const customer = await runtime.customers.resolve(route.tenantId, {
      kind: 'phone',
      value: normaliseAddress('phone', call.callerNumber),
    });
    const conversation = await runtime.conversations.open(route.tenantId, agent.id, 'voice', customer.id);
    const greeting = greetingOf(agent, placed?.purpose);
    // Stored as the agent's first words: the turns that follow know what was asked (and, on a call
    // the agent placed, why it called).
    const greetingTurn = callTurnId(call.contactId, startedAt);
    await deps.store.append(route.tenantId, {
      id: `${greetingTurn}#2`,
      conversationId: conversation.id,
      role: 'assistant',
      content: greeting,
      executionId: greetingTurn,
      createdAt: startedAt,
    });
    return {
      outcome: 'ok',
      prompt: ssmlOf(greeting),
      voiceId,
      languageCode,
      conversationId: conversation.id,
      message: '',
    };
  });
}

function placedRoute(call: IncomingCall): { tenantId: string; agentId: string } | undefined {
  const { origin, tenantId, agentId } = call.attributes;
  if (call.initiation !== 'API' && call.initiation !== 'OUTBOUND') return undefined;
  if (origin !== 'place_call' || !tenantId || !agentId) return undefined;
  return { tenantId, agentId };
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

/** Lex's locale id (`en_US`) as Connect's contact language (`en-US`). */
export function languageCodeOf(localeId: string): string {
  return localeId.replace('_', '-');
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * The id the call's own messages (the greeting) are stored under: sorted by time like every
 * execution id (the call's start), fixed by the contact so a retried start-call stores nothing twice.
 */
export function callTurnId(contactId: string, at: string): string {
  const digest = createHash('sha256').update(`voice-call\u0000${contactId}`).digest();
  let random = '';
  for (let index = 0; index < 16; index++) random += CROCKFORD[(digest[index] as number) % 32];
  return `exe_${encodeTime(Date.parse(at), 10)}${random}`;
}
