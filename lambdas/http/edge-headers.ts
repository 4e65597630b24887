/**
 * The headers CloudFront adds to the requests it forwards to the HTTP API (the console stack's
 * distribution, lib/constructs/console-hosting.ts) and the API reads (http/caller-address.ts).
 * No imports: the CDK app loads this file alone.
 */
export const EDGE_HEADERS = {
  /**
   * Proves a request came through our distribution: an origin custom header whose value is the
   * API stack's generated secret (`ORIGIN_VERIFY_SECRET_ARN`). CloudFront overwrites a viewer's own
   * header of that name, so only our distribution can send the right value.
   */
  ORIGIN_VERIFY: 'x-origin-verify',
  /**
   * The viewer's address (`event.viewer.ip`: a bare IPv4 or IPv6 address), set by the
   * distribution's viewer-request function over any value the viewer sent. Believed only with
   * ORIGIN_VERIFY right.
   */
  VIEWER_ADDRESS: 'x-viewer-address',
} as const;
