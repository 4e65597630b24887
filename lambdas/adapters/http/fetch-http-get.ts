import type { HttpGetPort } from '../../domain/tools/registry';
import { ToolError } from '../../domain/tools/registry';

/** The `http_request` tool's way out: GET only, no redirects (they could leave the allow-list), bounded. */
export class FetchHttpGet implements HttpGetPort {
  async get(url: URL, options: { timeoutMs: number; maxBytes: number }) {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'GET',
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs),
        headers: {
          accept: 'application/json, text/plain;q=0.9, */*;q=0.5',
          'user-agent': 'agent-platform/1.0',
        },
      });
    } catch (error) {
      throw new ToolError(
        (error as Error).name === 'TimeoutError'
          ? `no answer within ${options.timeoutMs} ms`
          : `request failed: ${(error as Error).message}`,
      );
    }
    const reader = response.body?.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    while (reader && size < options.maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
    await reader?.cancel().catch(() => undefined);
    const body = Buffer.concat(chunks).subarray(0, options.maxBytes).toString('utf8');
    return { status: response.status, contentType: response.headers.get('content-type') ?? '', body };
  }
}
