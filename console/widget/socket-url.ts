/** What the platform's `/config.json` may say (the AWS deployment writes `wsUrl`; local mode has none). */
export interface PlatformConfig {
  readonly wsUrl?: unknown;
  readonly apiUrl?: unknown;
}

/**
 * Where the widget's socket goes (before its `?key=`): the tag's `data-ws`; else the `wsUrl` of
 * config.json beside the script (on AWS the WebSocket API has its own URL); else `/v1/ws` on the
 * platform: the tag's `data-api`, config.json's `apiUrl` or the script's own origin (locally). A
 * config.json value that is not a URL of the right scheme is ignored.
 */
export function socketUrl(
  tag: { readonly ws?: string | undefined; readonly api?: string | undefined },
  scriptOrigin: string,
  config: PlatformConfig | undefined,
): URL {
  const valid = (value: unknown, scheme: RegExp) => {
    try {
      return typeof value === 'string' && scheme.test(new URL(value).protocol) ? value : undefined;
    } catch {
      return undefined;
    }
  };
  const ws = tag.ws ?? valid(config?.wsUrl, /^wss?:$/);
  if (ws) return new URL(ws);
  const platform = tag.api ?? valid(config?.apiUrl, /^https?:$/) ?? scriptOrigin;
  return new URL('/v1/ws', platform.replace(/^http/, 'ws'));
}
