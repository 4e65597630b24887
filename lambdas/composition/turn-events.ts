import { NO_TURN_EVENTS, type TurnEventSink } from '../domain/runtime/turn-events';

/**
 * The one sink of turn events in this process, given to every composition that publishes them:
 * the runtime (chat turns, the execution queue's worker), the decision engine's ports (the
 * `escalate` handoff), the approvals API and workflow steps (approval decided) and the handoff
 * routes. It forwards to the transport set with `useTurnEventSink` (the WebSocket fan-out on AWS,
 * the local server's sockets in local mode); until one is set, events go nowhere.
 */
let target: TurnEventSink = NO_TURN_EVENTS;

export const turnEvents: TurnEventSink = {
  publish(scope, event) {
    target.publish(scope, event);
  },
};

/** Plugs a transport in (once per process, at composition time; tests may swap it). */
export function useTurnEventSink(sink: TurnEventSink): void {
  target = sink;
}
