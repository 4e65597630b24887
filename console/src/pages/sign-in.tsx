import { useState } from 'preact/hooks';
import { api, must } from '../api/client';
import { navigate } from '../router';
import { sessionEndReason, signIn } from '../session';
import { ErrorNote, useAction } from '../ui';

/** Sign in (POST /v1/auth/login) or register a business and its owner (POST /v1/auth/register). */
export function SignInPage({ mode }: { mode: 'sign-in' | 'register' }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [business, setBusiness] = useState('');
  const [challenge, setChallenge] = useState<{ kind: string; session: string } | undefined>();
  const [code, setCode] = useState('');

  const submit = useAction(async () => {
    if (mode === 'register') {
      const registered = await must(
        api().POST('/v1/auth/register', {
          body: { tenant: { name: business }, owner: { email, password, name } },
        }),
      );
      signIn({ token: registered.auth.token, email });
      navigate('/agents');
      return;
    }
    const login = await must(api().POST('/v1/auth/login', { body: { email, password } }));
    if ('token' in login) {
      signIn({ token: login.token, email });
      navigate('/agents');
    } else {
      setChallenge({ kind: login.challenge, session: login.session });
    }
  });

  const answer = useAction(async () => {
    if (!challenge) return;
    const result = await must(
      api().POST('/v1/auth/login/challenge', {
        body: {
          email,
          session: challenge.session,
          challenge: challenge.kind as 'SOFTWARE_TOKEN_MFA' | 'SMS_MFA' | 'NEW_PASSWORD_REQUIRED',
          ...(challenge.kind === 'NEW_PASSWORD_REQUIRED' ? { newPassword: code } : { code }),
        },
      }),
    );
    if ('token' in result) {
      signIn({ token: result.token, email });
      navigate('/agents');
    }
  });

  if (challenge) {
    return (
      <main class="auth">
        <h1>Confirm it is you</h1>
        <form
          onSubmit={(event) => {
            event.preventDefault();
            void answer.run();
          }}
        >
          <label for="challenge-answer">
            {challenge.kind === 'NEW_PASSWORD_REQUIRED' ? 'New password' : 'Code from your authenticator app'}
          </label>
          {challenge.kind === 'NEW_PASSWORD_REQUIRED' ? (
            <input
              id="challenge-answer"
              type="password"
              value={code}
              onInput={(e) => setCode(e.currentTarget.value)}
              required
              autocomplete="new-password"
            />
          ) : (
            <input
              id="challenge-answer"
              inputMode="numeric"
              value={code}
              onInput={(e) => setCode(e.currentTarget.value)}
              required
              autocomplete="one-time-code"
            />
          )}
          <ErrorNote message={answer.error} />
          <button type="submit" disabled={answer.pending}>
            {answer.pending ? 'Checking…' : 'Continue'}
          </button>
        </form>
      </main>
    );
  }

  const registering = mode === 'register';
  return (
    <main class="auth">
      <h1>{registering ? 'Register your business' : 'Sign in'}</h1>
      {!registering && sessionEndReason() ? (
        <p class="notice" role="status">
          {sessionEndReason()}
        </p>
      ) : null}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void submit.run();
        }}
      >
        {registering ? (
          <>
            <label>
              Business name
              <input value={business} onInput={(e) => setBusiness(e.currentTarget.value)} required />
            </label>
            <label>
              Your name
              <input
                value={name}
                onInput={(e) => setName(e.currentTarget.value)}
                required
                autocomplete="name"
              />
            </label>
          </>
        ) : null}
        <label>
          Email
          <input
            type="email"
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
            required
            autocomplete="email"
          />
        </label>
        <label>
          Password
          <input
            type="password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            required
            autocomplete={registering ? 'new-password' : 'current-password'}
          />
        </label>
        {registering ? (
          <p class="hint">
            At least 12 characters, with a lower-case letter, an upper-case letter and a digit.
          </p>
        ) : null}
        <ErrorNote message={submit.error} />
        <button type="submit" disabled={submit.pending}>
          {submit.pending ? 'Please wait…' : registering ? 'Register' : 'Sign in'}
        </button>
      </form>
      <p>
        {registering ? (
          <>
            Already registered? <a href="#/sign-in">Sign in</a>
          </>
        ) : (
          <>
            New here? <a href="#/register">Register your business</a>
          </>
        )}
      </p>
    </main>
  );
}
