import { type Duration, Stack } from 'aws-cdk-lib';
import { type Archive, EventBus } from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';

export interface PlatformEventBusProps {
  /** Short environment name, used in the bus name. */
  readonly stageName: string;
  /** How long archived events stay replayable. */
  readonly archiveRetention: Duration;
}

/**
 * The platform's one custom EventBridge bus for domain events (`agent.created`,
 * `tokens.debited`, ...), with an archive so that a consumer added or fixed later can replay them.
 */
export class PlatformEventBus extends Construct {
  public readonly bus: EventBus;
  public readonly archive: Archive;

  constructor(scope: Construct, id: string, props: PlatformEventBusProps) {
    super(scope, id);

    // Named, because producers and rules in other stacks and tools address the bus by name.
    this.bus = new EventBus(this, 'Bus', {
      eventBusName: `agent-platform-${props.stageName}`,
      description: 'Domain events of the agent platform',
    });

    this.archive = this.bus.archive('Archive', {
      description: 'Every domain event published on the platform bus, for replay',
      // An archive needs a pattern; this one matches everything sent from this account.
      eventPattern: { account: [Stack.of(this).account] },
      retention: props.archiveRetention,
    });
  }
}
