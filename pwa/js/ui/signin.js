// Sign-in: once per device. A revoked or expired token brings the officer back here with their
// queue untouched.

import { h, mount, focusHeading, icon } from './dom.js';
import { signIn, signInHints } from '../session.js';
import { ApiError } from '../api.js';

/**
 * @param {HTMLElement} root
 * @param {import('../app.js').Context} ctx
 * @param {{expired?: import('../session.js').Session|null, waiting?: number}} opts
 */
export async function renderSignIn(root, ctx, opts = {}) {
  const hints = await signInHints(ctx.db);
  const expired = opts.expired ?? null;
  const error = h('p', { class: 'form-error', role: 'alert', id: 'signin-error' });
  const username = h('input', { id: 'si-user', name: 'username', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true, value: expired?.username ?? hints.username });
  const password = h('input', { id: 'si-pass', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const device = h('input', { id: 'si-device', name: 'device_name', required: true, maxlength: 80, value: expired?.deviceName ?? (hints.deviceName || defaultDeviceName()) });
  const button = h('button', { type: 'submit', class: 'btn primary block' }, 'Sign in');

  const form = h('form', { class: 'stack', novalidate: true, 'aria-describedby': 'signin-error', onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = '';
    const values = { username: username.value.trim(), password: password.value, deviceName: device.value.trim() };
    const missing = [['Username', values.username], ['Password', values.password], ['Device name', values.deviceName]].filter(([, v]) => !v).map(([n]) => n);
    if (missing.length) {
      error.textContent = `Enter your ${missing.join(', ').toLowerCase()}.`;
      return;
    }
    button.disabled = true;
    button.textContent = 'Signing in…';
    try {
      const session = await signIn(ctx.db, ctx.api, values);
      password.value = '';
      await ctx.signedIn(session);
    } catch (e) {
      error.textContent = e instanceof ApiError
        ? (e.status === 0 ? 'No connection. Signing in needs a signal once; after that Beatbook works offline.' : e.message)
        : 'Something went wrong. Try again.';
      button.disabled = false;
      button.textContent = 'Sign in';
      (e instanceof ApiError && e.code === 'bad_credentials' ? password : username).focus();
    }
  } },
  field('si-user', 'Username', username),
  field('si-pass', 'Password', password),
  field('si-device', 'Device name', device, 'So you can sign this phone out from the console if it is lost.'),
  error,
  button);

  mount(root,
    h('section', { class: 'screen signin' },
      h('div', { class: 'signin-hero' }, h('img', { src: '/icons/icon.svg', alt: '', width: 64, height: 64 }),
        h('h1', {}, expired ? 'Sign in again' : 'Sign in'),
        h('p', { class: 'lede' }, expired
          ? 'Your sign-in on this phone has ended.'
          : 'Sign in once on this phone. You stay signed in and can log engagements with no signal.')),
      expired ? h('div', { class: 'notice warn', role: 'status' }, icon('alert'),
        h('p', {}, opts.waiting
          ? `${opts.waiting} unsynced ${opts.waiting === 1 ? 'change is' : 'changes are'} safe on this phone and will sync once you sign in.`
          : 'Nothing is lost: your records are on this phone.')) : null,
      form,
      // Signing in needs signal; the log and the form work without it meanwhile.
      expired ? h('p', { class: 'signin-back' }, h('a', { href: '#/' }, 'Back to my log')) : null));
  focusHeading(root);
}

function field(id, label, input, hint) {
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
    hint ? (input.setAttribute('aria-describedby', `${id}-hint`), input) : input);
}

function defaultDeviceName() {
  const ua = globalThis.navigator?.userAgent ?? '';
  if (/iPhone/.test(ua)) return 'iPhone';
  if (/Android/.test(ua)) return 'Android phone';
  return 'Phone';
}
