import { actionsHttpDeps, actionsApiDeps as deps } from '../../composition/actions-api';
import { drainTurnEvents } from '../../composition/turn-events';
import { getTenantStop, liftTenantStop, stopAgent, stopTenant } from '../../domain/actions/emergency-stop';
import { getPolicy, putPolicy } from '../../domain/actions/policies';
import {
  confirmSuggestion,
  declineSuggestion,
  getAction,
  listActions,
} from '../../domain/actions/suggestions';
import { decideApproval, getApproval, listApprovals } from '../../domain/approvals/approvals';
import { approvalPageView, approvalView } from '../../domain/approvals/model';
import { AppError, NotFoundError } from '../../domain/shared/errors';
import { createHttpHandler, etag } from '../../http/http-handler';
import { ACTION_ROUTES } from '../../http/routes/actions';

const DEFAULT_STOP_REASON = 'emergency stop';

/** The local outbox, when this process has one (local mode); the route is never deployed. */
function localOutbox() {
  if (process.env.PLATFORM_BUILD === 'lambda') return undefined;
  return (
    require('../../composition/outbound') as typeof import('../../composition/outbound')
  ).outboundAdapters().outbox;
}

const serve = createHttpHandler(
  ACTION_ROUTES,
  {
    'GET /v1/actions': async ({ principal, query }) => ({ body: await listActions(deps, principal, query) }),
    'GET /v1/actions/{id}': async ({ principal, params }) => ({
      body: await getAction(deps, principal, params.id),
    }),
    'POST /v1/suggestions/{id}/confirm': async ({ principal, params }) => ({
      body: await confirmSuggestion(deps, principal, params.id),
    }),
    'POST /v1/suggestions/{id}/decline': async ({ principal, params }) => ({
      body: await declineSuggestion(deps, principal, params.id),
    }),
    'GET /v1/policies': async ({ principal }) => {
      const policy = await getPolicy(deps, principal);
      return { body: policy, headers: etag(policy) };
    },
    'PUT /v1/policies': async ({ principal, body, expectedVersion }) => {
      const policy = await putPolicy(deps, principal, body, expectedVersion);
      return { body: policy, headers: etag(policy) };
    },
    'GET /v1/approvals': async ({ principal, query }) => ({
      body: approvalPageView(await listApprovals(deps, principal, query)),
    }),
    'GET /v1/approvals/{id}': async ({ principal, params }) => ({
      body: approvalView(await getApproval(deps, principal, params.id)),
    }),
    'POST /v1/approvals/{id}/approve': async ({ principal, params, body }) => ({
      body: approvalView(await decideApproval(deps, principal, params.id, 'approved', body?.comment)),
    }),
    'POST /v1/approvals/{id}/reject': async ({ principal, params, body }) => ({
      body: approvalView(await decideApproval(deps, principal, params.id, 'rejected', body?.comment)),
    }),
    'GET /v1/audit': async ({ principal, query }) => ({
      body: await deps.audit.list(principal.tenantId, query),
    }),
    'POST /v1/agents/{id}/emergency-stop': async ({ principal, params, body }) => ({
      body: await stopAgent(deps, principal, params.id, body?.reason ?? DEFAULT_STOP_REASON),
    }),
    'POST /v1/tenant/emergency-stop': async ({ principal, body }) => ({
      body: await stopTenant(deps, principal, body?.reason ?? DEFAULT_STOP_REASON),
    }),
    'GET /v1/tenant/emergency-stop': async ({ principal }) => {
      const stop = await getTenantStop(deps, principal);
      if (!stop) throw new NotFoundError('Emergency stop');
      return { body: stop };
    },
    'DELETE /v1/tenant/emergency-stop': async ({ principal }) => {
      await liftTenantStop(deps, principal);
      return {};
    },
    'GET /v1/dev/outbox': async ({ principal, query }) => {
      const outbox = localOutbox();
      if (!outbox) throw new AppError(404, 'ROUTE_NOT_FOUND', 'The outbox exists in local mode only');
      return { body: outbox.list(principal.tenantId, query) };
    },
  },
  actionsHttpDeps,
);

/** Turn events published while serving (a chat turn, an approval decided) are delivered before the Lambda returns. */
export const handler: typeof serve = async (event, context) => {
  try {
    return await serve(event, context);
  } finally {
    await drainTurnEvents();
  }
};
