// The PIN screens: choose one (first sign-in here, after a lock-out, or protecting a queue from
// before 1.3.0) and enter it (opening the app, or after IDLE_LOCK_MS without a touch).

import { h, mount, focusHeading, icon } from './dom.js';
import { pinProblem, setPin, unlockWithPin, PIN_MIN, MAX_PIN_TRIES } from '../keyring.js';
import { keyFor } from '../sealed.js';
import { protectOldQueue } from '../lock.js';

/**
 * @param {HTMLElement} root
 * @param {import('../app.js').Context} ctx
 * @param {{mode: 'choose'|'unlock'|'upgrade'}} opts
 */
export function renderPin(root, ctx, opts) {
  const s = ctx.session;
  const choosing = opts.mode !== 'unlock';
  const error = h('p', { class: 'form-error', role: 'alert', id: 'pin-error' });
  const attrs = (id) => ({ id, type: 'password', inputmode: 'numeric', autocomplete: choosing ? 'new-password' : 'current-password', maxlength: 64, required: true, 'aria-describedby': 'pin-hint pin-error' });
  const pin = h('input', attrs('pin'));
  const again = choosing ? h('input', attrs('pin-again')) : null;
  const button = h('button', { type: 'submit', class: 'btn primary block' }, choosing ? 'Set PIN' : 'Unlock');

  const fail = (text) => {
    error.textContent = text;
    button.disabled = false;
    button.textContent = choosing ? 'Set PIN' : 'Unlock';
    pin.focus();
  };

  const onsubmit = async (event) => {
    event.preventDefault();
    error.textContent = '';
    const value = pin.value;
    if (choosing) {
      const problem = pinProblem(value);
      if (problem) return fail(problem);
      if (again && again.value !== value) return fail('The two PINs differ. Type the same PIN twice.');
    } else if (!value) {
      return fail('Enter your PIN.');
    }
    button.disabled = true;
    button.textContent = choosing ? 'Protecting…' : 'Opening…';
    if (choosing) {
      if (opts.mode === 'upgrade') await protectOldQueue(ctx.db, s.userId, value);
      else await setPin(ctx.db, s.userId, keyFor(s.userId), value);
      pin.value = '';
      if (again) again.value = '';
      await ctx.unlocked('PIN set. Your records on this phone are encrypted.');
      return;
    }
    const result = await unlockWithPin(ctx.db, s.userId, value);
    pin.value = '';
    if (result.ok) return ctx.unlocked('');
    if (result.left > 0) return fail(`Wrong PIN. ${result.left} ${result.left === 1 ? 'try' : 'tries'} left.`);
    ctx.navigate('#/signin');
  };

  mount(root, h('section', { class: 'screen signin pin' },
    h('div', { class: 'signin-hero' }, h('img', { src: '/icons/icon.svg', alt: '', width: 64, height: 64 }),
      h('h1', {}, choosing ? 'Choose a PIN' : 'Enter your PIN'),
      h('p', { class: 'lede' }, choosing
        ? 'Your records on this phone are kept encrypted. This PIN opens them, also with no signal.'
        : `Beatbook is locked. ${s.displayName}, enter your PIN to open your records.`)),
    opts.mode === 'upgrade' ? h('div', { class: 'notice info', role: 'status' }, icon('phone'),
      h('p', {}, 'This version encrypts the records kept on this phone. Choose a PIN to protect the ones already here: nothing is lost.')) : null,
    h('form', { class: 'stack', novalidate: true, onsubmit },
      h('div', { class: 'field' }, h('label', { for: 'pin' }, 'PIN'),
        h('p', { class: 'hint', id: 'pin-hint' }, choosing
          ? `At least ${PIN_MIN} digits, not a run like 123456. Not your password.`
          : `After ${MAX_PIN_TRIES} wrong PINs you sign in again with your password; your records are kept.`),
        pin),
      again ? h('div', { class: 'field' }, h('label', { for: 'pin-again' }, 'PIN again'), again) : null,
      error, button),
    choosing ? null : h('p', { class: 'signin-back' }, h('a', { href: '#/signin' }, 'Forgot your PIN? Sign in again'))));
  focusHeading(root);
}
