import type { DomainEvent, EventPublisher, EventType } from '../../domain/events/events';

type Listener = (event: DomainEvent) => Promise<void> | void;

/**
 * Local mode's event bus: delivers each event to the listeners subscribed to its type (the rule
 * targets), after the publishing request has moved on, and keeps the recent ones for inspection.
 */
export class InProcessEventBus implements EventPublisher {
  private readonly listeners = new Map<EventType | '*', Listener[]>();
  readonly recent: DomainEvent[] = [];

  subscribe(type: EventType | '*', listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  async publish(events: readonly DomainEvent[]): Promise<void> {
    for (const event of events) {
      this.recent.push(event);
      if (this.recent.length > 1000) this.recent.shift();
      for (const listener of [
        ...(this.listeners.get(event.type) ?? []),
        ...(this.listeners.get('*') ?? []),
      ]) {
        setImmediate(() => {
          Promise.resolve(listener(event)).catch((error: unknown) =>
            console.error(`Event listener for ${event.type} failed`, error),
          );
        });
      }
    }
  }
}
