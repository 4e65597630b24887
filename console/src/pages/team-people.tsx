/** The Team page's forms for people: add, edit (If-Match), and the confirmed disable / enable / delete. */
import { useState } from 'preact/hooks';
import { api, must, type ResponseOf, unlessChangedMeanwhile } from '../api/client';
import { ErrorNote, useAction } from '../ui';
import { focusWhenShown, type Location } from './team-locations';

export type User = ResponseOf<'/v1/users', 'get'>['items'][number];
type Role = User['role'];

const ROLES: readonly { role: Role; says: string }[] = [
  { role: 'owner', says: 'everything, including billing and other owners' },
  { role: 'admin', says: 'everything but managing owners' },
  { role: 'coordinator', says: 'decides approvals, runs agents, reads the rest' },
  { role: 'member', says: 'reads agents and conversations' },
];

/** Checkboxes for the locations a user belongs to; none ticked means every location. */
function LocationChoice({
  locations,
  chosen,
  change,
}: {
  locations: readonly Location[];
  chosen: readonly string[];
  change: (ids: string[]) => void;
}) {
  return (
    <fieldset>
      <legend>Locations</legend>
      {locations.length === 0 ? (
        <p class="hint">No locations yet: this person works for the whole business.</p>
      ) : (
        <>
          <p class="hint">None ticked: the whole business.</p>
          <div class="checks">
            {locations.map((location) => (
              <label class="check" key={location.id}>
                <input
                  type="checkbox"
                  checked={chosen.includes(location.id)}
                  onChange={(e) =>
                    change(
                      e.currentTarget.checked
                        ? [...chosen, location.id]
                        : chosen.filter((id) => id !== location.id),
                    )
                  }
                />
                {location.name}
              </label>
            ))}
          </div>
        </>
      )}
    </fieldset>
  );
}

function RoleSelect({ value, change }: { value: Role; change: (role: Role) => void }) {
  return (
    <label>
      Role
      <select value={value} onChange={(e) => change(e.currentTarget.value as Role)}>
        {ROLES.map(({ role, says }) => (
          <option key={role} value={role}>
            {role}: {says}
          </option>
        ))}
      </select>
    </label>
  );
}

const EMPTY_PERSON = {
  name: '',
  email: '',
  password: '',
  role: 'coordinator' as Role,
  locationIds: [] as string[],
};

/**
 * Adds a person. The API takes the password the owner chooses and makes it the person's own at
 * once (locally and on AWS, where Cognito sends no invitation): nothing secret comes back, so the
 * page says to hand it over in person. The password is cleared once sent.
 */
export function AddPerson({
  locations,
  added,
}: {
  locations: readonly Location[];
  added: (user: User) => void;
}) {
  const [form, setForm] = useState(EMPTY_PERSON);
  const add = useAction(async () => {
    const user = await must(api().POST('/v1/users', { body: { ...form, email: form.email.trim() } }));
    setForm(EMPTY_PERSON);
    added(user);
  });
  return (
    <form
      class="editor card"
      aria-labelledby="add-person"
      onSubmit={(event) => {
        event.preventDefault();
        void add.run();
      }}
    >
      <h2 id="add-person">Add a person</h2>
      <label>
        Name
        <input value={form.name} onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} />
      </label>
      <label>
        Email
        <input
          type="email"
          autoComplete="off"
          value={form.email}
          onInput={(e) => setForm({ ...form, email: e.currentTarget.value })}
        />
      </label>
      <label>
        Password
        <input
          type="password"
          autoComplete="new-password"
          value={form.password}
          onInput={(e) => setForm({ ...form, password: e.currentTarget.value })}
        />
        <span class="hint">
          At least 12 characters with a lower-case letter, an upper-case letter and a digit. It is theirs at
          once: no email is sent, so give it to them yourself.
        </span>
      </label>
      <RoleSelect value={form.role} change={(role) => setForm({ ...form, role })} />
      <LocationChoice
        locations={locations}
        chosen={form.locationIds}
        change={(locationIds) => setForm({ ...form, locationIds })}
      />
      <ErrorNote message={add.error} />
      <button type="submit" disabled={add.pending}>
        Add person
      </button>
    </form>
  );
}

