import type { FanOutSink } from '../domain/realtime/fan-out';
import { NO_TURN_EVENTS, type TurnEventSink } from '../domain/runtime/turn-events';
import { ENV } from './env-names';
import { localStandIns } from './stand-ins';

/**
 * The one sink of turn events in this process, given to every composition that publishes them:
 * the runtime (chat turns, the execution queue's worker), the decision engine's ports (the
 * `escalate` handoff), the approvals API and workflow steps (approval decided) and the handoff
 * routes. It forwards to the transport set with `useTurnEventSink`, or, when none was set, to the
 * WebSocket fan-out wherever this process can deliver (WEBSOCKET_CALLBACK_URL, or the parameter
 * WEBSOCKET_CALLBACK_URL_PARAMETER names, on AWS; the local
 * server's sockets in local mode); elsewhere events go nowhere.
 */
let target: TurnEventSink | undefined;
let sockets: FanOutSink | undefined;

function socketDelivery(): TurnEventSink {
  const onAws = process.env[ENV.WEBSOCKET_CALLBACK_URL] || process.env[ENV.WEBSOCKET_CALLBACK_URL_PARAMETER];
  if (!onAws && !localStandIns()) return NO_TURN_EVENTS;
  // Required on first use: a function that never publishes never loads the delivery code.
  const { turnEventSink } = require('./realtime-delivery') as typeof import('./realtime-delivery');
  const { loadRuntimeConfig } = require('./environment') as typeof import('./environment');
  const { tableClient } = require('./table') as typeof import('./table');
  const config = loadRuntimeConfig();
  sockets = turnEventSink(tableClient(config), config.TABLE_NAME);
  return sockets;
}

export const turnEvents: TurnEventSink = {
  publish(scope, event) {
    target ??= socketDelivery();
    target.publish(scope, event);
  },
};

/** Plugs a transport in (once per process, at composition time; tests may swap it). */
export function useTurnEventSink(sink: TurnEventSink): void {
  target = sink;
}

/**
 * Waits until the events published so far are delivered: a Lambda calls it before it returns
 * (a frozen instance would deliver them minutes later, or never).
 */
export async function drainTurnEvents(): Promise<void> {
  await sockets?.drain();
}
