import { BalanceBusyError } from '../domain/billing/errors';
import { ConflictError } from '../domain/shared/errors';
import { errorResponse } from './error-response';

describe('errorResponse', () => {
  it('tells the caller when to retry a busy balance (Retry-After, as the OpenAPI document says)', () => {
    const response = errorResponse(new BalanceBusyError(8), () => undefined);
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['retry-after']).toBe('1');
    expect(JSON.parse(response.body ?? '')).toEqual({
      error: { code: 'BALANCE_BUSY', message: expect.any(String), details: { attempts: 8 } },
    });
  });

  it('sends no Retry-After where there is nothing to wait for', () => {
    expect(
      errorResponse(new ConflictError('stale'), () => undefined).headers?.['retry-after'],
    ).toBeUndefined();
  });
});
