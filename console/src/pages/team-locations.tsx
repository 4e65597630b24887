import { useState } from 'preact/hooks';
import { ApiFailure, api, must, type ResponseOf, unlessChangedMeanwhile } from '../api/client';
import { Empty, ErrorNote, type Loaded, Loading, messageOf, useAction, useAgentNames, useLoad } from '../ui';

export type Location = ResponseOf<'/v1/locations', 'get'>['items'][number];
type Person = { id: string; email: string };

/** Every location of the business (the listing walks its cursor, 100 at a time). */
export function useLocations(): Loaded<Location[]> {
  return useLoad(async () => {
    const locations: Location[] = [];
    let cursor: string | undefined;
    do {
      const page = await must(api().GET('/v1/locations', { params: { query: { limit: 100, cursor } } }));
      locations.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return locations;
  }, []);
}

export const CHANGED_MEANWHILE =
  'Someone else changed it meanwhile: the page now shows it as it is. Make your change again.';

const listed = (ids: unknown, nameOf: (id: string) => string): string[] =>
  Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string').map(nameOf) : [];

/**
 * The refusal to delete a location in use (409): who uses it, by email and agent name (the API's
 * `details.users` and `details.agents` name them by id), then the API's own words. Any other
 * failure in the API's words.
 */
export function deletionRefusal(
  error: unknown,
  location: Location,
  people: readonly Person[],
  agentName: (id: string) => string,
): string {
  if (!(error instanceof ApiFailure) || error.status !== 409) return messageOf(error);
  const users = listed(error.details?.users, (id) => people.find((person) => person.id === id)?.email ?? id);
  const agents = listed(error.details?.agents, agentName);
  const uses = [
    ...(users.length > 0 ? [`people ${users.join(', ')}`] : []),
    ...(agents.length > 0 ? [`agents ${agents.join(', ')}`] : []),
  ];
  if (uses.length === 0) return error.message;
  return `${location.name} is still used by ${uses.join(' and ')}: give them other locations (Edit) first. ${error.message}`;
}

/** A stable ref callback: runs when the element appears, not at every render. */
export const focusWhenShown = (element: HTMLElement | null) => element?.focus();

type LocationForm = { name: string; timezone: string; address: string; phone: string };

const formOf = (location?: Location): LocationForm => ({
  name: location?.name ?? '',
  timezone: location?.timezone ?? (Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'),
  address: location?.address ?? '',
  phone: location?.phone ?? '',
});

/** The body of a create or a change: empty optional fields are left out (the API refuses '' for a phone). */
function bodyOf(form: LocationForm) {
  return {
    name: form.name,
    timezone: form.timezone.trim(),
    ...(form.address.trim() ? { address: form.address.trim() } : {}),
    ...(form.phone.trim() ? { phone: form.phone.trim() } : {}),
  };
}

function LocationFields({
  form,
  change,
  label,
  focus,
}: {
  form: LocationForm;
  change: (form: LocationForm) => void;
  label: string;
  /** An editor that replaced the button that opened it takes the focus. */
  focus?: boolean;
}) {
  return (
    <>
      <label>
        {label}
        <input
          ref={focus ? focusWhenShown : undefined}
          value={form.name}
          onInput={(e) => change({ ...form, name: e.currentTarget.value })}
        />
      </label>
      <label>
        Time zone
        <input value={form.timezone} onInput={(e) => change({ ...form, timezone: e.currentTarget.value })} />
        <span class="hint">An IANA name, e.g. Europe/Paris or America/New_York.</span>
      </label>
      <label>
        Address (optional)
        <input value={form.address} onInput={(e) => change({ ...form, address: e.currentTarget.value })} />
      </label>
      <label>
        Phone (optional)
        <input
          type="tel"
          value={form.phone}
          onInput={(e) => change({ ...form, phone: e.currentTarget.value })}
        />
        <span class="hint">In international form, e.g. +14155550100.</span>
      </label>
    </>
  );
}

/** Saved with If-Match; a change made meanwhile reloads the list (`stale`) instead of being overwritten. */
function EditLocation({
  location,
  done,
  stale,
  cancel,
}: {
  location: Location;
  done: (message: string) => void;
  stale: () => void;
  cancel: () => void;
}) {
  const [form, setForm] = useState(() => formOf(location));
  const save = useAction(async () => {
    const saved = await unlessChangedMeanwhile(
      () =>
        must(
          api().PATCH('/v1/locations/{id}', {
            params: { path: { id: location.id }, header: { 'If-Match': `"${location.version}"` } },
            body: bodyOf(form),
          }),
        ),
      stale,
    );
    if (saved) done(`${form.name} saved.`);
  });
  return (
    <form
      class="editor"
      aria-label={`Edit ${location.name}`}
      onSubmit={(event) => {
        event.preventDefault();
        void save.run();
      }}
    >
      <LocationFields form={form} change={setForm} label="Name" focus />
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

/**
 * The business's locations: people and agents may be limited to some. Deleting one that people or
 * agents still use is refused (409) with their names: move them first.
 */
export function LocationsSection({
  locations,
  canWrite,
  people,
}: {
  locations: Loaded<Location[]>;
  canWrite: boolean;
  people: readonly Person[];
}) {
  const [editing, setEditingNow] = useState<string | undefined>();
  const [staleNote, setStaleNote] = useState<string | undefined>();
  const setEditing = (id: string | undefined) => {
    setEditingNow(id);
    setStaleNote(undefined);
  };
  const [confirming, setConfirming] = useState<string | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const [form, setForm] = useState(() => formOf());
  const [refusal, setRefusal] = useState<string | undefined>();
  const agentName = useAgentNames();
  const add = useAction(async () => {
    const created = await must(api().POST('/v1/locations', { body: bodyOf(form) }));
    setForm(formOf());
    setDone(`${created.name} added.`);
    locations.reload();
  });
  const remove = useAction(async (location: Location) => {
    setRefusal(undefined);
    try {
      await must(api().DELETE('/v1/locations/{id}', { params: { path: { id: location.id } } }));
    } catch (error) {
      setRefusal(deletionRefusal(error, location, people, agentName));
      return;
    }
    setConfirming(undefined);
    setDone(`${location.name} deleted.`);
    locations.reload();
  });
  const list = locations.data ?? [];

  return (
    <>
      <h2>Locations</h2>
      {done ? (
        <p class="ok" role="status">
          {done}
        </p>
      ) : null}
      <ErrorNote message={locations.error} />
      {locations.loading && !locations.data ? <Loading what="the locations" /> : null}
      {locations.data && list.length === 0 ? (
        <Empty title="No locations yet.">
          <p>
            {canWrite
              ? 'A business with one site needs none. Add one per site to limit people and agents to it.'
              : 'Everyone works for the whole business.'}
          </p>
        </Empty>
      ) : null}
      {list.length > 0 ? (
        <ul class="cards">
          {list.map((location) => (
            <li class="card" key={location.id}>
              {editing === location.id ? (
                <>
                  <h3>Edit {location.name}</h3>
                  <ErrorNote message={staleNote} />
                  <EditLocation
                    key={location.version}
                    location={location}
                    cancel={() => setEditing(undefined)}
                    stale={() => {
                      setStaleNote(CHANGED_MEANWHILE);
                      locations.reload();
                    }}
                    done={(message) => {
                      setEditing(undefined);
                      setDone(message);
                      locations.reload();
                    }}
                  />
                </>
              ) : (
                <>
                  <h3>{location.name}</h3>
                  <p class="muted">
                    {location.timezone}
                    {location.address ? ` · ${location.address}` : ''}
                    {location.phone ? ` · ${location.phone}` : ''}
                  </p>
                  {canWrite && confirming === location.id ? (
                    <div>
                      <p>
                        <strong>Delete {location.name}?</strong> People and agents must not be using it.
                      </p>
                      <ErrorNote message={refusal} />
                      <div class="row">
                        <button
                          type="button"
                          class="danger"
                          ref={focusWhenShown}
                          disabled={remove.pending}
                          onClick={() => void remove.run(location)}
                        >
                          Yes, delete {location.name}
                        </button>
                        <button
                          type="button"
                          class="secondary"
                          onClick={() => {
                            setConfirming(undefined);
                            setRefusal(undefined);
                          }}
                        >
                          Cancel
                        </button>
                      </div>
                    </div>
                  ) : canWrite ? (
                    <div class="row">
                      <button type="button" class="secondary" onClick={() => setEditing(location.id)}>
                        Edit<span class="visually-hidden"> {location.name}</span>
                      </button>
                      <button
                        type="button"
                        class="secondary danger"
                        onClick={() => {
                          setDone(undefined);
                          setRefusal(undefined);
                          setConfirming(location.id);
                        }}
                      >
                        Delete<span class="visually-hidden"> {location.name}</span>
                      </button>
                    </div>
                  ) : null}
                </>
              )}
            </li>
          ))}
        </ul>
      ) : null}
      {canWrite ? (
        <form
          class="editor card"
          aria-labelledby="add-location"
          onSubmit={(event) => {
            event.preventDefault();
            void add.run();
          }}
        >
          <h3 id="add-location">Add a location</h3>
          <LocationFields form={form} change={setForm} label="Location name" />
          <ErrorNote message={add.error} />
          <button type="submit" disabled={add.pending}>
            Add location
          </button>
        </form>
      ) : null}
    </>
  );
}
