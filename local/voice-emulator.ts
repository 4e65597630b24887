import { randomUUID } from 'node:crypto';
import type { ConnectContactFlowEvent, ConnectContactFlowResult, LexV2Event, LexV2Result } from 'aws-lambda';
import { NotFoundError } from '../lambdas/domain/shared/errors';
import {
  type ContactFlowDocument,
  contactFlow,
  DEFAULT_GOODBYE_INTENT,
  DEFAULT_TRANSFER_INTENT,
  type FlowAction,
} from '../lambdas/domain/voice/contact-flow';
import type { DevCallRequest, DevCallResult, DevCalls } from '../lambdas/domain/voice/dev-calls';
import { ssmlAsText } from '../lambdas/domain/voice/speech';
import { contactFlowEvent, LOCAL_CONNECT_INSTANCE_ARN, lexFallbackEvent } from './voice-events';

/**
 * A small local Amazon Connect + Lex V2: walks the real contact flow document (contactFlow(), the
 * one the stacks deploy) action by action, invokes the voice Lambda's handler with the events
 * Connect's InvokeLambdaFunction block and Lex's FallbackIntent code hook send, and records what
 * the caller hears. Only the action types the template uses are known; any other is an error.
 * Lex's own intents are recognised the way the bot's sample utterances would: the transfer intent
 * ("0", "person", "human", "agent", "representative") and goodbye ("bye", "goodbye", "that's all").
 */

type VoiceHandler = (event: ConnectContactFlowEvent | LexV2Event) => Promise<unknown>;
type Heard = DevCallResult['heard'][number];

const LOCAL_ARNS = {
  voiceLambdaArn: 'arn:aws:lambda:us-east-1:000000000000:function:voice-local',
  botAliasArn: 'arn:aws:lex:us-east-1:000000000000:bot-alias/LOCALBOT01/LOCALALIAS',
  humanQueueArn: `${LOCAL_CONNECT_INSTANCE_ARN}/queue/00000000-0000-4000-8000-000000000001`,
} as const;

