import { useEffect, useState } from 'preact/hooks';
import { lazy } from './lazy';
import { AgentsPage } from './pages/agents';
import { SignInPage } from './pages/sign-in';
import { useMay } from './permissions';
import { navigate, type Route, useRoute } from './router';
import { loadSession, onSession, type Session, signOut } from './session';

/*
 * Signing in and the agents list are in the first load; every other page is its own chunk, fetched
 * the first time it is shown (`npm run bench:console` prints the first load's size).
 */
const AccountPage = lazy(() => import('./pages/account').then((m) => m.AccountPage), 'your account');
const AgentEditorPage = lazy(
  () => import('./pages/agent-editor').then((m) => m.AgentEditorPage),
  'the agent',
);
const ApprovalsPage = lazy(() => import('./pages/approvals').then((m) => m.ApprovalsPage), 'approvals');
const AuditPage = lazy(() => import('./pages/audit').then((m) => m.AuditPage), 'the audit log');
const ConversationsPage = lazy(
  () => import('./pages/conversations').then((m) => m.ConversationsPage),
  'conversations',
);
const ConversationPage = lazy(
  () => import('./pages/conversations').then((m) => m.ConversationPage),
  'the conversation',
);
const EmergencyPage = lazy(
  () => import('./pages/emergency').then((m) => m.EmergencyPage),
  'the emergency stop',
);
const PlaygroundPage = lazy(() => import('./pages/playground').then((m) => m.PlaygroundPage), 'the chat');
const PolicyPage = lazy(() => import('./pages/policy').then((m) => m.PolicyPage), 'the decision policy');
const ProvisionPage = lazy(() => import('./pages/provisioning').then((m) => m.ProvisionPage), 'provisioning');
const ProvisioningPage = lazy(
  () => import('./pages/provisioning').then((m) => m.ProvisioningPage),
  'the provisioning',
);
const TeamPage = lazy(() => import('./pages/team').then((m) => m.TeamPage), 'the team');
const TokensPage = lazy(() => import('./pages/tokens').then((m) => m.TokensPage), 'tokens');

/**
 * The pages, by the first segment of the hash route. A new page (the chat playground over the
 * WebSocket, conversations, provisioning) is one entry here and one in NAV.
 */
const PAGES: Record<string, (route: Route) => preact.JSX.Element> = {
  agents: (route) =>
    route.segments[1] && route.segments[2] === 'chat' ? (
      <PlaygroundPage agentId={route.segments[1]} />
    ) : route.segments[1] ? (
      <AgentEditorPage agentId={route.segments[1] === 'new' ? undefined : route.segments[1]} />
    ) : (
      <AgentsPage />
    ),
  approvals: () => <ApprovalsPage />,
  conversations: (route) =>
    route.segments[1] ? <ConversationPage id={route.segments[1]} /> : <ConversationsPage />,
  provisioning: (route) =>
    route.segments[1] ? (
      <ProvisioningPage id={route.segments[1]} />
    ) : (
      <ProvisionPage agentId={route.query.get('agent') ?? undefined} />
    ),
  tokens: (route) => (
    <TokensPage
      purchaseId={route.query.get('purchase') ?? undefined}
      cancelled={route.query.get('cancelled') === '1'}
    />
  ),
  audit: () => <AuditPage />,
  'emergency-stop': () => <EmergencyPage />,
  policy: () => <PolicyPage />,
  account: () => <AccountPage />,
  team: () => <TeamPage />,
};

/** `permission`: shown only to roles that hold it (the server's own table, `role-permissions.ts`). */
const NAV: readonly {
  readonly path: string;
  readonly label: string;
  readonly permission?: Parameters<ReturnType<typeof useMay>>[0];
}[] = [
  { path: 'agents', label: 'Agents' },
  { path: 'approvals', label: 'Approvals' },
  { path: 'conversations', label: 'Conversations' },
  { path: 'provisioning', label: 'Provisioning' },
  { path: 'tokens', label: 'Tokens' },
  { path: 'policy', label: 'Policy', permission: 'policies:read' },
  { path: 'team', label: 'Team', permission: 'users:read' },
  { path: 'audit', label: 'Audit log' },
  { path: 'emergency-stop', label: 'Emergency stop' },
];

export function App() {
  const route = useRoute();
  const [session, setSession] = useState<Session | undefined>(loadSession);
  useEffect(() => onSession(setSession), []);
  const section = route.segments[0] ?? '';
  const may = useMay();

  if (!session) {
    if (section !== 'register' && section !== 'sign-in') {
      return <SignInPage mode="sign-in" />;
    }
    return <SignInPage mode={section} />;
  }
  const page = PAGES[section];
  if (!page) {
    navigate('/agents');
    return null;
  }
  return (
    <>
      <button type="button" class="skip link" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <span class="brand">Agent console</span>
        <nav aria-label="Main">
          <ul>
            {NAV.filter((item) => !item.permission || may(item.permission)).map((item) => (
              <li key={item.path}>
                <a href={`#/${item.path}`} aria-current={section === item.path ? 'page' : undefined}>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who">
          <a
            href="#/account"
            class="muted"
            aria-current={section === 'account' ? 'page' : undefined}
            title="Your account: two-step sign-in"
          >
            {session.email}
          </a>
          <button type="button" class="link" onClick={() => signOut()}>
            Sign out
          </button>
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        {page(route)}
      </main>
    </>
  );
}
