// Sign-in: once per device. A revoked or expired token brings the officer back here with their
// queue untouched. Where the force signs its people in through its own identity provider, the
// first button opens that provider's page; it sends the phone back to #/sso/CODE.

import { h, mount, focusHeading, icon } from './dom.js';
import { signIn, signInHints, deviceKind, signInMethods, signInWithCode, rememberDeviceName } from '../session.js';
import { ApiError } from '../api.js';
import { signInWhy } from './syncbar.js';

/**
 * @param {HTMLElement} root
 * @param {import('../app.js').Context} ctx
 * @param {{expired?: import('../session.js').Session|null, waiting?: number, lockedOut?: boolean, error?: string}} opts
 */
export async function renderSignIn(root, ctx, opts = {}) {
  const hints = await signInHints(ctx.db);
  const methods = await signInMethods(ctx.db);
  const expired = opts.expired ?? null;
  const error = h('p', { class: 'form-error', role: 'alert', id: 'signin-error' });
  const username = h('input', { id: 'si-user', name: 'username', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true, value: expired?.username ?? hints.username });
  const password = h('input', { id: 'si-pass', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  // Blank by default: the phone is then named after the officer once signed in.
  const device = h('input', { id: 'si-device', name: 'device_name', maxlength: 80, autocomplete: 'off', value: expired?.deviceName ?? hints.deviceName });
  const kind = deviceKind(globalThis.navigator?.userAgent ?? '');
  const button = h('button', { type: 'submit', class: `btn ${methods.sso ? 'secondary' : 'primary'} block` }, methods.sso ? 'Sign in with password' : 'Sign in');
  const ssoError = h('p', { class: 'form-error', role: 'alert', id: 'sso-error' }, opts.error ?? '');

  const form = h('form', { class: 'stack', novalidate: true, 'aria-describedby': 'signin-error', onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = '';
    const values = { username: username.value.trim(), password: password.value, deviceName: device.value.trim() };
    const missing = checkMissing(values, { username, password });
    if (missing.length) {
      // Each missing field says so beside itself; the alert says them all, in plain words.
      error.textContent = missing.join(' ');
      (values.username ? password : username).focus();
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
      button.textContent = methods.sso ? 'Sign in with password' : 'Sign in';
      (e instanceof ApiError && e.code === 'bad_credentials' ? password : username).focus();
    }
  } },
  field('si-user', 'Username', username),
  field('si-pass', 'Password', password),
  field('si-device', 'Device name (optional)', device, `Left blank, it is named after you, e.g. “PC Okafor’s phone (${kind})”. Supervisors see it in the console, where a lost phone is signed out.`),
  error,
  button);

  const sso = methods.sso ? h('div', { class: 'sso stack' },
    h('button', { type: 'button', class: 'btn primary block', id: 'sso-start', onclick: async () => {
      if (!ctx.online()) {
        ssoError.textContent = 'No connection. Signing in needs a signal once; after that Beatbook works offline.';
        return;
      }
      await rememberDeviceName(ctx.db, device.value.trim());
      location.assign(methods.sso.start);
    } }, `Sign in with ${methods.sso.name}`),
    h('p', { class: 'hint' }, 'Opens your force’s sign-in page, then brings you back here.'),
    ssoError,
    methods.password ? h('p', { class: 'signin-or' }, 'Or with a Beatbook username and password:') : null) : null;
  const section = h('section', { class: 'screen signin' },
      h('div', { class: 'signin-hero' }, h('img', { src: '/icons/icon.svg', alt: '', width: 64, height: 64 }),
        h('h1', {}, expired ? 'Sign in again' : 'Sign in'),
        h('p', { class: 'lede' }, opts.lockedOut
          ? 'Too many wrong PINs. Sign in with your password to open your records again, then choose a new PIN.'
          : expired && !expired.needsSignIn
            ? 'Sign in with your password to open your records, then choose a new PIN.'
            : expired
              ? signInWhy(expired.signInReason)
          : 'Sign in once on this phone. You stay signed in and can log engagements with no signal.')),
      expired ? h('div', { class: 'notice warn', role: 'status' }, icon('alert'),
        h('p', {}, opts.waiting
          ? `${opts.waiting} ${opts.waiting === 1 ? 'record' : 'records'} not synced yet ${opts.waiting === 1 ? 'is' : 'are'} safe on this phone and will sync once you sign in.`
          : 'Nothing is lost: your records are on this phone.')) : null,
      sso ?? (opts.error ? ssoError : null),
      methods.password ? form : null,
      // Signing in needs signal; the log and the form work without it meanwhile.
      expired ? h('p', { class: 'signin-back' }, h('a', { href: '#/' }, 'Back to my log')) : null);
  mount(root, section);
  focusHeading(root);
  if (ctx.online()) {
    // The server may have changed how it signs people in: show its current buttons.
    signInMethods(ctx.db, ctx.api).then((fresh) => {
      if (section.isConnected && JSON.stringify(fresh) !== JSON.stringify(methods)) void renderSignIn(root, ctx, opts);
    }, () => {});
  }
}

/**
 * Back from the provider with a one-time code: exchange it for this phone's token.
 * @param {HTMLElement} root
 * @param {import('../app.js').Context} ctx
 * @param {string} code
 */
export async function renderSsoReturn(root, ctx, code) {
  history.replaceState(null, '', '/#/signin'); // the code is spent either way: not in history
  mount(root, h('section', { class: 'screen signin' }, h('h1', {}, 'Signing in…'),
    h('p', { class: 'lede', role: 'status' }, 'Finishing your sign-in with this phone.')));
  try {
    const session = await signInWithCode(ctx.db, ctx.api, code);
    await ctx.signedIn(session);
  } catch (e) {
    const error = e instanceof ApiError
      ? (e.status === 0 ? 'No connection. Signing in needs a signal once; try again when you have one.' : e.message)
      : 'Something went wrong. Try again.';
    const expired = ctx.session?.needsSignIn ? ctx.session : null;
    await renderSignIn(root, ctx, { expired, waiting: ctx.engine.status.waiting, error });
  }
}

const MISSING = { username: 'Enter your username.', password: 'Enter your password.' };

/**
 * Mark each empty field with its own message; return the messages, in screen order.
 * @param {{username: string, password: string, deviceName: string}} values
 * @param {{username: HTMLElement, password: HTMLElement}} inputs
 */
function checkMissing(values, inputs) {
  const empty = { username: !values.username, password: !values.password };
  const out = [];
  for (const [name, input] of Object.entries(inputs)) {
    const slot = /** @type {HTMLElement} */ (document.getElementById(`${input.id}-error`));
    slot.textContent = empty[name] ? MISSING[name] : '';
    if (empty[name]) {
      input.setAttribute('aria-invalid', 'true');
      out.push(MISSING[name]);
    } else {
      input.removeAttribute('aria-invalid');
    }
  }
  return out;
}

function field(id, label, input, hint) {
  input.setAttribute('aria-describedby', [hint ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' '));
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
    input,
    h('p', { class: 'field-error', id: `${id}-error` }));
}
