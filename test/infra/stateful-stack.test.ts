import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { TABLE_DEFINITION } from '../../lambdas/adapters/dynamodb/table-definition';
import { ROLES } from '../../lambdas/domain/tenants/rbac';
import {
  alarmTopicReference,
  buildPlatform,
  logicalIdOf,
  type PlatformFixture,
  PROD_OPERATOR_CONTEXT,
} from './platform-fixture';

describe('stateful stack', () => {
  let dev: PlatformFixture;
  let prod: PlatformFixture;
  let devTemplate: Template;
  let prodTemplate: Template;
  let withoutPitrTemplate: Template;

  beforeAll(() => {
    dev = buildPlatform('dev');
    prod = buildPlatform('prod');
    devTemplate = Template.fromStack(dev.stateful);
    prodTemplate = Template.fromStack(prod.stateful);
    withoutPitrTemplate = Template.fromStack(
      buildPlatform('dev', { configOverrides: { pointInTimeRecovery: false } }).stateful,
    );
  });

  describe('data table', () => {
    it('has the keys, index and TTL of TABLE_DEFINITION, on demand', () => {
      devTemplate.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
      devTemplate.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: TABLE_DEFINITION.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_DEFINITION.sortKey, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith(
          ['pk', 'sk', 'gsi1pk', 'gsi1sk'].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
        ),
        GlobalSecondaryIndexes: [
          {
            IndexName: 'gsi1',
            KeySchema: [
              { AttributeName: 'gsi1pk', KeyType: 'HASH' },
              { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      });
    });

    it('is encrypted with its own rotating customer-managed key', () => {
      const keyId = logicalIdOf(dev.stateful, dev.stateful.data.encryptionKey);
      devTemplate.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
      devTemplate.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
        Replicas: [
          Match.objectLike({ SSESpecification: { KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } } }),
        ],
      });
    });

    it('generates the listing cursors’ signing key as a secret, kept like the data in prod', () => {
      devTemplate.resourceCountIs('AWS::SecretsManager::Secret', 1);
      devTemplate.hasResourceProperties('AWS::SecretsManager::Secret', {
        GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false },
      });
      prodTemplate.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Retain' });
    });

    it('takes PITR, deletion protection and removal policy from config', () => {
      prodTemplate.hasResource('AWS::DynamoDB::GlobalTable', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: Match.objectLike({
          Replicas: [
            Match.objectLike({
              PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
              DeletionProtectionEnabled: true,
            }),
          ],
        }),
      });
      prodTemplate.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
      devTemplate.hasResource('AWS::DynamoDB::GlobalTable', {
        DeletionPolicy: 'Delete',
        Properties: Match.objectLike({
          Replicas: [Match.objectLike({ DeletionProtectionEnabled: false })],
        }),
      });
      withoutPitrTemplate.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        Replicas: [
          Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false } }),
        ],
      });
    });
  });

  describe('identity', () => {
    it('is a closed pool: no self sign-up, e-mail alias, strong passwords', () => {
      devTemplate.hasResourceProperties('AWS::Cognito::UserPool', {
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
        AliasAttributes: ['email'],
        UsernameConfiguration: { CaseSensitive: false },
        Policies: {
          PasswordPolicy: Match.objectLike({
            MinimumLength: 12,
            RequireUppercase: true,
            RequireLowercase: true,
            RequireNumbers: true,
          }),
        },
      });
    });

    it('holds the tenant in an immutable custom attribute', () => {
      devTemplate.hasResourceProperties('AWS::Cognito::UserPool', {
        Schema: Match.arrayWith([
          Match.objectLike({ Name: 'tenantId', AttributeDataType: 'String', Mutable: false }),
        ]),
      });
    });

    it('has one group per role, and the platform operators group outside them', () => {
      devTemplate.resourceCountIs('AWS::Cognito::UserPoolGroup', ROLES.length + 1);
      for (const role of ROLES) {
        devTemplate.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: role });
      }
      devTemplate.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: 'platform-operators' });
    });

    it('has a secretless client with the admin password and refresh flows that cannot write custom:tenantId', () => {
      const clients = devTemplate.findResources('AWS::Cognito::UserPoolClient');
      expect(Object.keys(clients)).toHaveLength(1);
      const [client] = Object.values(clients) as { Properties: Record<string, unknown> }[];
      const props = client?.Properties ?? {};
      expect(props.GenerateSecret).toBe(false);
      // Only the API signs users in (AdminInitiateAuth with their context), never the client directly.
      expect(props.ExplicitAuthFlows).toEqual(['ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']);
      expect(props.AllowedOAuthFlowsUserPoolClient).toBe(false);
      // An absent list would let the client write every writable attribute.
      expect(Array.isArray(props.WriteAttributes)).toBe(true);
      expect(props.WriteAttributes).not.toContain('custom:tenantId');
      expect(props.ReadAttributes).toContain('custom:tenantId');
    });

    it('switches threat protection and deletion protection on in prod', () => {
      prodTemplate.hasResourceProperties('AWS::Cognito::UserPool', {
        UserPoolTier: 'PLUS',
        UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
        DeletionProtection: 'ACTIVE',
        MfaConfiguration: 'OPTIONAL',
      });
      devTemplate.hasResourceProperties('AWS::Cognito::UserPool', {
        UserPoolTier: 'ESSENTIALS',
        DeletionProtection: 'INACTIVE',
      });
    });

    it('exposes the issuer URL the JWT authorizer needs', () => {
      const poolId = logicalIdOf(dev.stateful, dev.stateful.identity.userPool);
      expect(dev.stateful.resolve(dev.stateful.identity.issuerUrl)).toEqual({
        'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [poolId, 'ProviderURL'] }]],
      });
    });
  });

  describe('event bus', () => {
    it('is one named custom bus with an archive kept as configured', () => {
      devTemplate.resourceCountIs('AWS::Events::EventBus', 1);
      devTemplate.hasResourceProperties('AWS::Events::EventBus', { Name: 'agent-platform-dev' });
      devTemplate.hasResourceProperties('AWS::Events::Archive', {
        RetentionDays: dev.config.eventArchiveRetentionDays,
      });
    });
  });

  describe('alarm topic', () => {
    it('is the one topic, refusing plain HTTP publishers', () => {
      devTemplate.resourceCountIs('AWS::SNS::Topic', 1);
      devTemplate.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });

    it('subscribes the configured addresses (none in dev, the -c alarmEmail one in prod)', () => {
      devTemplate.resourceCountIs('AWS::SNS::Subscription', 0);
      prodTemplate.resourceCountIs('AWS::SNS::Subscription', 1);
      prodTemplate.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: PROD_OPERATOR_CONTEXT.alarmEmail,
        TopicArn: { Ref: logicalIdOf(prod.stateful, prod.stateful.alarms.topic) },
      });
    });

    it('relays the topic to a Slack channel through AWS Chatbot when one is configured, notifications only', () => {
      devTemplate.resourceCountIs('AWS::Chatbot::SlackChannelConfiguration', 0);
      const withSlack = buildPlatform('dev', {
        operatorContext: { alarmSlackChannel: 'T07ABCDEF12/C07ABCDEF12' },
      });
      const template = Template.fromStack(withSlack.stateful);
      template.hasResourceProperties('AWS::Chatbot::SlackChannelConfiguration', {
        ConfigurationName: 'agent-platform-dev-alarms',
        SlackWorkspaceId: 'T07ABCDEF12',
        SlackChannelId: 'C07ABCDEF12',
        SnsTopicArns: [{ Ref: logicalIdOf(withSlack.stateful, withSlack.stateful.alarms.topic) }],
        GuardrailPolicies: [
          Match.objectLike({
            'Fn::Join': Match.arrayWith([Match.arrayWith([':iam::aws:policy/CloudWatchReadOnlyAccess'])]),
          }),
        ],
      });
      // The channel's role may do nothing.
      const roleId = logicalIdOf(
        withSlack.stateful,
        withSlack.stateful.alarms.slackChannel?.role ?? withSlack.stateful,
      );
      const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
        JSON.stringify(p.Properties.Roles).includes(roleId),
      );
      expect(policies).toEqual([]);
      expect(template.toJSON().Resources[roleId].Properties.ManagedPolicyArns).toBeUndefined();
      expect(new AwsSolutionsChecks().validateScope(withSlack.stateful).violations).toEqual([]);
    });

    it('makes every alarm of prod notify the topic and the operator’s topic, on ALARM and on OK', () => {
      const topic = alarmTopicReference(prod);
      let alarms = 0;
      for (const stack of [prod.workflows, prod.api]) {
        for (const alarm of Object.values(
          Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'),
        )) {
          alarms += 1;
          const actions = [topic, PROD_OPERATOR_CONTEXT.alarmTopicArn];
          expect(alarm.Properties.AlarmActions).toEqual(actions);
          expect(alarm.Properties.OKActions).toEqual(actions);
        }
      }
      expect(alarms).toBe(
        prod.api.observability.alarms.length + prod.api.realtime.alarms.length + prod.workflows.alarms.length,
      );
    });
  });

  it('is termination-protected where config asks for deletion protection', () => {
    expect(prod.stateful.terminationProtection).toBe(true);
    expect(dev.stateful.terminationProtection).toBe(false);
  });

  it('is tagged with project and stage', () => {
    expect(prod.stateful.tags.tagValues()).toEqual({ project: 'agent-platform', stage: 'prod' });
  });
});