const TRANSFER_WORDS = /^(?:0|.*\b(?:person|human|agent|representative|operator)\b.*)$/i;
const GOODBYE_WORDS = /^(?:.*\b(?:bye|goodbye)\b.*|that'?s all\.?)$/i;

/** One call in progress: the flow's position, its attributes, the Lex session. */
export class LocalCall {
  readonly callId = `call_${randomUUID()}`;
  readonly contactId = randomUUID();
  state: DevCallResult['state'] = 'in-progress';
  private readonly actions: Map<string, FlowAction>;
  private readonly attributes: Record<string, string> = {};
  private external: Record<string, string> = {};
  private lexSession: Record<string, string> = {};
  private readonly loops = new Map<string, number>();
  /** The bot turn waiting for the caller, if any. */
  private waitingAt: FlowAction | undefined;
  private heard: Heard[] = [];
  private startedAt = 0;

  constructor(
    private readonly handler: VoiceHandler,
    private readonly flow: ContactFlowDocument,
    readonly to: string,
    readonly from: string,
  ) {
    this.actions = new Map(flow.Actions.map((action) => [action.Identifier, action]));
  }

  /** Dials: runs the flow until the bot waits for the caller or the call ends. */
  async dial(): Promise<Heard[]> {
    this.begin();
    await this.walk(this.flow.StartAction);
    return this.heard;
  }

  /** The caller says `text`: Lex recognises it, the flow goes on until the bot waits again or the call ends. */
  async say(text: string): Promise<Heard[]> {
    this.begin();
    const botTurn = this.waitingAt;
    if (!botTurn || this.state !== 'in-progress') return this.heard;
    this.waitingAt = undefined;
    const intent = TRANSFER_WORDS.test(text.trim())
      ? DEFAULT_TRANSFER_INTENT
      : GOODBYE_WORDS.test(text.trim())
        ? DEFAULT_GOODBYE_INTENT
        : 'FallbackIntent';
    if (intent !== 'FallbackIntent') {
      await this.walk(this.next(botTurn, intent));
      return this.heard;
    }
    const result = (await this.handler(
      lexFallbackEvent(text, this.lexSession, { sessionId: this.contactId, requestId: randomUUID() }),
    )) as LexV2Result;
    this.lexSession = { ...(result.sessionState.sessionAttributes ?? {}) };
    for (const message of result.messages ?? []) {
      if (!('content' in message)) continue;
      const kind = this.lexSession.pendingTurn ? 'filler' : 'prompt';
      this.hear(kind, message.content, message.contentType === 'SSML');
    }
    if (result.sessionState.dialogAction.type === 'ElicitIntent') {
      this.waitingAt = botTurn;
      return this.heard;
    }
    await this.walk(this.next(botTurn, result.sessionState.intent?.name ?? 'FallbackIntent'));
    return this.heard;
  }

  private begin() {
    this.heard = [];
    this.startedAt = performance.now();
  }

  private hear(kind: Heard['kind'], content: string, isSsml: boolean) {
    this.heard.push({
      kind,
      text: isSsml ? ssmlAsText(content) : content,
      ...(isSsml ? { ssml: content } : {}),
      atMs: Math.round(performance.now() - this.startedAt),
    });
  }

  /** A Compare/Lex condition's next action, or the error transition when none matches. */
  private next(action: FlowAction, value: string | undefined): string | undefined {
    const match = action.Transitions.Conditions?.find((c) => c.Condition.Operands.includes(value ?? ''));
    if (match) return match.NextAction;
    return this.onError(action, 'NoMatchingCondition') ?? action.Transitions.NextAction;
  }

  private onError(action: FlowAction, type: string): string | undefined {
    const errors = action.Transitions.Errors ?? [];
    return (errors.find((e) => e.ErrorType === type) ?? errors.find((e) => e.ErrorType === 'NoMatchingError'))
      ?.NextAction;
  }

  /** `$.External.x`, `$.Attributes.x`, `$.Lex.SessionAttributes.x`, `$.ContactId`, the endpoints, or a literal. */
  private resolve(value: unknown): string {
    if (typeof value !== 'string') return '';
    const path = (prefix: string, from: Record<string, string>) =>
      value.startsWith(prefix) ? (from[value.slice(prefix.length)] ?? '') : undefined;
    if (value === '$.ContactId') return this.contactId;
    if (value === '$.SystemEndpoint.Address') return this.to;
    if (value === '$.CustomerEndpoint.Address') return this.from;
    return (
      path('$.External.', this.external) ??
      path('$.Attributes.', this.attributes) ??
      path('$.Lex.SessionAttributes.', this.lexSession) ??
      value
    );
  }

  private async walk(start: string | undefined): Promise<void> {
    let id = start;
    for (let steps = 0; id !== undefined && steps < 500; steps++) {
      const action = this.actions.get(id);
      if (!action) throw new Error(`The contact flow has no action ${id}`);
      id = await this.run(action);
    }
  }

  /** Runs one action; the next action's id, or undefined when the walk pauses or the call ends. */
  private async run(action: FlowAction): Promise<string | undefined> {
    const p = action.Parameters;
    const next = action.Transitions.NextAction;
    switch (action.Type) {
      case 'UpdateContactAttributes': {
        for (const [key, value] of Object.entries(p.Attributes as Record<string, string>)) {
          this.attributes[key] = this.resolve(value);
        }
        return next;
      }
      case 'UpdateContactTextToSpeechVoice':
      case 'UpdateContactData':
      case 'UpdateContactTargetQueue':
        return next;
      case 'InvokeLambdaFunction': {
        const parameters = Object.fromEntries(
          Object.entries(p.LambdaInvocationAttributes as Record<string, string>).map(([k, v]) => [
            k,
            this.resolve(v),
          ]),
        );
        const limitMs = Number(p.InvocationTimeLimitSeconds) * 1000;
        try {
          const result = (await Promise.race([
            this.handler(
              contactFlowEvent(
                {
                  contactId: this.contactId,
                  dialled: this.to,
                  caller: this.from,
                  attributes: this.attributes,
                },
                parameters,
              ),
            ),
            new Promise((_, reject) =>
              setTimeout(() => reject(new Error('Lambda timed out')), limitMs).unref(),
            ),
          ])) as ConnectContactFlowResult;
          this.external = Object.fromEntries(Object.entries(result).map(([k, v]) => [k, v ?? '']));
          return next;
        } catch {
          return this.onError(action, 'NoMatchingError');
        }
      }
      case 'Compare':
        return this.next(action, this.resolve(p.ComparisonValue));
      case 'MessageParticipant': {
        if (typeof p.SSML === 'string') this.hear('message', this.resolve(p.SSML), true);
        else this.hear('message', this.resolve(p.Text), false);
        return next;
      }
      case 'ConnectParticipantWithLexBot': {
        const session = p.LexSessionAttributes as Record<string, string> | undefined;
        for (const [key, value] of Object.entries(session ?? {})) this.lexSession[key] = this.resolve(value);
        // A new bot turn: the attributes the code hook set for the last close are spent.
        for (const spent of ['pendingTurn', 'escalate', 'endCall']) delete this.lexSession[spent];
        const prompt = typeof p.SSML === 'string' ? this.resolve(p.SSML) : this.resolve(p.Text);
        if (prompt) this.hear('prompt', prompt, typeof p.SSML === 'string');
        this.waitingAt = action;
        return undefined;
      }
      case 'Loop': {
        const count = (this.loops.get(action.Identifier) ?? 0) + 1;
        this.loops.set(action.Identifier, count);
        const done = count > Number(p.LoopCount);
        if (done) this.loops.delete(action.Identifier);
        return this.next(action, done ? 'DoneLooping' : 'ContinueLooping');
      }
      case 'TransferContactToQueue':
        this.hear('transfer', 'Transferred to the human queue.', false);
        this.state = 'transferred';
        return undefined;
      case 'DisconnectParticipant':
        this.hear('hangup', 'The call ended.', false);
        this.state = 'ended';
        return undefined;
      default:
        throw new Error(`The local Connect emulator does not run ${action.Type} actions`);
    }
  }
}

/** Calls kept between requests (a local process's phone lines); finished ones are dropped. */
export class LocalDevCalls implements DevCalls {
  private readonly calls = new Map<string, LocalCall>();
  private readonly flow = contactFlow(LOCAL_ARNS);

  constructor(private readonly handler: VoiceHandler) {}

  async turn(request: DevCallRequest): Promise<DevCallResult> {
    let call: LocalCall;
    const heard: Heard[] = [];
    if (request.callId) {
      const found = this.calls.get(request.callId);
      if (!found || found.to !== request.to || found.from !== request.from)
        throw new NotFoundError('Call', request.callId);
      call = found;
    } else {
      call = new LocalCall(this.handler, this.flow, request.to, request.from);
      this.calls.set(call.callId, call);
      heard.push(...(await call.dial()));
    }
    if (request.text !== undefined && call.state === 'in-progress') {
      const offset = heard.length > 0 ? (heard[heard.length - 1]?.atMs ?? 0) : 0;
      heard.push(...(await call.say(request.text)).map((h) => ({ ...h, atMs: h.atMs + offset })));
    }
    if (call.state !== 'in-progress') this.calls.delete(call.callId);
    return { callId: call.callId, state: call.state, heard };
  }
}

let devCalls: LocalDevCalls | undefined;

/** The process's local phone, on the voice Lambda's own handler. */
export function localDevCalls(): LocalDevCalls {
  if (!devCalls) {
    const { handler } =
      require('../lambdas/handlers/voice/voice') as typeof import('../lambdas/handlers/voice/voice');
    devCalls = new LocalDevCalls(handler as VoiceHandler);
  }
  return devCalls;
}
