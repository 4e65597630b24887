import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  /** The form body as sent (application/x-www-form-urlencoded). */
  readonly form: URLSearchParams;
}

/**
 * A stand-in for api.stripe.com's PaymentIntents endpoint, as Stripe behaves: form-encoded
 * requests, `Authorization: Bearer <secret key>`, and `Idempotency-Key` — the same key answers
 * the first response again and creates nothing. Queued failures (`failNext`) answer with
 * Stripe's error shape instead, without remembering the key.
 */
export class StripeStub {
  readonly requests: StubRequest[] = [];
  readonly intents = new Map<string, Record<string, unknown>>();
  private readonly byKey = new Map<string, { status: number; body: string }>();
  private readonly failures: {
    status: number;
    error: Record<string, unknown>;
    headers?: Record<string, string>;
  }[] = [];
  private server?: Server;
  url = '';
  /** Status new PaymentIntents are created with. */
  createStatus = 'requires_payment_method';

  constructor(private readonly secretKey: string) {}

  failNext(status: number, error: Record<string, unknown>, headers?: Record<string, string>): void {
    this.failures.push({ status, error, ...(headers ? { headers } : {}) });
  }

  async start(): Promise<string> {
    let counter = 0;
    this.server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const request = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, form };
      this.requests.push(request);
      const send = (status: number, body: string, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(body);
      };
      if (req.headers.authorization !== `Bearer ${this.secretKey}`) {
        return send(
          401,
          JSON.stringify({ error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } }),
        );
      }
      const failure = this.failures.shift();
      if (failure) return send(failure.status, JSON.stringify({ error: failure.error }), failure.headers);
      if (req.method !== 'POST' || req.url !== '/v1/payment_intents') {
        return send(
          404,
          JSON.stringify({ error: { type: 'invalid_request_error', message: 'Unrecognized request URL' } }),
        );
      }
      const key = String(req.headers['idempotency-key'] ?? '');
      const earlier = key ? this.byKey.get(key) : undefined;
      if (earlier) return send(earlier.status, earlier.body, { 'idempotent-replayed': 'true' });
      const id = `pi_stub${++counter}${Date.now()}`;
      const metadata: Record<string, string> = {};
      for (const [name, value] of form) {
        const match = /^metadata\[(.+)\]$/.exec(name);
        if (match?.[1]) metadata[match[1]] = value;
      }
      const intent = {
        id,
        object: 'payment_intent',
        amount: Number(form.get('amount')),
        currency: form.get('currency'),
        description: form.get('description'),
        metadata,
        status: this.createStatus,
        client_secret: `${id}_secret_stub`,
        last_payment_error: null,
      };
      this.intents.set(id, intent);
      const body = JSON.stringify(intent);
      if (key) this.byKey.set(key, { status: 200, body });
      return send(200, body);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The event Stripe would post to the webhook for an intent. */
  event(type: string, intentId: string, extra: Record<string, unknown> = {}): string {
    const intent = {
      ...(this.intents.get(intentId) ?? { id: intentId, object: 'payment_intent' }),
      ...extra,
    };
    return JSON.stringify({
      id: `evt_${intentId}_${type}`,
      object: 'event',
      type,
      api_version: '2024-06-20',
      created: Math.floor(Date.now() / 1000),
      data: { object: intent },
    });
  }
}
