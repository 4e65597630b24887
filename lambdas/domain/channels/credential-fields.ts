/**
 * What a business gives for each channel, and where it finds it: the credential fields each
 * provider needs and the address it is reached at. One source for the API (the validation in
 * `settings.ts`, the request schemas' descriptions in `../provisioning/model.ts`, hence OpenAPI)
 * and the console's forms, which import this file — so it imports nothing.
 */

/** Credential fields by channel type, each with where the business finds its value. All are secrets. */
export const CHANNEL_CREDENTIALS = {
  sms: {
    accountSid: 'Twilio Console → Account Info: the Account SID (starts with AC)',
    authToken: 'Twilio Console → Account Info: the Auth Token (click to reveal)',
  },
  whatsapp: {
    accountSid: 'Twilio Console → Account Info: the Account SID (starts with AC)',
    authToken: 'Twilio Console → Account Info: the Auth Token (click to reveal)',
  },
  slack: {
    botToken: 'api.slack.com/apps → your app → OAuth & Permissions: the Bot User OAuth Token (xoxb-…)',
    signingSecret: 'api.slack.com/apps → your app → Basic Information → App Credentials: the Signing Secret',
  },
  telegram: {
    botToken:
      'The token @BotFather gave when you created the bot (send /token to @BotFather to see it again)',
  },
  messenger: {
    pageAccessToken:
      'Meta for Developers → your app → Messenger → Settings → Access Tokens: the Page access token',
    appSecret: 'Meta for Developers → your app → App settings → Basic: the App secret',
    verifyToken:
      'A phrase you choose; enter the same one as the Verify token in the app’s Messenger webhook settings',
  },
  instagram: {
    pageAccessToken:
      'Meta for Developers → your app → Instagram → API setup: the access token of the Page linked to the account',
    appSecret: 'Meta for Developers → your app → App settings → Basic: the App secret',
    verifyToken:
      'A phrase you choose; enter the same one as the Verify token in the app’s Instagram webhook settings',
  },
  email: {},
  voice: {},
} as const satisfies Readonly<Record<string, Readonly<Record<string, string>>>>;

export type CredentialChannel = keyof typeof CHANNEL_CREDENTIALS;

/** The credential field names of a channel type, in the order a form shows them. */
export function credentialFieldsOf(type: CredentialChannel): readonly string[] {
  return Object.keys(CHANNEL_CREDENTIALS[type]);
}

/**
 * The address a business gives per channel type (absent: the platform makes it — Telegram's
 * channel key, a voice number claimed by provisioning): what it is, whether provisioning needs
 * it, and where the business finds it.
 */
export const CHANNEL_ADDRESSES: Readonly<
  Partial<
    Record<CredentialChannel, { readonly label: string; readonly required: boolean; readonly help: string }>
  >
> = {
  sms: {
    label: 'Twilio phone number',
    required: true,
    help: 'The number in that Twilio account, in E.164 form such as +14155550100 (Twilio Console → Phone Numbers → Active numbers)',
  },
  whatsapp: {
    label: 'WhatsApp sender number',
    required: true,
    help: 'The WhatsApp-enabled sender in that Twilio account, in E.164 form (Twilio Console → Messaging → Senders → WhatsApp senders)',
  },
  slack: {
    label: 'Slack team id',
    required: false,
    help: 'Optional: the workspace id (T…); the bot token’s workspace is found otherwise',
  },
  messenger: {
    label: 'Facebook Page id',
    required: true,
    help: 'The Page’s numeric id (the Page → About → Page transparency, or Meta Business Suite → Settings → Business assets)',
  },
  instagram: {
    label: 'Instagram account id',
    required: true,
    help: 'The numeric id of the Instagram professional account (Meta Business Suite → Settings → Instagram accounts)',
  },
  email: {
    label: 'Mailbox',
    required: true,
    help: 'The address customers write to, such as help@shop.example; its domain is verified with Amazon SES',
  },
};
