/**
 * The names of every environment variable the runtime reads: the one schema
 * (composition/environment.ts) is keyed by these, and the CDK constructs set them through these,
 * so renaming one breaks the build on both sides. No imports: the CDK app loads this file alone.
 */
export const ENV = {
  // Every Lambda (lib/constructs/house-function.ts).
  TABLE_NAME: 'TABLE_NAME',
  STAGE: 'STAGE',
  /** Set by Lambda itself. */
  AWS_REGION: 'AWS_REGION',
  CURSOR_KEY_SECRET_ARN: 'CURSOR_KEY_SECRET_ARN',
  /** Every function serving a tenant: the role assumed per tenant (tenant-scoped credentials). */
  TENANT_ACCESS_ROLE_ARN: 'TENANT_ACCESS_ROLE_ARN',
  POWERTOOLS_SERVICE_NAME: 'POWERTOOLS_SERVICE_NAME',
  POWERTOOLS_METRICS_NAMESPACE: 'POWERTOOLS_METRICS_NAMESPACE',
  POWERTOOLS_LOG_LEVEL: 'POWERTOOLS_LOG_LEVEL',
  MAX_BODY_BYTES: 'MAX_BODY_BYTES',
  // Identity (auth, tenancy).
  IDENTITY_PROVIDER: 'IDENTITY_PROVIDER',
  USER_POOL_ID: 'USER_POOL_ID',
  USER_POOL_CLIENT_ID: 'USER_POOL_CLIENT_ID',
  /** The secret the console's CloudFront sends the API (lambdas/http/caller-address.ts). */
  ORIGIN_VERIFY_SECRET_ARN: 'ORIGIN_VERIFY_SECRET_ARN',
  // Runtime: turns, models, memory.
  EXECUTION_QUEUE_URL: 'EXECUTION_QUEUE_URL',
  INBOUND_QUEUE_URL: 'INBOUND_QUEUE_URL',
  PUBLIC_BASE_URL: 'PUBLIC_BASE_URL',
  EMAIL_RECEIVING_DOMAIN: 'EMAIL_RECEIVING_DOMAIN',
  TURN_RATE_LIMITS: 'TURN_RATE_LIMITS',
  EMBEDDER: 'EMBEDDER',
  EMBEDDING_DIMENSIONS: 'EMBEDDING_DIMENSIONS',
  BEDROCK_REGION: 'BEDROCK_REGION',
  OPENAI_BASE_URL: 'OPENAI_BASE_URL',
  OPENAI_API_KEY: 'OPENAI_API_KEY',
  OPENAI_TIMEOUT_MS: 'OPENAI_TIMEOUT_MS',
  // Real time (the WebSocket API).
  WEBSOCKET_CALLBACK_URL: 'WEBSOCKET_CALLBACK_URL',
  WEBSOCKET_CALLBACK_URL_PARAMETER: 'WEBSOCKET_CALLBACK_URL_PARAMETER',
  // Billing, events, approvals.
  EVENT_BUS_NAME: 'EVENT_BUS_NAME',
  TOKEN_COSTS: 'TOKEN_COSTS',
  APPROVAL_STATE_MACHINE_ARN: 'APPROVAL_STATE_MACHINE_ARN',
  PROVISIONING_STATE_MACHINE_ARN: 'PROVISIONING_STATE_MACHINE_ARN',
  TENANT_PAGE_SIZE: 'TENANT_PAGE_SIZE',
  PAGES_PER_EXECUTION: 'PAGES_PER_EXECUTION',
  // Outbound actions.
  OUTBOUND_MODE: 'OUTBOUND_MODE',
  TENANT_SECRETS_PREFIX: 'TENANT_SECRETS_PREFIX',
  SES_FROM_ADDRESS: 'SES_FROM_ADDRESS',
  SES_CONFIGURATION_SET: 'SES_CONFIGURATION_SET',
  CONNECT_INSTANCE_ID: 'CONNECT_INSTANCE_ID',
  CONNECT_CONTACT_FLOW_ID: 'CONNECT_CONTACT_FLOW_ID',
  CONNECT_SOURCE_PHONE_NUMBER: 'CONNECT_SOURCE_PHONE_NUMBER',
  // Voice (lib/constructs/voice-channel.ts).
  CONNECT_INSTANCE_ARN: 'CONNECT_INSTANCE_ARN',
  /** The voice Lambda's own ARN, for its asynchronous continuation of slow turns. */
  VOICE_FUNCTION_ARN: 'VOICE_FUNCTION_ARN',
  VOICE_BOT_ALIAS_ARN: 'VOICE_BOT_ALIAS_ARN',
  VOICE_HUMAN_QUEUE_ARN: 'VOICE_HUMAN_QUEUE_ARN',
  /** Declared agents (lib/stacks/declared-tenant-stack.ts): the one tenant its records function serves. */
  DECLARED_TENANT_ID: 'DECLARED_TENANT_ID',
  // Token purchases (the platform's payment account).
  PAYMENTS_PROVIDER: 'PAYMENTS_PROVIDER',
  STRIPE_SECRET_ID: 'STRIPE_SECRET_ID',
  STRIPE_SECRET_KEY: 'STRIPE_SECRET_KEY',
  STRIPE_WEBHOOK_SECRET: 'STRIPE_WEBHOOK_SECRET',
  STRIPE_API_BASE: 'STRIPE_API_BASE',
  TOKEN_PRICE: 'TOKEN_PRICE',
  CONSOLE_ORIGINS: 'CONSOLE_ORIGINS',
  CONSOLE_URL_PARAMETER: 'CONSOLE_URL_PARAMETER',
  // Local mode and tests only.
  DYNAMODB_ENDPOINT: 'DYNAMODB_ENDPOINT',
  CURSOR_SIGNING_KEY: 'CURSOR_SIGNING_KEY',
  LOCAL_ISSUER: 'LOCAL_ISSUER',
  LOCAL_AUDIENCE: 'LOCAL_AUDIENCE',
  LOCAL_SIGNING_JWK: 'LOCAL_SIGNING_JWK',
  LOCAL_TOKEN_TTL_SECONDS: 'LOCAL_TOKEN_TTL_SECONDS',
} as const satisfies { [Name in string]: Name };

