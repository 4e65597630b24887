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
    sdkClients: [
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/lib-dynamodb',
      '@aws-sdk/client-cognito-identity-provider',
    ],
  },
  tenancy: {
    entry: 'lambdas/handlers/http/tenancy.ts',
    description: 'Tenant profile, users, roles and locations',
    table: 'readWrite',
    identity: true,
    sdkClients: [
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/lib-dynamodb',
      '@aws-sdk/client-cognito-identity-provider',
    ],
  },
  agents: {
    entry: 'lambdas/handlers/http/agents.ts',
    description: 'Agents: configuration, lifecycle, versions, stats and channel settings',
    table: 'readWrite',
    identity: false,
    // Channel settings write the channel credentials (create, put, restore, delete) under the
    // tenant's secret path, and claim addresses in the channel directory (`CHADDR#`).
    channelSecrets: 'readWrite',
    sdkClients: ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', '@aws-sdk/client-secrets-manager'],
  },
  system: {
    entry: 'lambdas/handlers/http/system.ts',
    description: 'Health and the OpenAPI document',
    table: 'read',
    identity: false,
    sdkClients: ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb'],
  },
  memory: {
    entry: 'lambdas/handlers/http/memory.ts',
    description: 'Long-term memories: CRUD and similarity search',
    table: 'readWrite',
    identity: false,
    bedrock: true,
    sdkClients: ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', '@aws-sdk/client-bedrock-runtime'],
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
    outbound: true,
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
    sdkClients: ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', '@aws-sdk/client-eventbridge'],
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
    sdkClients: [
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/lib-dynamodb',
      '@aws-sdk/client-eventbridge',
      '@aws-sdk/client-sfn',
    ],
  },
  webhooks: {
    entry: 'lambdas/handlers/http/webhooks.ts',
    description:
      "Messaging providers' webhooks (Twilio, Slack, Telegram, Meta): proof checked, routed, deduplicated, queued",
    table: 'readWrite',
    identity: false,
    // Verifies with the channel's secrets (tenant path, read only) and queues on the inbound FIFO queue.
    inboundQueue: true,
    channelSecrets: true,
    sdkClients: [
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/lib-dynamodb',
      '@aws-sdk/client-sqs',
      '@aws-sdk/client-secrets-manager',
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
    /** Calls chat models through Bedrock Converse: `bedrock:InvokeModel` on foundation models and inference profiles. */
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
    /**
     * Runs actions that reach the outside: SES, Connect StartOutboundVoiceContact, the tenants'
     * provider secrets (read only), OUTBOUND_MODE=live and the outbound settings.
     */
    outbound?: boolean;
    /** Queues inbound channel messages: `sqs:SendMessage` on the inbound FIFO queue, INBOUND_QUEUE_URL, PUBLIC_BASE_URL. */
    inboundQueue?: boolean;
    /**
     * Agents' channel secrets under the tenant's own secret path: `true` reads them;
     * `'readWrite'` also creates, writes, restores and deletes them (channel settings).
     */
    channelSecrets?: boolean | 'readWrite';
    /** Admits turns under the environment's turn rate limits: TURN_RATE_LIMITS (cdk.json `turnRateLimits`). */
    turnRateLimits?: boolean;
    /** Token purchases: the platform's Stripe secret (read only) and PAYMENTS_PROVIDER / TOKEN_PRICE. */
    payments?: boolean;
    sdkClients: readonly string[];
  }
>;
