import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseEnvironmentConfig } from '../../lib/config';
import {
  EMAIL_INTAKE_ENTRY,
  EMAIL_RECEIPT_RULE_NAME,
  INBOUND_MAIL_PREFIX,
} from '../../lib/constructs/email-receiving';
import { buildPlatform, cdkJsonContext, logicalIdOf, type PlatformFixture } from './platform-fixture';

const RECEIVING = { domain: 'mail.acme-agents.example', retentionDays: 14 };

function withEmail(receiving: object = RECEIVING): PlatformFixture {
  return buildPlatform('dev', { configOverrides: { email: { receiving: receiving as typeof RECEIVING } } });
}

describe('email receiving (config email.receiving)', () => {
  let fixture: PlatformFixture;
  let template: Template;

  beforeAll(() => {
    fixture = withEmail();
    template = Template.fromStack(fixture.api);
  });

  it('is absent from an environment without it', () => {
    const plain = Template.fromStack(buildPlatform('dev').api);
    plain.resourceCountIs('AWS::SES::ReceiptRuleSet', 0);
    plain.resourceCountIs('AWS::SES::ReceiptRule', 0);
    plain.resourceCountIs('AWS::S3::Bucket', 0);
  });

  it('creates the rule set (not activated) and one rule: the domain, scanning on, TLS, stored under the prefix', () => {
    template.hasResourceProperties('AWS::SES::ReceiptRuleSet', {
      RuleSetName: 'agent-platform-dev-inbound-email',
    });
    template.hasResourceProperties('AWS::SES::ReceiptRule', {
      Rule: {
        Name: EMAIL_RECEIPT_RULE_NAME,
        Enabled: true,
        Recipients: ['mail.acme-agents.example'],
        ScanEnabled: true,
        TlsPolicy: 'Require',
        Actions: [{ S3Action: { BucketName: Match.anyValue(), ObjectKeyPrefix: INBOUND_MAIL_PREFIX } }],
      },
    });
    // Only one rule set can be active per account and region: activation is the operator's step.
    template.resourceCountIs('AWS::SES::ReceiptRuleSet', 1);
    expect(JSON.stringify(template.toJSON())).not.toContain('SetActiveReceiptRuleSet');
  });

  it('keeps the mail in an encrypted, private, SSL-only bucket that forgets it after the retention', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 14, Status: 'Enabled' })]),
      },
    });
    const policy = JSON.stringify(template.findResources('AWS::S3::BucketPolicy'));
    expect(policy).toContain('"aws:SecureTransport":"false"');
  });

  it('lets only this account’s SES, through this rule, write, and only under the prefix', () => {
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy'));
    const statements = policies.flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: Record<string, unknown>[] } } }).Properties
          .PolicyDocument.Statement,
    );
    const ses = statements.filter((s) => JSON.stringify(s.Principal).includes('ses.amazonaws.com'));
    expect(ses).toHaveLength(1);
    const [statement] = ses;
    expect(statement).toMatchObject({ Effect: 'Allow', Action: 's3:PutObject' });
    const text = JSON.stringify(statement);
    expect(text).toContain(`/${INBOUND_MAIL_PREFIX}*`);
    expect(text).toContain('"aws:SourceAccount"');
    expect(text).toContain(
      `receipt-rule-set/agent-platform-dev-inbound-email:receipt-rule/${EMAIL_RECEIPT_RULE_NAME}`,
    );
    // The rule is created after the policy SES checks.
    const rule = Object.values(template.findResources('AWS::SES::ReceiptRule'))[0] as {
      DependsOn?: string[];
    };
    expect(rule.DependsOn?.some((id) => id.includes('Policy'))).toBe(true);
  });

  it('invokes the intake function on each stored message, which may read the mail and queue, nothing more', () => {
    const intake = fixture.api.emailReceiving?.intake;
    if (!intake) throw new Error('no intake function');
    const fnId = logicalIdOf(fixture.api, intake.function);
    const resources = template.toJSON().Resources as Record<
      string,
      { Type: string; Properties: Record<string, unknown> }
    >;
    expect(resources[fnId]?.Properties.Environment).toMatchObject({
      Variables: {
        EMAIL_RECEIVING_DOMAIN: 'mail.acme-agents.example',
        INBOUND_QUEUE_URL: expect.anything(),
        TABLE_NAME: expect.anything(),
      },
    });
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          Match.objectLike({
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: INBOUND_MAIL_PREFIX }] } },
          }),
        ],
      },
    });
    const roleId = logicalIdOf(fixture.api, intake.role);
    const actions = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(roleId))
      .flatMap(
        (r) => (r.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement,
      )
      .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions).toEqual(expect.arrayContaining(['s3:GetObject', 'sqs:SendMessage', 'dynamodb:PutItem']));
    expect(actions.filter((a) => /^(s3|sqs|secretsmanager|ses):/.test(a)).sort()).toEqual([
      's3:GetObject',
      'secretsmanager:GetSecretValue', // the listing cursors' key, as every table user
      // Its on-failure destination (CDK's grantSendMessages): attributes, URL and send.
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:SendMessage',
      'sqs:SendMessage',
    ]);
    expect(EMAIL_INTAKE_ENTRY).toBe('lambdas/handlers/events/inbound-email.ts');
  });

  it('is cdk-nag clean', () => {
    expect(
      new AwsSolutionsChecks()
        .validateScope(fixture.app)
        .violations.map(
          (v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
        ),
    ).toEqual([]);
  });

  it('is validated in the typed config: a domain, a rule set name, a retention', () => {
    const base = (cdkJsonContext().environments as Record<string, unknown>).dev as Record<string, unknown>;
    expect(() =>
      parseEnvironmentConfig('dev', { ...base, email: { receiving: { domain: 'Not A Domain' } } }),
    ).toThrow(/email\.receiving\.domain/);
    expect(
      parseEnvironmentConfig('dev', { ...base, email: { receiving: { domain: 'mail.example.com' } } }).email
        ?.receiving,
    ).toEqual({ domain: 'mail.example.com', retentionDays: 30 });
  });
});
