import { useState } from 'preact/hooks';
import { api, must } from '../api/client';
import { Copyable } from '../copy';
import { ErrorNote, Loading, Page, useAction, useLoad } from '../ui';

/**
 * The signed-in user's own account security: whether sign-in asks for an authenticator code
 * (GET /v1/me `mfa.totp`), turning it on (enrol, then confirm with a code) and off (the password
 * and a current code). Each step asks for the password again: the API changes MFA only after a
 * fresh sign-in (Cognito needs it), never with the console's token alone.
 */
export function AccountPage() {
  const me = useLoad(() => must(api().GET('/v1/me')), []);
  const [done, setDone] = useState<string | undefined>();
  return (
    <Page title="Your account">
      {me.loading && !me.data ? <Loading what="your account" /> : null}
      <ErrorNote message={me.error} />
      {done ? (
        <p class="ok" role="status">
          {done}
        </p>
      ) : null}
      {me.data ? (
        <>
          <p>
            Signed in as <strong>{me.data.email}</strong> ({me.data.role}).
          </p>
          <div class="card">
            <h2>Two-step sign-in</h2>
            <p id="mfa-state">
              {me.data.mfa.totp
                ? 'On: signing in asks for a code from your authenticator app.'
                : 'Off: signing in asks for your password only.'}
            </p>
            {me.data.mfa.totp ? (
              <TurnOff
                onDone={() => {
                  setDone('Two-step sign-in is off. To use a new authenticator app, turn it on again below.');
                  me.reload();
                }}
              />
            ) : (
              <TurnOn
                email={me.data.email}
                onDone={() => {
                  setDone(
                    'Two-step sign-in is on: next time you sign in, have your authenticator app ready.',
                  );
                  me.reload();
                }}
              />
            )}
          </div>
        </>
      ) : null}
    </Page>
  );
}

function TurnOn({ email, onDone }: { email: string; onDone: () => void }) {
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [enrolment, setEnrolment] = useState<{ secretCode: string; otpauthUri: string } | undefined>();
  const start = useAction(async () => {
    setEnrolment(await must(api().POST('/v1/auth/mfa/totp', { body: { email, password } })));
  });
  const confirm = useAction(async () => {
    await must(api().POST('/v1/auth/mfa/totp/verify', { body: { email, password, code: code.trim() } }));
    onDone();
  });
  if (!enrolment) {
    return (
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void start.run();
        }}
      >
        <p>Add an authenticator app (any TOTP app) so that signing in also asks for a code from it.</p>
        <PasswordField value={password} change={setPassword} />
        <ErrorNote message={start.error} />
        <button type="submit" disabled={start.pending}>
          {start.pending ? 'Starting…' : 'Set up an authenticator app'}
        </button>
      </form>
    );
  }
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        void confirm.run();
      }}
    >
      <p>
        In your authenticator app, add an account with this key (or open the link on a device that has the
        app), then enter the code it shows.
      </p>
      <p>Key:</p>
      <Copyable text={enrolment.secretCode} label="Copy the key" />
      <p>
        <a href={enrolment.otpauthUri}>Open in an authenticator app</a>, or copy the link:
      </p>
      <Copyable text={enrolment.otpauthUri} label="Copy the otpauth link" />
      <CodeField label="Code from your authenticator app" value={code} change={setCode} />
      <ErrorNote message={confirm.error} />
      <button type="submit" disabled={confirm.pending}>
        {confirm.pending ? 'Checking…' : 'Turn on two-step sign-in'}
      </button>
    </form>
  );
}

function TurnOff({ onDone }: { onDone: () => void }) {
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const turnOff = useAction(async () => {
    await must(api().DELETE('/v1/auth/mfa/totp', { body: { password, code: code.trim() } }));
    onDone();
  });
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        void turnOff.run();
      }}
    >
      <p>
        To remove or replace your authenticator app, turn two-step sign-in off with a current code, then turn
        it on again with the new app. Lost the app? Ask an owner or admin of your business to reset it.
      </p>
      <PasswordField value={password} change={setPassword} />
      <CodeField label="Current code from your authenticator app" value={code} change={setCode} />
      <ErrorNote message={turnOff.error} />
      <button type="submit" class="danger" disabled={turnOff.pending}>
        {turnOff.pending ? 'Turning off…' : 'Turn off two-step sign-in'}
      </button>
    </form>
  );
}

function PasswordField(props: { value: string; change: (value: string) => void }) {
  return (
    <label>
      Your password
      <input
        type="password"
        value={props.value}
        onInput={(e) => props.change(e.currentTarget.value)}
        required
        autocomplete="current-password"
      />
    </label>
  );
}

/** A six-digit code from the authenticator app. */
function CodeField(props: { label: string; value: string; change: (value: string) => void }) {
  return (
    <label>
      {props.label}
      <input
        inputMode="numeric"
        autocomplete="one-time-code"
        pattern="[0-9]{6}"
        value={props.value}
        onInput={(e) => props.change(e.currentTarget.value)}
        required
      />
    </label>
  );
}
