import * as z from 'zod/mini';
import { inTenantScope, isTenantId } from '../../composition/tenant-scope';
import type { ProvisioningDeps } from '../../domain/provisioning/ports';
import {
  beginCompensation,
  completeProvisioning,
  failProvisioning,
  planProvisioning,
  recordUndoFailure,
  runProvisioningStep,
  undoProvisioningStep,
} from '../../domain/provisioning/workflow';
import { AppError } from '../../domain/shared/errors';
import { lazySchema } from '../../domain/shared/zod';
import { logger } from '../../observability';

/**
 * The provision-agent workflow's one step Lambda (statemachines/provision-agent.asl.json). Every
 * Task sends a `step`, the tenant and the provisioning id (and a step index); the step runs in the
 * tenant's scope. Errors are renamed for the ASL's Retry and Catch (class names do not survive
 * minification): `Provisioning.THROTTLED` (a provider's rate limit: retried with backoff),
 * `Provisioning.RETRYABLE` (a provider 5xx or a conflict), `Provisioning.STEP_FAILED` (final:
 * compensation follows), `Provisioning.InvalidInput` (a bug: never retried).
 */

const ids = () => ({
  tenantId: z.string().check(z.refine(isTenantId, 'must be a tenant id')),
  provisioningId: z.string().check(z.regex(/^prv_[0-9A-HJKMNP-TV-Z]{26}$/)),
});
const index = () => z.number().check(z.int(), z.minimum(0), z.maximum(100));
const stateError = () =>
  z.optional(z.object({ Error: z.optional(z.string()), Cause: z.optional(z.string()) }));

export const provisionStepEvent = lazySchema(() =>
  z.discriminatedUnion('step', [
    z.object({ step: z.literal('plan'), ...ids() }),
    z.object({ step: z.literal('run'), ...ids(), index: index() }),
    z.object({ step: z.literal('begin-compensation'), ...ids(), error: stateError() }),
    z.object({ step: z.literal('undo'), ...ids(), index: index() }),
    z.object({ step: z.literal('record-undo-failure'), ...ids(), index: index(), error: stateError() }),
    z.object({ step: z.literal('complete'), ...ids() }),
    z.object({ step: z.literal('fail'), ...ids() }),
  ]),
);
export type ProvisionStepEvent = z.output<ReturnType<typeof provisionStepEvent>>;

export class ProvisionStepFailure extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

function asStepError(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && error.name === 'ThrottledError')
    return new ProvisionStepFailure('Provisioning.THROTTLED', message);
  if (error instanceof AppError) {
    // A provider's 5xx; not a conflict: an address held by another agent stays held.
    const retryable = (error.details as { retryable?: unknown } | undefined)?.retryable === true;
    return new ProvisionStepFailure(
      retryable ? 'Provisioning.RETRYABLE' : 'Provisioning.STEP_FAILED',
      message,
    );
  }
  if (error instanceof Error && /^(StepRefusedError|SimulatedFailureError)$/.test(error.name)) {
    return new ProvisionStepFailure('Provisioning.STEP_FAILED', message);
  }
  // An SDK or network error: let the ASL's Retry for unknown failures try again.
  return error instanceof Error ? error : new Error(message);
}

function run(deps: ProvisioningDeps, event: ProvisionStepEvent): Promise<unknown> {
  const ref = { tenantId: event.tenantId, provisioningId: event.provisioningId };
  switch (event.step) {
    case 'plan':
      return planProvisioning(deps, ref);
    case 'run':
      return runProvisioningStep(deps, { ...ref, index: event.index });
    case 'begin-compensation':
      return beginCompensation(deps, { ...ref, ...(event.error ? { error: event.error } : {}) });
    case 'undo':
      return undoProvisioningStep(deps, { ...ref, index: event.index });
    case 'record-undo-failure':
      return recordUndoFailure(deps, {
        ...ref,
        index: event.index,
        ...(event.error ? { error: event.error } : {}),
      });
    case 'complete':
      return completeProvisioning(deps, ref);
    case 'fail':
      return failProvisioning(deps, ref);
  }
}

export function provisionStepHandler(deps: () => ProvisioningDeps) {
  return async (event: unknown): Promise<unknown> => {
    const parsed = provisionStepEvent().safeParse(event);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`);
      throw new ProvisionStepFailure(
        'Provisioning.InvalidInput',
        `Provision step event: ${problems.join('; ')}`,
      );
    }
    const { step, tenantId, provisioningId } = parsed.data;
    const index = 'index' in parsed.data ? parsed.data.index : undefined;
    try {
      const result = await inTenantScope(tenantId, () => run(deps(), parsed.data));
      logger.info('Provision step', { step, tenantId, provisioningId, index });
      return result;
    } catch (error) {
      logger.warn('Provision step failed', {
        step,
        tenantId,
        provisioningId,
        index,
        error: (error as Error).message,
      });
      throw asStepError(error);
    }
  };
}

export const handler = provisionStepHandler(() =>
  (
    require('../../composition/provisioning') as typeof import('../../composition/provisioning')
  ).provisioningDeps(),
);
