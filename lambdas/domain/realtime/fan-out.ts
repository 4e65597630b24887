import type { TurnEvent, TurnEventScope, TurnEventSink } from '../runtime/turn-events';
import type { DataScopes } from '../shared/scopes';
import type { ConnectionPoster, ConnectionStore, SubscriptionTarget } from './ports';
import { encodeFrame, type ServerFrame, splitText } from './protocol';

export interface FanOutDeps {
  readonly store: ConnectionStore;
  readonly poster: ConnectionPoster;
  readonly scopes: DataScopes;
  readonly log: { warn(message: string, extra: Record<string, unknown>): void };
  /**
   * How long a conversation's subscriber list is reused: a turn's deltas come a few dozen a second,
   * and reading the list for each would put two queries in front of every word. A subscription made
   * meanwhile (by another Lambda) is seen at the next read, at most this late.
   */
  readonly subscriberCacheMs?: number;
  readonly now?: () => number;
}

/** Delivery to WebSocket subscribers; `drain` waits for what is in flight (a Lambda must before it returns). */
export interface FanOutSink extends TurnEventSink {
  drain(): Promise<void>;
  /**
   * The sink for a turn a connection asked for (`send_message`): its events go to that connection
   * too, subscribed or not yet (the conversation may not exist before the turn opens it), once.
   */
  forConnection(connectionId: string): TurnEventSink;
  /**
   * A subscription changed in this process: the subscriber lists it keeps are read again (another
   * process's change is seen within `subscriberCacheMs`).
   */
  subscriptionsChanged(): void;
  /** One frame to one connection now (answers to its own actions); a closed one is ignored. */
  send(connectionId: string, frame: string): Promise<void>;
}

/** Sequence counters kept per execution; the oldest are forgotten past this many. */
const MAX_COUNTERS = 10_000;

/**
 * The `TurnEventSink` that fans a turn's events out to the connections subscribed to its
 * conversation or its agent. `publish` only numbers the event and queues it: delivery runs
 * behind the turn, one event after the other per execution (so a client receives them in
 * order), and its failures are logged, never thrown. Connections API Gateway says are gone (410)
 * are removed with their subscriptions.
 *
 * `seq` counts 1, 2, 3 … within an execution (a turn runs in one process, so one counter sees all
 * its events); an event outside a turn (an approval decided later, a staff handoff) has no
 * execution and a time-based `seq` (epoch microseconds), still increasing per process.
 */
export function fanOutSink(deps: FanOutDeps): FanOutSink {
  const now = deps.now ?? Date.now;
  const cacheMs = deps.subscriberCacheMs ?? 500;
  const counters = new Map<string, number>();
  const chains = new Map<string, Promise<void>>();
  const inFlight = new Set<Promise<void>>();
  const subscriberCache = new Map<string, { at: number; ids: Promise<string[]> }>();
  let lastUntimed = 0;

  const nextSeq = (executionId: string | undefined): number => {
    if (executionId === undefined) {
      lastUntimed = Math.max(lastUntimed + 1, now() * 1000);
      return lastUntimed;
    }
    const seq = (counters.get(executionId) ?? 0) + 1;
    counters.delete(executionId);
    counters.set(executionId, seq);
    if (counters.size > MAX_COUNTERS) counters.delete(counters.keys().next().value as string);
    return seq;
  };

  const subscribersOf = (scope: TurnEventScope): Promise<string[]> => {
    const key = `${scope.tenantId}|${scope.conversationId}|${scope.agentId}`;
    const cached = subscriberCache.get(key);
    if (cached && now() - cached.at < cacheMs) return cached.ids;
    const targets: SubscriptionTarget[] = [
      { kind: 'conversation', id: scope.conversationId },
      { kind: 'agent', id: scope.agentId },
    ];
    const ids = deps.store.subscribers(scope.tenantId, targets);
    subscriberCache.set(key, { at: now(), ids });
    // A failed read is not kept: the next event reads again.
    ids.catch(() => subscriberCache.delete(key));
    if (subscriberCache.size > MAX_COUNTERS)
      subscriberCache.delete(subscriberCache.keys().next().value as string);
    return ids;
  };

  const deliver = async (
    scope: TurnEventScope,
    frames: readonly string[],
    also: string | undefined,
  ): Promise<void> => {
    await deps.scopes.tenant(scope.tenantId, async () => {
      const lookup = subscribersOf(scope);
      let gone = false;
      // The connection that asked for the turn first, without waiting for the subscriber list:
      // its first event is not held up by a query.
      if (also) {
        for (const frame of frames) {
          if ((await deps.poster.post(also, frame)) === 'gone') {
            gone = true;
            await deps.store.remove(scope.tenantId, also);
            break;
          }
        }
      }
      const connections = (await lookup).filter((connectionId) => connectionId !== also);
      if (connections.length === 0) {
        if (gone) subscriberCache.clear();
        return;
      }
      for (const frame of frames) {
        await Promise.all(
          connections.map(async (connectionId) => {
            if ((await deps.poster.post(connectionId, frame)) === 'gone') {
              gone = true;
              await deps.store.remove(scope.tenantId, connectionId);
            }
          }),
        );
      }
      if (gone) subscriberCache.clear();
    });
  };

  const publish = (scope: TurnEventScope, event: TurnEvent, also?: string): void => {
    try {
      const executionId = scope.executionId;
      const frames = framesOf(event).map((part) =>
        encodeFrame({
          ...part,
          conversationId: scope.conversationId,
          executionId: executionId ?? null,
          agentId: scope.agentId,
          seq: nextSeq(executionId),
        } as ServerFrame),
      );
      const chainKey = executionId ?? `cnv:${scope.conversationId}`;
      const previous = chains.get(chainKey) ?? Promise.resolve();
      const next = previous
        .then(() => deliver(scope, frames, also))
        .catch((error: unknown) =>
          deps.log.warn('Turn event delivery failed', {
            tenantId: scope.tenantId,
            conversationId: scope.conversationId,
            type: event.type,
            error: error instanceof Error ? error.message : String(error),
          }),
        );
      chains.set(chainKey, next);
      inFlight.add(next);
      void next.finally(() => {
        inFlight.delete(next);
        if (chains.get(chainKey) === next) chains.delete(chainKey);
      });
    } catch (error) {
      deps.log.warn('Turn event not published', {
        type: event.type,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  };

  return {
    publish: (scope, event) => publish(scope, event),
    subscriptionsChanged: () => subscriberCache.clear(),
    send: async (connectionId, frame) => {
      await deps.poster.post(connectionId, frame);
    },
    forConnection: (connectionId) => ({ publish: (scope, event) => publish(scope, event, connectionId) }),
    async drain() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}

/** A long delta becomes several (each its own frame and `seq`); every other event is one frame. */
function framesOf(event: TurnEvent): TurnEvent[] {
  if (event.type !== 'agent_message_delta') return [event];
  return splitText(event.text).map((text) => ({ type: 'agent_message_delta', text }));
}
