import type { HttpLambdaName } from '../lambdas/http/route-spec';

/**
 * How each HTTP Lambda of the route table (lambdas/http/route-table.ts: routes -> Lambda name,
 * permission, schemas) is deployed: its entry, what it may touch (least privilege, IAM as data) and
 * the SDK clients it loads. Deployment settings, so they live beside the stacks that read them.
 */
export const HTTP_LAMBDAS = {
  auth: {
    entry: 'lambdas/handlers/http/auth.ts',
    description: 'Tenant registration and login',
    table: 'readWrite',
    identity: true,
    tenantAccess: true,
    // Sign-in hands the caller's address to Cognito threat protection: the viewer's behind the console's CloudFront.
    callerAddress: true,
    sdkClients: [
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/lib-dynamodb',
      '@aws-sdk/client-cognito-identity-provider',
      '@aws-sdk/client-sts',
    ],
  },
  tenancy: {
    entry: 'lambdas/handlers/http/tenancy.ts',
    description: 'Tenant profile, users, roles and locations',
    table: 'readWrite',
    identity: true,
    tenantAccess: true,
    // Turning one's own TOTP off signs the user in again: threat protection gets the viewer's address.
    callerAddress: true,
    sdkClients: [
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/lib-dynamodb',
      '@aws-sdk/client-cognito-identity-provider',
      '@aws-sdk/client-sts',
    ],
  },
  agents: {
    entry: 'lambdas/handlers/http/agents.ts',
    description: 'Agents: configuration, lifecycle, versions, stats and channel settings',
    table: 'readWrite',
    identity: false,
    tenantAccess: true,
    // Channel settings write the channel credentials (create, put, restore, delete) under the
    // tenant's secret path (with the tenant's credentials), and claim addresses in the channel
    // directory (`CHADDR#`, its own role).
    channelSecrets: true,
    // Telegram channels: setWebhook is given PUBLIC_BASE_URL + /v1/webhooks/telegram/{channelKey}.
    publicBaseUrl: true,
    // POST /v1/agents/provision and …/channels/{type}/provision start the provision-agent machine.
    provisioningWorkflow: true,
    sdkClients: [
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/lib-dynamodb',
      '@aws-sdk/client-secrets-manager',
      '@aws-sdk/client-sts',
      '@aws-sdk/client-sfn',
      '@aws-sdk/client-connect',
      '@aws-sdk/client-sesv2',
    ],
  },
  system: {
    entry: 'lambdas/handlers/http/system.ts',
    description: 'Health and the OpenAPI document',
    table: 'read',
    identity: false,
    // Health and the API description: platform-level only (the health check's `HEALTH` key).
    tenantAccess: false,
    sdkClients: ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb'],
  },
  memory: {
    entry: 'lambdas/handlers/http/memory.ts',
    description: 'Long-term memories: CRUD and similarity search',
    table: 'readWrite',
    identity: false,
    bedrock: true,
    tenantAccess: true,
    sdkClients: [
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/lib-dynamodb',
      '@aws-sdk/client-bedrock-runtime',
      '@aws-sdk/client-sts',
    ],
  },
  runtime: {
    entry: 'lambdas/handlers/http/runtime.ts',
    description: 'Chat, task executions, conversations and tools',
    table: 'readWrite',
    identity: false,
    bedrock: true,
    models: true,
    executionQueue: true,
    // Model calls are paid in tokens: billing events go to the bus.
    events: true,
    // Chat and process go through the decision engine: automatic actions run here, others wait.
    approvalWorkflow: true,
    // Chat, process and execute are admitted by the turn rate limits (TURN_RATE_LIMITS).
    turnRateLimits: true,
    // Turns run under a deadline of the Lambda's remaining time (minus a margin): as long as the
    // HTTP API waits (30 s), and a turn that cannot finish by then goes on in the execution queue.
    timeoutSeconds: 29,
    outbound: true,
    tenantAccess: true,
    // Staff messages of a handed-off conversation go out on its channel with the agent's credentials.
    channelSecrets: true,
    sdkClients: [
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/lib-dynamodb',
      '@aws-sdk/client-secrets-manager',
      '@aws-sdk/client-bedrock-runtime',
      '@aws-sdk/client-sqs',
      '@aws-sdk/client-eventbridge',
      '@aws-sdk/client-sfn',
      '@aws-sdk/client-sts',
    ],
  },
  billing: {
    entry: 'lambdas/handlers/http/billing.ts',
    description:
      'Token balance, costs, usage, purchases, the payment webhook, operator grants and rate limits',
    table: 'readWrite',
    identity: false,
    events: true,
    payments: true,
    // The operator's rate-limit routes show the environment's defaults beside a tenant's own.
    turnRateLimits: true,
    tenantAccess: true,
    sdkClients: [
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/lib-dynamodb',
      '@aws-sdk/client-eventbridge',
      '@aws-sdk/client-sts',
    ],
  },
  actions: {
    entry: 'lambdas/handlers/http/actions.ts',
    description: 'Actions, suggestions, policies, approvals, audit log and emergency stop',
    table: 'readWrite',
    identity: false,
    events: true,
    // Confirming a suggestion runs it; deciding an approval resumes its workflow.
    approvalWorkflow: true,
    outbound: true,
    tenantAccess: true,
    sdkClients: [
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/lib-dynamodb',
      '@aws-sdk/client-eventbridge',
      '@aws-sdk/client-sfn',
      '@aws-sdk/client-sts',
    ],
  },
  webhooks: {
    entry: 'lambdas/handlers/http/webhooks.ts',
    description:
      "Messaging providers' webhooks (Twilio, Slack, Telegram, Meta): proof checked, routed, deduplicated, queued",
    table: 'readWrite',
    identity: false,
    // Routes and deduplicates with its own role (CHADDR#, INBOUND#), verifies with the channel's
    // secrets read with the routed tenant's credentials, and queues on the inbound FIFO queue.
    tenantAccess: true,
    inboundQueue: true,
    channelSecrets: true,
    sdkClients: [
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/lib-dynamodb',
      '@aws-sdk/client-sqs',
      '@aws-sdk/client-secrets-manager',
      '@aws-sdk/client-sts',
    ],
  },
} as const satisfies Record<
  HttpLambdaName,
  {
    entry: string;
    description: string;
    table: 'read' | 'readWrite';
    identity: boolean;
    /** Embeds text with Titan: `bedrock:InvokeModel` on the embedding model only, EMBEDDER=titan. */
    bedrock?: boolean;
    /** Calls chat models through Bedrock Converse / ConverseStream: `bedrock:InvokeModel` and `InvokeModelWithResponseStream` on foundation models and inference profiles. */
    models?: boolean;
    /** Queues async executions: `sqs:SendMessage` on the execution queue, EXECUTION_QUEUE_URL. */
    executionQueue?: boolean;
    /** Publishes domain events: `events:PutEvents` on the platform bus, EVENT_BUS_NAME. */
    events?: boolean;
    /**
     * Starts and resumes approval workflows: `states:StartExecution` on the approval state
     * machine, `states:SendTaskSuccess`/`SendTaskHeartbeat`, APPROVAL_STATE_MACHINE_ARN.
     */
    approvalWorkflow?: boolean;
    /** Starts agent provisioning: `states:StartExecution` on the provision-agent machine, PROVISIONING_STATE_MACHINE_ARN. */
    provisioningWorkflow?: boolean;
    /**
     * Runs actions that reach the outside: SES, Connect StartOutboundVoiceContact, the tenants'
     * provider secrets (read only), OUTBOUND_MODE=live and the outbound settings.
     */
    outbound?: boolean;
    /** Queues inbound channel messages: `sqs:SendMessage` on the inbound FIFO queue, INBOUND_QUEUE_URL, PUBLIC_BASE_URL. */
    inboundQueue?: boolean;
    /** Tells providers the API's public address (Telegram's setWebhook): PUBLIC_BASE_URL (config `publicBaseUrl`), no grant. */
    publicBaseUrl?: boolean;
    /**
     * Uses agents' channel secrets (`<prefix>/tenants/<tenantId>/channels/...`): TENANT_SECRETS_PREFIX.
     * No grant of its own: they are read and written with the tenant's credentials (`tenantAccess`).
     */
    channelSecrets?: boolean;
    /** The Lambda's timeout, when not the environment's `lambda.timeoutSeconds` (at most 29: the HTTP API waits 30 s). */
    timeoutSeconds?: number;
    /** Admits turns under the environment's turn rate limits: TURN_RATE_LIMITS (cdk.json `turnRateLimits`). */
    turnRateLimits?: boolean;
    /**
     * Reads the caller's address (lambdas/http/caller-address.ts). Where the console is hosted, its
     * CloudFront distribution proves itself with the origin-verify secret: ORIGIN_VERIFY_SECRET_ARN
     * and `secretsmanager:GetSecretValue` on that one secret (the client is the runtime's, required
     * on first use: not in `sdkClients`). Without a console, nothing: the address is `sourceIp`.
     */
    callerAddress?: boolean;
    /**
     * Token purchases: the platform's Stripe secret (read only) and PAYMENTS_PROVIDER / TOKEN_PRICE;
     * with a hosted console, CONSOLE_URL_PARAMETER and `ssm:GetParameter` on that one parameter (the
     * client is the runtime's, required on first use: not in `sdkClients`).
     */
    payments?: boolean;
    /**
     * Serves tenants: TENANT_ACCESS_ROLE_ARN and `sts:AssumeRole` + `sts:TagSession` on the
     * tenant-access role only (then `@aws-sdk/client-sts` is in `sdkClients`). Its own role
     * reaches only its platform-level keys (PLATFORM_KEY_PREFIXES).
     */
    tenantAccess: boolean;
    sdkClients: readonly string[];
  }
>;