/** Role, name and locations of one person; saved with If-Match so a change made meanwhile is not lost. */
export function EditPerson({
  user,
  locations,
  done,
  stale,
  cancel,
}: {
  user: User;
  locations: readonly Location[];
  done: (message: string) => void;
  stale: () => void;
  cancel: () => void;
}) {
  const [form, setForm] = useState({ name: user.name, role: user.role, locationIds: user.locationIds });
  const save = useAction(async () => {
    const saved = await unlessChangedMeanwhile(
      () =>
        must(
          api().PATCH('/v1/users/{id}', {
            params: { path: { id: user.id }, header: { 'If-Match': `"${user.version}"` } },
            body: {
              ...(form.name !== user.name ? { name: form.name } : {}),
              ...(form.role !== user.role ? { role: form.role } : {}),
              locationIds: form.locationIds,
            },
          }),
        ),
      stale,
    );
    if (saved) done(`${form.name} saved.`);
  });
  return (
    <form
      class="editor"
      aria-label={`Edit ${user.email}`}
      onSubmit={(event) => {
        event.preventDefault();
        void save.run();
      }}
    >
      <label>
        Name
        <input
          ref={focusWhenShown}
          value={form.name}
          onInput={(e) => setForm({ ...form, name: e.currentTarget.value })}
        />
      </label>
      <RoleSelect value={form.role} change={(role) => setForm({ ...form, role })} />
      <LocationChoice
        locations={locations}
        chosen={form.locationIds}
        change={(locationIds) => setForm({ ...form, locationIds })}
      />
      <ErrorNote message={save.error} />
      <div class="row">
        <button type="submit" disabled={save.pending}>
          Save
        </button>
        <button type="button" class="secondary" onClick={cancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export type Confirming = { user: User; change: 'disable' | 'enable' | 'delete' | 'reset-mfa' };

const CONFIRM_WORDS: Record<Confirming['change'], { title: string; says: string; button: string }> = {
  disable: {
    title: 'Disable',
    says: 'They can no longer sign in, and the sessions they hold stop working at once. You can enable them again.',
    button: 'Yes, disable',
  },
  enable: {
    title: 'Enable',
    says: 'They can sign in again with their password, with the role and locations they had.',
    button: 'Yes, enable',
  },
  'reset-mfa': {
    title: 'Reset two-step sign-in of',
    says: 'For a lost authenticator: they sign in with their password alone, then turn two-step sign-in on again from their account page. Their old authenticator never works again.',
    button: 'Yes, reset',
  },
  delete: {
    title: 'Delete',
    says: 'Their account is removed and their sessions end. What they did stays in the audit log. This cannot be undone.',
    button: 'Yes, delete',
  },
};

const DONE_WORDS: Record<Confirming['change'], (email: string) => string> = {
  disable: (email) => `${email} disabled.`,
  enable: (email) => `${email} enabled.`,
  delete: (email) => `${email} deleted.`,
  'reset-mfa': (email) => `Two-step sign-in of ${email} reset: they sign in with their password alone.`,
};

/** The words and the call of a confirmed change; its error in the API's words (e.g. the last owner's 409). */
export function ConfirmChange({
  confirming: { user, change },
  close,
  done,
  stale,
}: {
  confirming: Confirming;
  close: () => void;
  done: (message: string) => void;
  stale: () => void;
}) {
  const confirm = useAction(async () => {
    if (change === 'delete') {
      await must(api().DELETE('/v1/users/{id}', { params: { path: { id: user.id } } }));
    } else if (change === 'reset-mfa') {
      await must(api().POST('/v1/users/{id}/mfa/reset', { params: { path: { id: user.id } } }));
    } else {
      const saved = await unlessChangedMeanwhile(
        () =>
          must(
            api().PATCH('/v1/users/{id}', {
              params: { path: { id: user.id }, header: { 'If-Match': `"${user.version}"` } },
              body: { status: change === 'disable' ? 'disabled' : 'active' },
            }),
          ),
        stale,
      );
      if (!saved) return;
    }
    done(DONE_WORDS[change](user.email));
  });
  const words = CONFIRM_WORDS[change];
  return (
    <>
      <h2 id="confirm-person-title">
        {words.title} {user.email}?
      </h2>
      <p>{words.says}</p>
      <ErrorNote message={confirm.error} />
      <div class="row">
        <button
          type="button"
          class={change === 'enable' ? undefined : 'danger'}
          disabled={confirm.pending}
          onClick={() => void confirm.run()}
        >
          {words.button}
        </button>
        <button type="button" class="secondary" onClick={close}>
          Cancel
        </button>
      </div>
    </>
  );
}
