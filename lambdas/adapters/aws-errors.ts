import { ProviderError } from '../domain/actions/ports';
import { errorLike, errorName, isNetworkError, RetriesExhaustedError, type RetryVerdict } from './retry';

/** What every AWS SDK v3 service exception carries (`ServiceException` of @smithy/smithy-client). */
interface AwsServiceError {
  readonly $retryable?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

export interface AwsErrorNames {
  /** Refusals another attempt cannot change; looked at first, so a name here is never retried. */
  readonly final: ReadonlySet<string>;
  /** Faults that pass: throttling, the service's internal errors, a full instance. */
  readonly transient: ReadonlySet<string>;
}

/**
 * The `withRetries` verdict for one AWS service's client. Errors are known by name rather than
 * class first (a throttle can come back as an unmodelled `ThrottlingException` from the shared AWS
 * front end); then any other exception of the service is retried when the SDK marks it
 * `$retryable`, or when it is an unmodelled 429 or 5xx (a proxy, a new fault), as transient as the
 * modelled ones; anything else only when the connection itself failed.
 */
export function awsRetryVerdict(
  serviceException: abstract new (...args: never[]) => AwsServiceError,
  names: AwsErrorNames,
): (error: unknown) => RetryVerdict {
  return (error) => {
    const name = errorName(error);
    if (name !== undefined && names.final.has(name)) return { retry: false };
    if (name !== undefined && names.transient.has(name)) return { retry: true };
    if (error instanceof serviceException) {
      if (error.$retryable) return { retry: true };
      const status = error.$metadata?.httpStatusCode ?? 0;
      return { retry: status === 429 || status >= 500 };
    }
    return { retry: isNetworkError(error) };
  };
}

/**
 * What a failed `withRetries` call of an AWS SDK client becomes at the port: retryable when the
 * attempts ran out on transient faults, final otherwise, with the SDK's error name as the
 * provider's code. A `ProviderError` thrown along the way passes as is.
 */
export function awsProviderFailure(provider: string, error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof RetriesExhaustedError) {
    return new ProviderError(
      provider,
      true,
      `${describeAwsError(error.lastError)} (${error.message})`,
      errorName(error.lastError),
    );
  }
  return new ProviderError(provider, false, describeAwsError(error), errorName(error));
}

function describeAwsError(error: unknown): string {
  const message = errorLike(error)?.message;
  return typeof message === 'string' && message
    ? `${errorName(error) ?? 'Error'}: ${message}`
    : (errorName(error) ?? 'unknown error');
}
