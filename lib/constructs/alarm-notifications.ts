import { LoggingLevel, SlackChannelConfiguration } from 'aws-cdk-lib/aws-chatbot';
import type { Alarm, IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ManagedPolicy } from 'aws-cdk-lib/aws-iam';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { AlarmSubscribers } from '../config';

export interface AlarmNotificationsProps {
  /** Short environment name, in the topic's display name. */
  readonly stageName: string;
  /** Who hears the alarms: addresses subscribed to the topic, existing topics every alarm also notifies. */
  readonly subscribers: AlarmSubscribers;
}

/**
 * Where every alarm of the environment goes: the platform's alarm topic with its e-mail
 * subscriptions and optionally a Slack channel (AWS Chatbot), plus the operator's own topics (a
 * chat channel's, a pager's). It lives in the
 * stateful stack, so that redeploying the compute neither asks subscribers to confirm again nor
 * leaves the workflows' alarms without a topic.
 */
export class AlarmNotifications extends Construct {
  public readonly topic: Topic;
  /** The AWS Chatbot Slack channel configuration that relays the topic, when one is configured. */
  public readonly slackChannel?: SlackChannelConfiguration;
  /** The actions an alarm takes, on ALARM and on OK: the topic, then each operator topic. */
  public readonly actions: readonly IAlarmAction[];

  constructor(scope: Construct, id: string, props: AlarmNotificationsProps) {
    super(scope, id);
    // Encrypted in transit only: CloudWatch alarms cannot publish to a topic whose KMS key policy
    // does not name cloudwatch.amazonaws.com, and a silent alarm is worse than a plaintext one.
    this.topic = new Topic(this, 'AlarmTopic', {
      displayName: `Agent platform alarms (${props.stageName})`,
      enforceSSL: true,
    });
    for (const email of props.subscribers.emails) {
      this.topic.addSubscription(new EmailSubscription(email));
    }
    if (props.subscribers.slackChannel) {
      const { workspaceId, channelId } = props.subscribers.slackChannel;
      // Notifications only: the channel role holds no permission and the guardrail is read-only,
      // so nobody can run commands from the channel.
      this.slackChannel = new SlackChannelConfiguration(this, 'SlackChannel', {
        slackChannelConfigurationName: `agent-platform-${props.stageName}-alarms`,
        slackWorkspaceId: workspaceId,
        slackChannelId: channelId,
        notificationTopics: [this.topic],
        guardrailPolicies: [ManagedPolicy.fromAwsManagedPolicyName('CloudWatchReadOnlyAccess')],
        loggingLevel: LoggingLevel.ERROR,
      });
    }
    // SNS cannot subscribe a topic to a topic, so the operator's topics are alarm actions themselves.
    this.actions = [
      new SnsAction(this.topic),
      ...props.subscribers.snsTopicArns.map(
        (arn, index) => new SnsAction(Topic.fromTopicArn(this, `OperatorTopic${index}`, arn)),
      ),
    ];
  }

  /** Makes each alarm notify every subscriber when it goes into ALARM and when it is back to OK. */
  public notify(alarms: readonly Alarm[]): void {
    for (const alarm of alarms) {
      alarm.addAlarmAction(...this.actions);
      alarm.addOkAction(...this.actions);
    }
  }
}
