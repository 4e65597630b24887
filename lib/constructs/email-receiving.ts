import { type CfnResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { BlockPublicAccess, Bucket, BucketEncryption, EventType, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { LambdaDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { CfnReceiptRule, CfnReceiptRuleSet } from 'aws-cdk-lib/aws-ses';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV, type EnvironmentVariables } from '../../lambdas/composition/env-names';
import type { EmailReceivingConfig, EnvironmentConfig } from '../config';
import type { DataTableResources } from './data-table';
import { HouseFunction } from './house-function';

export const EMAIL_INTAKE_ENTRY = 'lambdas/handlers/events/inbound-email.ts';
export const EMAIL_INTAKE_SERVICE = 'email-intake';
/** Where SES writes the messages in the bucket (and the only place it may write). */
export const INBOUND_MAIL_PREFIX = 'inbound/';
export const EMAIL_RECEIPT_RULE_NAME = 'store-in-s3';

/**
 * What the intake function may do, as data: read what SES stored (under the prefix only), the
 * table for the platform-level directory lookup and dedup claim, and queue on the inbound FIFO
 * queue. No channel secrets (email has none), no sending.
 */
export const EMAIL_INTAKE_GRANTS = {
  table: 'readWrite',
  mail: ['s3:GetObject'],
  inboundQueue: ['sqs:SendMessage'],
} as const;

export interface EmailReceivingProps {
  readonly config: EnvironmentConfig;
  readonly receiving: EmailReceivingConfig;
  readonly data: DataTableResources;
  /** The inbound pipeline's FIFO queue (INBOUND_QUEUE_URL). */
  readonly inboundQueue: IQueue;
}

/** The receipt rule set's name when config gives none. */
export function defaultRuleSetName(stageName: string): string {
  return `agent-platform-${stageName}-inbound-email`;
}

/**
 * Email in: SES receives mail for `receiving.domain` with a receipt rule (spam and virus scanning
 * on, TLS required) whose one action stores the message in a private bucket; the object's
 * creation invokes the intake function (lambdas/handlers/events/inbound-email.ts), which checks
 * SES's verdicts and runs the inbound pipeline.
 *
 * The rule set is created but NOT activated: an account has one active receipt rule set per
 * region, which may already serve other mail. The operator activates this one (README, "Email").
 */
export class EmailReceiving extends Construct {
  public readonly bucket: Bucket;
  public readonly ruleSet: CfnReceiptRuleSet;
  public readonly rule: CfnReceiptRule;
  public readonly intake: HouseFunction;
  public readonly ruleSetName: string;

  constructor(scope: Construct, id: string, props: EmailReceivingProps) {
    super(scope, id);
    const { config, receiving } = props;
    const stack = Stack.of(this);
    this.ruleSetName = receiving.ruleSetName ?? defaultRuleSetName(config.stageName);

    this.bucket = new Bucket(this, 'Mail', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Attachments are references into the stored message: kept as long as configured, then gone.
      lifecycleRules: [
        {
          expiration: Duration.days(receiving.retentionDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    // Only this rule of this account's SES may write, and only under the prefix.
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'SesReceiptRuleWrites',
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal('ses.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects(`${INBOUND_MAIL_PREFIX}*`)],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'ses',
              resource: 'receipt-rule-set',
              resourceName: `${this.ruleSetName}:receipt-rule/${EMAIL_RECEIPT_RULE_NAME}`,
            }),
          },
        },
      }),
    );

    this.ruleSet = new CfnReceiptRuleSet(this, 'RuleSet', { ruleSetName: this.ruleSetName });
    this.rule = new CfnReceiptRule(this, 'Rule', {
      ruleSetName: this.ruleSet.ref,
      rule: {
        name: EMAIL_RECEIPT_RULE_NAME,
        enabled: true,
        recipients: [receiving.domain],
        // The verdicts the intake function checks (X-SES-Spam-Verdict, X-SES-Virus-Verdict, ...).
        scanEnabled: true,
        tlsPolicy: 'Require',
        actions: [{ s3Action: { bucketName: this.bucket.bucketName, objectKeyPrefix: INBOUND_MAIL_PREFIX } }],
      },
    });
    // SES checks that it may write to the bucket when the rule is created.
    if (this.bucket.policy) this.rule.node.addDependency(this.bucket.policy);

    const environment: EnvironmentVariables = {
      [ENV.INBOUND_QUEUE_URL]: props.inboundQueue.queueUrl,
      [ENV.EMAIL_RECEIVING_DOMAIN]: receiving.domain,
    };
    this.intake = new HouseFunction(this, 'Intake', {
      entry: EMAIL_INTAKE_ENTRY,
      description: `Email in: reads what SES stored, checks its verdicts, queues it for the agent (${config.stageName})`,
      serviceName: EMAIL_INTAKE_SERVICE,
      config,
      // Parsing a large MIME message (up to SES's 40 MB) wants memory more than time.
      memorySize: Math.max(config.lambda.memoryMb, 1024),
      timeout: Duration.seconds(60),
      environment,
      table: { resources: props.data, access: EMAIL_INTAKE_GRANTS.table },
      asyncInvocation: {},
    });
    this.intake.role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: [...EMAIL_INTAKE_GRANTS.mail],
        resources: [this.bucket.arnForObjects(`${INBOUND_MAIL_PREFIX}*`)],
      }),
    );
    this.intake.role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: [...EMAIL_INTAKE_GRANTS.inboundQueue],
        resources: [props.inboundQueue.queueArn],
      }),
    );
    this.bucket.addEventNotification(EventType.OBJECT_CREATED, new LambdaDestination(this.intake.function), {
      prefix: INBOUND_MAIL_PREFIX,
    });

    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Only SES writes here (bucket policy: this account, this receipt rule) and only the intake function reads; objects expire after the configured retention. Access logs would duplicate the intake’s own log line per message.',
    });
    acknowledgeNotificationsHandler(stack);
    const bucketId = stack.getLogicalId(this.bucket.node.defaultChild as CfnResource);
    Validations.of(this.intake.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${INBOUND_MAIL_PREFIX}*]`,
      reason:
        'The intake reads the messages SES stores under the prefix; their keys are SES message ids, unknown in advance, so the grant is s3:GetObject on the prefix of this one bucket.',
    });
  }
}

/**
 * S3 bucket notifications are configured by CDK's own singleton custom resource, whose role uses
 * the AWS managed basic-execution policy. Acknowledged with that reason, on that construct only.
 */
function acknowledgeNotificationsHandler(stack: Stack): void {
  for (const child of stack.node.children) {
    if (!child.node.id.startsWith('BucketNotificationsHandler')) continue;
    Validations.of(child).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'CDK’s own bucket-notifications custom resource (one per stack, run at deploy time only) comes with the AWS managed basic-execution policy; it is not ours to shape.',
    });
  }
}
