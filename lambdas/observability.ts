import { Logger } from '@aws-lambda-powertools/logger';

/**
 * One logger per Lambda, created at module scope. Service name and level come from the
 * Powertools environment variables the house Lambda construct sets. Request and response
 * bodies are never logged: they can carry passwords and customer data.
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'agent-platform' });
