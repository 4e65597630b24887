import { useEffect, useState } from 'preact/hooks';

/**
 * Hash routes (#/agents, #/agents/agt_…): the console is static files, so any host (local
 * server, S3 behind CloudFront) serves it without rewrite rules.
 */
export interface Route {
  readonly path: string;
  readonly segments: readonly string[];
  readonly query: URLSearchParams;
}

function current(): Route {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path = '/', search = ''] = hash.split('?');
  return { path, segments: path.split('/').filter(Boolean), query: new URLSearchParams(search) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const changed = () => setRoute(current());
    addEventListener('hashchange', changed);
    // A navigate() during the first render can fire its hashchange before this listener exists.
    changed();
    return () => removeEventListener('hashchange', changed);
  }, []);
  return route;
}

export function navigate(path: string): void {
  location.hash = path;
}
