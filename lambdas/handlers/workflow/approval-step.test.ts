import { currentTenant } from '../../composition/tenant-scope';
import type { ActionDeps } from '../../domain/actions/deps';
import { ConflictError } from '../../domain/shared/errors';
import { approvalStepHandler, parseApprovalStepEvent } from './approval-step';

const IDS = { tenantId: 'ten_1', approvalId: 'apr_1', actionId: 'act_1' };

describe('the approval step Lambda', () => {
  it.each([
    [{ ...IDS }, /step/],
    [{ ...IDS, step: 'dance' }, /step/],
    [{ ...IDS, step: 'wait', executionId: 'e' }, /taskToken/],
    [{ ...IDS, step: 'close', outcome: 'approved' }, /outcome/],
    [{ step: 'notify', tenantId: '', approvalId: 'apr_1', actionId: 'act_1' }, /tenantId/],
    [{ step: 'notify', tenantId: 'ten_1*', approvalId: 'apr_1', actionId: 'act_1' }, /tenantId/],
  ])('refuses a malformed event by name, never retried: %j', (event, problem) => {
    expect(() => parseApprovalStepEvent(event)).toThrow(problem);
    try {
      parseApprovalStepEvent(event);
    } catch (error) {
      expect((error as Error).name).toBe('Approval.InvalidInput');
    }
  });

  it("runs the step the event names in its tenant's scope, and renames domain errors after their code for Retry", async () => {
    const scopes: (string | undefined)[] = [];
    const deps = {
      approvals: {
        get: async () => ({
          ...(scopes.push(currentTenant()) && {}),
          ...IDS,
          id: IDS.approvalId,
          status: 'pending',
          expiresAt: '2999-01-01T00:00:00Z',
        }),
        attachTaskToken: async () => {
          throw new ConflictError('busy');
        },
      },
      now: () => new Date('2026-01-01T00:00:00Z'),
    } as unknown as ActionDeps;
    const handler = approvalStepHandler(() => deps);
    await expect(handler({ ...IDS, step: 'check' })).resolves.toEqual({ outcome: 'pending' });
    // The step's repositories ran with the event's tenant's credentials.
    expect(scopes).toEqual(['ten_1']);
    await expect(handler({ ...IDS, step: 'wait', executionId: 'e', taskToken: 't' })).rejects.toMatchObject({
      name: 'Approval.CONFLICT',
      message: 'busy',
    });
  });
});
