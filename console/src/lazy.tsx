import type { ComponentType, JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ErrorNote, Loading } from './ui';

/**
 * A component whose code is its own chunk, fetched the first time it is shown (as the provisioning
 * form is): the first load carries only what signing in and the agents list need. Meanwhile it says
 * `Loading <what>…`; if the chunk cannot be fetched (offline, or a newer deployment replaced it),
 * it says so in words. A failed fetch is tried again the next time the component is shown.
 */
export function lazy<P extends object>(
  load: () => Promise<ComponentType<P>>,
  what: string,
): (props: P) => JSX.Element {
  let loaded: ComponentType<P> | undefined;
  let loading: Promise<ComponentType<P>> | undefined;
  const failure = `${what.charAt(0).toUpperCase()}${what.slice(1)} could not be loaded: check your connection and reload the page.`;
  return function Lazy(props: P) {
    const [component, setComponent] = useState<ComponentType<P> | undefined>(() => loaded);
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      if (loaded) return;
      let shown = true;
      loading ??= load().then(
        (found) => {
          loaded = found;
          return found;
        },
        (error: unknown) => {
          loading = undefined;
          throw error;
        },
      );
      loading.then(
        (found) => shown && setComponent(() => found),
        () => shown && setFailed(true),
      );
      return () => {
        shown = false;
      };
    }, []);
    const Component = component;
    if (Component) return <Component {...props} />;
    return failed ? <ErrorNote message={failure} /> : <Loading what={what} />;
  };
}
