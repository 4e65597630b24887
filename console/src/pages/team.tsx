import { useEffect, useRef, useState } from 'preact/hooks';
import { api, must } from '../api/client';
import { useMay } from '../permissions';
import { currentSession } from '../session';
import { Empty, ErrorNote, Loading, Page, useLoad } from '../ui';
import { CHANGED_MEANWHILE, LocationsSection, useLocations } from './team-locations';
import { AddPerson, ConfirmChange, type Confirming, EditPerson, type User } from './team-people';

/** Every user of the business: the listing walks its cursor (100 at a time; a team is small). */
async function allUsers(): Promise<User[]> {
  const users: User[] = [];
  let cursor: string | undefined;
  do {
    const page = await must(api().GET('/v1/users', { params: { query: { limit: 100, cursor } } }));
    users.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return users;
}

/**
 * The business's team (`/v1/users`, `/v1/locations`): who may sign in, with which role, at which
 * locations. Changing it needs users:write (owners and admins); coordinators read it.
 */
export function TeamPage() {
  const users = useLoad(allUsers, []);
  const locations = useLocations();
  const may = useMay();
  const canWrite = may('users:write') === true;
  const me = currentSession()?.email.toLowerCase();
  const [editing, setEditingNow] = useState<string | undefined>();
  /** Said when a change met someone else's (a stale If-Match): beside the editor, else atop the page. */
  const [staleNote, setStaleNote] = useState<string | undefined>();
  const setEditing = (id: string | undefined) => {
    setEditingNow(id);
    setStaleNote(undefined);
  };
  const [done, setDone] = useState<string | undefined>();
  const [confirming, setConfirming] = useState<Confirming | undefined>();
  const dialog = useRef<HTMLDialogElement>(null);
  const locationList = locations.data ?? [];
  const locationName = (id: string) => locationList.find((location) => location.id === id)?.name ?? id;

  const ask = (next: Confirming) => {
    setConfirming(next);
    setDone(undefined);
    setStaleNote(undefined);
  };
  // Opened once its words are rendered, so focus lands on its first button.
  useEffect(() => {
    if (confirming && !dialog.current?.open) dialog.current?.showModal();
  }, [confirming]);

  const list = users.data ?? [];
  return (
    <Page title="Team">
      <p>
        The people who use this console. Coordinators decide the approvals agents wait for; owners and admins
        manage the team. A person limited to locations sees and acts only there.
      </p>
      {may('users:write') === false ? (
        <p class="muted">Your role may read the team; an owner or admin changes it.</p>
      ) : null}
      {done ? (
        <p class="ok" role="status">
          {done}
        </p>
      ) : null}
      {editing ? null : <ErrorNote message={staleNote} />}
      <ErrorNote message={users.error} />
      {users.loading && !users.data ? <Loading what="the team" /> : null}
      <h2 id="people">People</h2>
      {users.data && list.length === 0 ? (
        <Empty title="Nobody here yet.">
          <p>Add the coordinator who approves payments below.</p>
        </Empty>
      ) : null}
      {list.length > 0 ? (
        <div class="table-wrap">
          <table aria-labelledby="people">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Locations</th>
                {canWrite ? <th scope="col">Change</th> : null}
              </tr>
            </thead>
            <tbody>
              {list.map((user) =>
                editing === user.id ? (
                  <tr key={user.id}>
                    <td colSpan={6}>
                      <h3>Edit {user.email}</h3>
                      <ErrorNote message={staleNote} />
                      <EditPerson
                        key={user.version}
                        user={user}
                        locations={locationList}
                        cancel={() => setEditing(undefined)}
                        stale={() => {
                          setStaleNote(CHANGED_MEANWHILE);
                          users.reload();
                        }}
                        done={(message) => {
                          setEditing(undefined);
                          setDone(message);
                          users.reload();
                        }}
                      />
                    </td>
                  </tr>
                ) : (
                  <tr key={user.id}>
                    <td>{user.name}</td>
                    <td>{user.email}</td>
                    <td>{user.role}</td>
                    <td>
                      <span class={`badge status-${user.status}`}>{user.status}</span>
                    </td>
                    <td>
                      {user.locationIds.length === 0 ? 'All' : user.locationIds.map(locationName).join(', ')}
                    </td>
                    {canWrite ? (
                      <td>
                        {user.email === me ? (
                          <span class="muted">You</span>
                        ) : (
                          <div class="row">
                            <button
                              type="button"
                              class="secondary"
                              aria-label={`Edit ${user.email}`}
                              onClick={() => setEditing(user.id)}
                            >
                              Edit
                            </button>
                            <button
                              type="button"
                              class="secondary"
                              aria-label={`${user.status === 'active' ? 'Disable' : 'Enable'} ${user.email}`}
                              onClick={() =>
                                ask({ user, change: user.status === 'active' ? 'disable' : 'enable' })
                              }
                            >
                              {user.status === 'active' ? 'Disable' : 'Enable'}
                            </button>
                            <button
                              type="button"
                              class="secondary"
                              aria-label={`Reset MFA of ${user.email}`}
                              onClick={() => ask({ user, change: 'reset-mfa' })}
                            >
                              Reset MFA
                            </button>
                            <button
                              type="button"
                              class="secondary danger"
                              aria-label={`Delete ${user.email}`}
                              onClick={() => ask({ user, change: 'delete' })}
                            >
                              Delete
                            </button>
                          </div>
                        )}
                      </td>
                    ) : null}
                  </tr>
                ),
              )}
            </tbody>
          </table>
        </div>
      ) : null}
      {canWrite ? (
        <AddPerson
          locations={locationList}
          added={(user) => {
            setDone(
              `${user.name} (${user.email}) is added as ${user.role}. They sign in here with that email and the password you chose: give it to them yourself, it is not sent and not shown again.`,
            );
            users.reload();
          }}
        />
      ) : null}
      <LocationsSection locations={locations} canWrite={may('locations:write') === true} people={list} />
      <dialog ref={dialog} aria-labelledby="confirm-person-title" onClose={() => setConfirming(undefined)}>
        {confirming ? (
          <ConfirmChange
            key={`${confirming.user.id}-${confirming.change}`}
            confirming={confirming}
            close={() => dialog.current?.close()}
            done={(message) => {
              dialog.current?.close();
              setDone(message);
              users.reload();
            }}
            stale={() => {
              dialog.current?.close();
              setStaleNote(CHANGED_MEANWHILE);
              users.reload();
            }}
          />
        ) : null}
      </dialog>
    </Page>
  );
}
