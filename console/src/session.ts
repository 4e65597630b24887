import { setBearer } from './api/client';
import { setLiveToken } from './api/live';

/** The signed-in user's token, kept for this browser tab only (sessionStorage). */
const KEY = 'agent-console.session';

export interface Session {
  readonly token: string;
  readonly email: string;
}

type Listener = (session: Session | undefined) => void;
const listeners = new Set<Listener>();
let current: Session | undefined;
/** Why the last session ended, when the user did not end it: shown on the sign-in page. */
let endedBecause: string | undefined;

export function sessionEndReason(): string | undefined {
  return endedBecause;
}

const expired = () => signOut('Your session has ended: sign in again.');

function publish() {
  setBearer(current?.token, expired);
  setLiveToken(current?.token);
  for (const listener of listeners) listener(current);
}

export function loadSession(): Session | undefined {
  try {
    const stored = sessionStorage.getItem(KEY);
    current = stored ? (JSON.parse(stored) as Session) : undefined;
  } catch {
    current = undefined;
  }
  setBearer(current?.token, expired);
  setLiveToken(current?.token);
  return current;
}

/** The session as it is now (loaded at start, changed by signIn / signOut). */
export function currentSession(): Session | undefined {
  return current;
}

export function signIn(session: Session): void {
  current = session;
  endedBecause = undefined;
  sessionStorage.setItem(KEY, JSON.stringify(session));
  publish();
}

export function signOut(reason?: string): void {
  current = undefined;
  endedBecause = reason;
  sessionStorage.removeItem(KEY);
  publish();
}

export function onSession(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
