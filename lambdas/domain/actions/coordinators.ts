import { domainEvent, type EventPublisher } from '../events/events';
import type { UserRepository } from '../tenants/ports';
import type { User } from '../tenants/schemas';
import type { CoordinatorNotifier } from './definition';
import type { EmailPort } from './ports';

/**
 * Tells the people who can act on something — coordinators, then admins and owners — by email,
 * and the bus (`coordinator.notified`, which the web console turns into a live alert).
 */
export interface CoordinatorNotifierDeps {
  readonly users: Pick<UserRepository, 'list'>;
  readonly email: EmailPort;
  readonly events: EventPublisher;
  readonly now: () => Date;
  readonly log?: { warn(message: string, extra: Record<string, unknown>): void };
}

/**
 * At most this many emails per notification: a tenant with hundreds of staff should not turn one
 * escalation into hundreds of emails (nor one Lambda invocation into minutes of sending).
 */
export const MAX_RECIPIENTS = 20;

const ROLE_ORDER = { coordinator: 0, admin: 1, owner: 2 } as const;
type NotifiedRole = keyof typeof ROLE_ORDER;

/** Disabled users are not told: they could not act on it. */
function isNotified(user: User): user is User & { role: NotifiedRole } {
  return user.role in ROLE_ORDER && user.status !== 'disabled';
}

/**
 * Who hears of it, in order: coordinators (of the location, when there is one: those assigned
 * to it or to the whole tenant — a coordinator of another location is not told), then admins,
 * then owners, who see every location. One email per address.
 */
export function recipientsOf(users: readonly User[], locationId?: string): User[] {
  const chosen = users
    .filter(isNotified)
    .filter(
      (user) =>
        user.role !== 'coordinator' ||
        locationId === undefined ||
        user.locationIds.length === 0 ||
        user.locationIds.includes(locationId),
    )
    .map((user, position) => ({ user, position }))
    .sort((a, b) => {
      const byRole = ROLE_ORDER[a.user.role] - ROLE_ORDER[b.user.role];
      if (byRole !== 0) return byRole;
      // Among coordinators of a location, those assigned to it before the tenant-wide ones.
      const local = (u: User) => (locationId !== undefined && u.locationIds.includes(locationId) ? 0 : 1);
      return local(a.user) - local(b.user) || a.position - b.position;
    })
    .map(({ user }) => user);
  const seen = new Set<string>();
  return chosen.filter((user) => {
    const address = user.email.toLowerCase();
    if (seen.has(address)) return false;
    seen.add(address);
    return true;
  });
}

async function allUsers(users: Pick<UserRepository, 'list'>, tenantId: string): Promise<User[]> {
  const found: User[] = [];
  let cursor: string | undefined;
  do {
    const page = await users.list(tenantId, { limit: 100, ...(cursor ? { cursor } : {}) });
    found.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return found;
}

function emailBody(
  body: string,
  refs: { agentId?: string; approvalId?: string; conversationId?: string; locationId?: string },
): string {
  const lines = [
    refs.approvalId ? `Approval: ${refs.approvalId}` : undefined,
    refs.agentId ? `Agent: ${refs.agentId}` : undefined,
    refs.conversationId ? `Conversation: ${refs.conversationId}` : undefined,
    refs.locationId ? `Location: ${refs.locationId}` : undefined,
  ].filter((line): line is string => line !== undefined);
  return lines.length > 0 ? `${body}\n\n${lines.join('\n')}` : body;
}

export function createCoordinatorNotifier(deps: CoordinatorNotifierDeps): CoordinatorNotifier {
  return {
    async notify(tenantId, message) {
      const recipients = recipientsOf(await allUsers(deps.users, tenantId), message.locationId).slice(
        0,
        MAX_RECIPIENTS,
      );
      const body = emailBody(message.body, message);
      // Each on its own: one bad address or a throttled send must not keep the others uninformed.
      const sent = await Promise.allSettled(
        recipients.map((user) =>
          deps.email.send(tenantId, { to: user.email, subject: message.subject, body }),
        ),
      );
      const delivered = sent.filter((outcome) => outcome.status === 'fulfilled').length;
      for (const [index, outcome] of sent.entries()) {
        if (outcome.status === 'rejected') {
          deps.log?.warn('coordinator email failed', {
            tenantId,
            userId: recipients[index]?.id,
            error: outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason),
          });
        }
      }
      await deps.events.publish([
        domainEvent(
          'coordinator.notified',
          {
            tenantId,
            subject: message.subject,
            recipients: delivered,
            ...(message.agentId ? { agentId: message.agentId } : {}),
            ...(message.approvalId ? { approvalId: message.approvalId } : {}),
            ...(message.conversationId ? { conversationId: message.conversationId } : {}),
          },
          deps.now(),
        ),
      ]);
      return { recipients: delivered };
    },
  };
}
