import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  ApplicationLogLevel,
  Architecture,
  LoggingFormat,
  Runtime,
  SystemLogLevel,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { ENV, type EnvironmentVariables } from '../../lambdas/composition/env-names';
import {
  leadingKeysCondition,
  PLATFORM_KEY_PREFIXES,
  platformKeyPatterns,
  TABLE_ITEM_READ_ACTIONS,
  TABLE_ITEM_WRITE_ACTIONS,
} from '../../lambdas/composition/tenant-access-policy';
import { LAMBDA_ESBUILD_OPTIONS } from '../bundling';
import type { EnvironmentConfig } from '../config';
import type { DataTableResources } from './data-table';
import type { TenantAccess } from './tenant-access';

const REPO_ROOT = path.join(__dirname, '../..');

/** Metric namespace every Lambda emits its Powertools (EMF) metrics into. */
export function metricsNamespace(stageName: string): string {
  return `AgentPlatform/${stageName}`;
}

export type TableAccessLevel = 'read' | 'readWrite';

/**
 * A table grant, expressed as data so that the level is visible where the function is declared.
 * The function's own role reaches only its platform-level keys (PLATFORM_KEY_PREFIXES under its
 * service name, in lambdas/composition/tenant-access-policy.ts), under a `dynamodb:LeadingKeys`
 * condition; a function without platform keys gets no item access at all. Tenants' items are
 * reached through the tenant-access role (`tenantAccess`).
 */
export interface TableAccess {
  readonly resources: DataTableResources;
  /** `read` never includes a write action; neither level includes `Scan`, which runtime code never uses. */
  readonly access: TableAccessLevel;
}

export interface HouseFunctionProps {
  /** Handler module, relative to the repository root (e.g. `lambdas/handlers/http/agents.ts`); it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  /** Powertools service name: the `service` key of every log line, metric and trace segment. */
  readonly serviceName: string;
  /** Stage, log retention, log level, memory and timeout defaults come from here. */
  readonly config: EnvironmentConfig;
  /** @default config.lambda.memoryMb */
  readonly memorySize?: number;
  /** @default config.lambda.timeoutSeconds */
  readonly timeout?: Duration;
  /** Merged over the house variables (STAGE, TABLE_NAME, POWERTOOLS_*); a key given here wins. */
  readonly environment?: Readonly<EnvironmentVariables>;
  /** The data table and the access the function gets to it; also sets `TABLE_NAME`. */
  readonly table?: TableAccess;
  /**
   * Set for a function that serves tenants: it gets TENANT_ACCESS_ROLE_ARN and may assume that role
   * (with the tenant as session tag), and nothing else of it.
   */
  readonly tenantAccess?: Pick<TenantAccess, 'grantAssume'>;
  /**
   * Set for a function that anything invokes asynchronously (EventBridge rules and schedules,
   * S3, SNS, SES, an `Event` invoke): what failed every attempt lands in its own on-failure queue
   * (`failedInvocations`, alarmed on by the observability construct) instead of vanishing.
   */
  readonly asyncInvocation?: AsyncInvocation;
}

export interface AsyncInvocation {
  /** Lambda's retries after a failed attempt (0-2). @default 2 */
  readonly retryAttempts?: number;
  /** How long Lambda keeps trying an event before it goes to the failure queue. @default 6 hours */
  readonly maxEventAge?: Duration;
}

/** How long an event that failed every attempt is kept for inspection and redrive. */
export const FAILED_INVOCATION_RETENTION = Duration.days(14);

// DynamoDB calls KMS with the caller's credentials; the expanded names replace the `ReEncrypt*`
// and `GenerateDataKey*` wildcards a generic grant would use.
const KMS_READ_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey'];
const KMS_WRITE_ACTIONS = ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'];

/**
 * THE way this project defines a Lambda: Node.js 22 on ARM64, bundled locally by esbuild with the
 * settings `npm run bench` measures, its own log group with a retention, active X-Ray tracing,
 * Powertools configured through the environment, and a role holding nothing but what it is given.
 */
export class HouseFunction extends Construct {
  public readonly function: NodejsFunction;
  public readonly role: Role;
  public readonly logGroup: LogGroup;
  /** The Powertools service name, which is also this function's key in `lambda.reservedConcurrency`. */
  public readonly serviceName: string;
  /** Where asynchronous invocations that failed every attempt go; only with `asyncInvocation`. */
  public readonly failedInvocations?: Queue;

