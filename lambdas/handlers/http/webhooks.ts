import { createHttpHandler } from '../../http/http-handler';
import { WEBHOOK_ROUTES } from '../../http/routes/webhooks';

/** An empty TwiML document: Twilio sends nothing itself; the agent's reply follows through the API. */
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';
const twiml = () => ({ raw: { contentType: 'text/xml', body: EMPTY_TWIML } });

// TODO(inbound): wired to the pipeline in the next commits (composition/inbound.ts).
export const handler = createHttpHandler(
  WEBHOOK_ROUTES,
  {
    'POST /v1/webhooks/twilio/sms': async () => twiml(),
    'POST /v1/webhooks/twilio/whatsapp': async () => twiml(),
    'POST /v1/webhooks/twilio/status': async () => twiml(),
  },
  { maxBodyBytes: 256 * 1024 },
);
