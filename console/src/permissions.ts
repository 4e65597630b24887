import { useEffect, useState } from 'preact/hooks';
import { type ApiPermission, roleAllows } from '../../lambdas/domain/tenants/role-permissions';
import { api, must } from './api/client';
import { currentSession, onSession } from './session';

type Role = Parameters<typeof roleAllows>[0];

/** The signed-in user's role, read once per session (`GET /v1/me`). */
let roleOf: { token: string; role: Promise<Role | undefined> } | undefined;

function currentRole(): Promise<Role | undefined> {
  const token = currentSession()?.token;
  if (!token) return Promise.resolve(undefined);
  if (roleOf?.token !== token) {
    roleOf = {
      token,
      role: must(api().GET('/v1/me')).then(
        (me) => me.role,
        () => undefined,
      ),
    };
  }
  return roleOf.role;
}

/**
 * Whether the signed-in user's role holds an API permission (the server's own table,
 * `role-permissions.ts`): undefined until known. The API decides in the end; this only spares
 * people menus and buttons that would answer 403.
 */
export function useMay(): (permission: ApiPermission) => boolean | undefined {
  const [role, setRole] = useState<Role | undefined>();
  useEffect(() => {
    let live = true;
    const read = () => void currentRole().then((found) => live && setRole(found));
    read();
    const stop = onSession(read);
    return () => {
      live = false;
      stop();
    };
  }, []);
  return (permission) => (role ? roleAllows(role, permission) : undefined);
}