export type EnvName = keyof typeof ENV;

/**
 * Read by the runtime but never set by the CDK, and why: the test that compares the stacks'
 * variables with the schema (test/infra/environment.test.ts) holds every other name to being set.
 */
export const NOT_SET_BY_THE_STACKS: Readonly<Partial<Record<EnvName, string>>> = {
  AWS_REGION: 'set by Lambda itself',
  MAX_BODY_BYTES: 'the default (256 KiB) is the deployed limit',
  EMBEDDING_DIMENSIONS: 'the default (512) is what the stored vectors use',
  BEDROCK_REGION: 'Bedrock is called in the stack region (lib/constructs/bedrock-access.ts)',
  OPENAI_BASE_URL: 'OpenAI-compatible providers are local mode only for now',
  OPENAI_API_KEY: 'OpenAI-compatible providers are local mode only for now',
  OPENAI_TIMEOUT_MS: 'OpenAI-compatible providers are local mode only for now',
  TENANT_PAGE_SIZE: 'the defaults are the deployed paging; the local billing CLI sets them',
  PAGES_PER_EXECUTION: 'the defaults are the deployed paging; the local billing CLI sets them',
  STRIPE_SECRET_KEY: 'local mode and tests: on AWS the key is in the STRIPE_SECRET_ID secret',
  STRIPE_WEBHOOK_SECRET: 'local mode and tests: on AWS the secret is in the STRIPE_SECRET_ID secret',
  STRIPE_API_BASE: 'tests only: a stand-in for api.stripe.com',
  SES_CONFIGURATION_SET: 'no configuration set is deployed yet',
  EMAIL_RECEIVING_DOMAIN:
    'set on the email intake only where config email.receiving is given (test/infra/email-receiving.test.ts)',
  PUBLIC_BASE_URL:
    'optional config `publicBaseUrl`: unset, the webhooks check the URL as API Gateway received it',
  DYNAMODB_ENDPOINT: 'local mode and tests only (DynamoDB Local)',
  CURSOR_SIGNING_KEY: 'local mode and tests only: on AWS the key is the CURSOR_KEY_SECRET_ARN secret',
  LOCAL_ISSUER: 'local mode only (the local identity issuer)',
  LOCAL_AUDIENCE: 'local mode only (the local identity issuer)',
  LOCAL_SIGNING_JWK: 'local mode only (the local identity issuer)',
  LOCAL_TOKEN_TTL_SECONDS: 'local mode only (the local identity issuer)',
};

/** A function's variables as the CDK sets them: only names of the runtime schema type-check. */
export type EnvironmentVariables = { [Name in EnvName]?: string };
