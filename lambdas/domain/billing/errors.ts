import { AppError } from '../shared/errors';

/**
 * 402s name what is there and what was asked for, so a caller can say "top up N tokens" without a
 * second request.
 */
export class InsufficientBalanceError extends AppError {
  constructor(
    readonly available: number,
    readonly required: number,
  ) {
    super(402, 'INSUFFICIENT_BALANCE', `Not enough tokens: ${required} required, ${available} available`, {
      available,
      required,
    });
  }
}

/** A suspended tenant pays for nothing new until a top-up reactivates it. */
export class TenantSuspendedError extends AppError {
  constructor(
    readonly available: number,
    readonly required: number,
  ) {
    super(
      402,
      'TENANT_SUSPENDED',
      'The tenant is suspended for an unpaid monthly fee; adding tokens reactivates it',
      { available, required, tenantStatus: 'suspended' },
    );
  }
}

/**
 * The balance kept changing under us for longer than we retry: many writers on one tenant at
 * once. Nothing was written; the same idempotency key can be sent again.
 */
export class BalanceBusyError extends AppError {
  constructor(attempts: number) {
    super(503, 'BALANCE_BUSY', `The token balance is busy (${attempts} attempts); retry shortly`, {
      attempts,
    });
    this.retryAfterSeconds = 1;
  }
}