  constructor(scope: Construct, id: string, props: HouseFunctionProps) {
    super(scope, id);
    const { config } = props;
    this.serviceName = props.serviceName;

    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: config.logRetentionDays,
      removalPolicy: config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    // An own role instead of the default one, which carries the AWSLambdaBasicExecutionRole managed
    // policy (logs on every log group of the account): this one may write to its own group only.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.serviceName} (${config.stageName})`,
    });
    this.logGroup.grantWrite(this.role);

    const environment: EnvironmentVariables = {
      [ENV.STAGE]: config.stageName,
      [ENV.POWERTOOLS_SERVICE_NAME]: props.serviceName,
      [ENV.POWERTOOLS_METRICS_NAMESPACE]: metricsNamespace(config.stageName),
      [ENV.POWERTOOLS_LOG_LEVEL]: config.lambda.logLevel,
    };
    if (props.table) {
      environment[ENV.TABLE_NAME] = props.table.resources.table.tableName;
    }
    Object.assign(environment, props.environment);

    const { minify, target, format, mainFields, sourcemap, legalComments, define, external } =
      LAMBDA_ESBUILD_OPTIONS;
    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(REPO_ROOT, props.entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? config.lambda.memoryMb,
      timeout: props.timeout ?? Duration.seconds(config.lambda.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      // Kept equal to POWERTOOLS_LOG_LEVEL: with JSON logging Lambda drops lines below this level,
      // and Powertools warns when the two disagree.
      applicationLogLevelV2: ApplicationLogLevel[config.lambda.logLevel],
      systemLogLevelV2: SystemLogLevel.INFO,
      tracing: Tracing.ACTIVE,
      // From config by service name: a cap that keeps this function from starving the others, and
      // a floor the others cannot take from it.
      reservedConcurrentExecutions: config.lambda.reservedConcurrency[props.serviceName],
      environment,
      bundling: {
        minify,
        target,
        format: format === 'cjs' ? OutputFormat.CJS : OutputFormat.ESM,
        mainFields: [...mainFields],
        sourceMap: sourcemap,
        esbuildArgs: { '--legal-comments': legalComments },
        define: { ...define },
        // The SDK is bundled (tree-shaken, at the version in package-lock.json) rather than taken
        // from the runtime, so the deployed code is the code that was tested and benchmarked;
        // lib/bundling.ts names the clients left to the runtime, and why.
        bundleAwsSDK: true,
        externalModules: [...external],
        forceDockerBundling: false,
        // Sizes are what `npm run bench` reports; synth output keeps to problems.
        logLevel: LogLevel.WARNING,
      },
    });

    if (props.table) {
      this.grantTable(props.table);
      this.grantCursorKey(props.table.resources);
    }
    props.tenantAccess?.grantAssume(this);

    if (props.asyncInvocation) {
      this.failedInvocations = new Queue(this, 'FailedInvocations', {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: FAILED_INVOCATION_RETENTION,
      });
      // Grants the role sqs:SendMessage on this queue.
      this.function.configureAsyncInvoke({
        onFailure: new SqsDestination(this.failedInvocations),
        retryAttempts: props.asyncInvocation.retryAttempts ?? 2,
        maxEventAge: props.asyncInvocation.maxEventAge ?? Duration.hours(6),
      });
      Validations.of(this.failedInvocations).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is itself the end of the line: it is the on-failure destination of the function’s asynchronous invocations (and the dead-letter queue of the rule or subscription that invokes it), alarmed on by the observability construct and kept 14 days for inspection and redrive.',
      });
    }

    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only the X-Ray statement (xray:PutTraceSegments, xray:PutTelemetryRecords) added by active tracing uses Resource "*": X-Ray has no resource-level permissions. The infra tests fail if any other statement of a Lambda role uses "*".',
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is pinned on purpose: the esbuild target (lib/bundling.ts), the cold-start benchmark and local mode all assume it; moving to a newer runtime is a deliberate change of all three together.',
    });
  }

  /**
   * The listing cursors' signing key: its ARN in `CURSOR_KEY_SECRET_ARN` and GetSecretValue on it.
   * Every function given `table` gets it; one that reads the table otherwise calls this itself.
   */
  public grantCursorKey(resources: DataTableResources): void {
    this.function.addEnvironment(ENV.CURSOR_KEY_SECRET_ARN, resources.cursorKey.secretArn);
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['secretsmanager:GetSecretValue'],
        resources: [resources.cursorKey.secretArn],
      }),
    );
  }

  private grantTable({ resources, access }: TableAccess): void {
    const prefixes = PLATFORM_KEY_PREFIXES[this.serviceName] ?? [];
    // Nothing platform-level to touch: every item this function reads or writes is a tenant's,
    // reached through the tenant-access role.
    if (prefixes.length === 0) return;
    grantPlatformKeys(this.role, resources, prefixes, access);
  }
}

/**
 * Item access for a function's own role, limited to its platform-level keys: every request must
 * name leading keys, and every one of them must match a prefix (the same condition style as the
 * tenant-access role). Also the table key, which DynamoDB uses with the caller's credentials.
 */
export function grantPlatformKeys(
  role: Role,
  resources: DataTableResources,
  prefixes: readonly string[],
  access: TableAccessLevel | 'indexQuery',
): void {
  const { table, encryptionKey, indexNames } = resources;
  const condition = leadingKeysCondition(platformKeyPatterns(prefixes));
  const indexArns = indexNames.map((name) => `${table.tableArn}/index/${name}`);
  if (access !== 'indexQuery') {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions:
          access === 'readWrite'
            ? [...TABLE_ITEM_READ_ACTIONS, ...TABLE_ITEM_WRITE_ACTIONS]
            : [...TABLE_ITEM_READ_ACTIONS],
        resources: [table.tableArn],
        conditions: condition,
      }),
    );
  }
  if (indexArns.length > 0) {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['dynamodb:Query'],
        resources: indexArns,
        conditions: condition,
      }),
    );
  }
  const write = access === 'readWrite';
  role.addToPrincipalPolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: write ? [...KMS_READ_ACTIONS, ...KMS_WRITE_ACTIONS] : KMS_READ_ACTIONS,
      resources: [encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(role).region}.amazonaws.com` } },
    }),
  );
}

/** Every house Lambda below a scope (the app: every one of the environment). */
export function houseFunctionsIn(scope: IConstruct): HouseFunction[] {
  return scope.node.findAll().filter((c): c is HouseFunction => c instanceof HouseFunction);
}
