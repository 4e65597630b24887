/**
 * What a turn tells the people watching it while it runs: the agent thinking, streamed text,
 * tool runs, decided actions, approvals, handoffs. Published through one port; delivery (WebSocket
 * connections on AWS, the local server's sockets in local mode) lives in adapters. Publishing never
 * blocks the turn and never fails it: a sink swallows and logs its own errors.
 */

/** Where an event belongs: subscribers follow a conversation or a whole agent. */
export interface TurnEventScope {
  readonly tenantId: string;
  readonly agentId: string;
  readonly conversationId: string;
  /** Absent for events outside a turn (an approval decided later, a staff handoff). */
  readonly executionId?: string;
}

export type TurnEvent =
  | { readonly type: 'agent_thinking' }
  | { readonly type: 'agent_message_delta'; readonly text: string }
  | { readonly type: 'agent_message'; readonly text: string; readonly messageId?: string }
  | {
      readonly type: 'tool_execution';
      readonly tool: string;
      readonly status: 'started' | 'succeeded' | 'failed';
      readonly error?: string;
    }
  | {
      readonly type: 'agent_action';
      readonly action: string;
      readonly actionId?: string;
      /** The decision engine's level (automatic, confirm, approval, forbidden …). */
      readonly level: string;
      /** What came of it (executed, pending_approval, refused, failed …). */
      readonly outcome: string;
    }
  | {
      readonly type: 'approval_requested';
      readonly approvalId: string;
      readonly action: string;
    }
  | {
      readonly type: 'approval_decided';
      readonly approvalId: string;
      /** `cancelled`: withdrawn by the platform (its workflow failed, an emergency stop). */
      readonly decision: 'approved' | 'rejected' | 'expired' | 'cancelled';
    }
  | { readonly type: 'handoff'; readonly state: 'to_human' | 'to_agent'; readonly reason?: string }
  | { readonly type: 'error'; readonly code: string; readonly message: string };

export type TurnEventType = TurnEvent['type'];

/** The port. Implementations order events per execution (a sequence number) and must not throw. */
export interface TurnEventSink {
  publish(scope: TurnEventScope, event: TurnEvent): void;
}

/** For callers nobody watches (queue workers without subscribers, tests that don't look). */
export const NO_TURN_EVENTS: TurnEventSink = { publish: () => undefined };

/**
 * Publishes through `sink` without ever failing the caller: a sink is bound not to throw, but a
 * turn must not depend on every implementation keeping that promise.
 */
export function publishTurnEvent(
  sink: TurnEventSink | undefined,
  scope: TurnEventScope,
  event: TurnEvent,
  log?: { error(message: string, extra: Record<string, unknown>): void },
): void {
  if (!sink || sink === NO_TURN_EVENTS) return;
  try {
    sink.publish(scope, event);
  } catch (error) {
    log?.error('A turn event sink threw; the event is dropped', {
      type: event.type,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}
