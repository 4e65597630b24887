import { RemovalPolicy } from 'aws-cdk-lib';
import { CfnHoursOfOperation, CfnInstance, CfnQueue } from 'aws-cdk-lib/aws-connect';
import { Construct } from 'constructs';
import type { EnvironmentConfig, VoiceConfig } from '../config';

export interface ContactCenterProps {
  /** Stage (names) and removal policy. */
  readonly config: EnvironmentConfig;
  /** The environment's `voice` block: which instance, which human queue. */
  readonly voice: VoiceConfig;
}

const EVERY_DAY = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'] as const;

/** The human queue's name when config gives none. */
export function defaultHumanQueueName(stageName: string): string {
  return `agent-platform-${stageName}-humans`;
}

/**
 * The environment's ONE Amazon Connect instance (imported by ARN, or created) and the queue callers
 * are transferred to when they ask for a person. Lives in the stateful stack: the phone numbers
 * claimed on the instance must outlive any redeploy of the compute (the bot, the voice Lambda and
 * the flows, lib/constructs/voice-channel.ts).
 *
 * A created queue opens 24/7 (its own hours of operation); people take its calls once the operator
 * gives them a routing profile that includes it (README, "Voice").
 */
export class ContactCenter extends Construct {
  /** The instance's ARN (a created instance's `Arn`, or the configured one). */
  public readonly instanceArn: string;
  /** The created instance; undefined when the instance is imported. */
  public readonly instance?: CfnInstance;
  /** Where escalated callers go; undefined when the config names no human queue. */
  public readonly humanQueueArn?: string;
  /** The created queue; undefined when it is imported or absent. */
  public readonly humanQueue?: CfnQueue;

  constructor(scope: Construct, id: string, props: ContactCenterProps) {
    super(scope, id);
    const { config, voice } = props;
    const removalPolicy = config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    if ('arn' in voice.instance) {
      this.instanceArn = voice.instance.arn;
    } else {
      this.instance = new CfnInstance(this, 'Instance', {
        identityManagementType: 'CONNECT_MANAGED',
        instanceAlias: voice.instance.create.alias,
        attributes: {
          inboundCalls: true,
          // place_call starts calls on the agent's flow (StartOutboundVoiceContact).
          outboundCalls: true,
          // Flow logs in CloudWatch: the only trace of what a flow did with a call.
          contactflowLogs: true,
        },
      });
      // Deleting an instance releases its claimed phone numbers: kept with the data in production.
      this.instance.applyRemovalPolicy(removalPolicy);
      this.instanceArn = this.instance.attrArn;
    }

    const queue = voice.humanQueue;
    if (queue && 'arn' in queue) {
      this.humanQueueArn = queue.arn;
    } else if (queue) {
      const hours = new CfnHoursOfOperation(this, 'AlwaysOpen', {
        instanceArn: this.instanceArn,
        name: `agent-platform-${config.stageName}-always-open`,
        description: 'Every day, all day: the human queue of the voice agents',
        timeZone: 'UTC',
        config: EVERY_DAY.map((day) => ({
          day,
          startTime: { hours: 0, minutes: 0 },
          endTime: { hours: 23, minutes: 59 },
        })),
      });
      this.humanQueue = new CfnQueue(this, 'HumanQueue', {
        instanceArn: this.instanceArn,
        name: queue.create.name ?? defaultHumanQueueName(config.stageName),
        description: 'Callers the voice agents transfer to a person (they asked, or the agent escalated)',
        hoursOfOperationArn: hours.attrHoursOfOperationArn,
      });
      this.humanQueue.applyRemovalPolicy(removalPolicy);
      this.humanQueueArn = this.humanQueue.attrQueueArn;
    }
  }
}
