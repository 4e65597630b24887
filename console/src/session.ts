import { setBearer } from './api/client';

/** The signed-in user's token, kept for this browser tab only (sessionStorage). */
const KEY = 'agent-console.session';

export interface Session {
  readonly token: string;
  readonly email: string;
}

type Listener = (session: Session | undefined) => void;
const listeners = new Set<Listener>();
let current: Session | undefined;

function publish() {
  setBearer(current?.token, () => signOut());
  for (const listener of listeners) listener(current);
}

export function loadSession(): Session | undefined {
  try {
    const stored = sessionStorage.getItem(KEY);
    current = stored ? (JSON.parse(stored) as Session) : undefined;
  } catch {
    current = undefined;
  }
  setBearer(current?.token, () => signOut());
  return current;
}

export function signIn(session: Session): void {
  current = session;
  sessionStorage.setItem(KEY, JSON.stringify(session));
  publish();
}

export function signOut(): void {
  current = undefined;
  sessionStorage.removeItem(KEY);
  publish();
}

export function onSession(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
