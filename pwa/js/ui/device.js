// "This phone": who is signed in, whether the phone will keep the data, updates, signing out.

import { h, mount, focusHeading, icon, fmtAgo, confirmDialog } from './dom.js';
import { storageState, askPersist, storageAdvice, formatBytes } from '../storage.js';
import { APP_VERSION } from '../version.js';
import { renameDevice } from '../session.js';
import { IDLE_LOCK_MS } from '../keyring.js';
import { ApiError } from '../api.js';

/**
 * @param {HTMLElement} root
 * @param {import('../app.js').Context} ctx
 */
export function renderDevice(root, ctx) {
  const s = ctx.session;
  const storageBox = h('div', { class: 'panel-body' }, h('p', {}, 'Checking storage…'));
  const adviceBox = h('div', { class: 'advice' });
  const updateNote = h('p', { class: 'hint', role: 'status' });
  // The sync bar's words and clock, so the two never disagree.
  const lastSynced = h('dd', { id: 'last-synced' });
  const drawLast = () => { lastSynced.textContent = fmtAgo(ctx.engine.status.lastSuccess, ctx.now()); };

  async function drawStorage() {
    const st = await storageState();
    const share = st.usage !== null && st.quota ? st.usage / st.quota : null;
    mount(storageBox,
      h('p', { class: 'hint' }, 'With persistent storage the browser keeps your records even when the phone runs low on space.'),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Persistent storage'),
        h('dd', {}, st.persisted === null ? 'Not supported here' : st.persisted ? h('span', { class: 'ok-text' }, icon('check'), 'Granted') : 'Not granted'),
        h('dt', {}, 'Space used'),
        h('dd', {}, `${formatBytes(st.usage)} of ${formatBytes(st.quota)}`,
          share !== null && share >= 0.8 ? h('strong', { class: 'bad-text' }, ' — nearly full') : null,
          share !== null ? h('span', { class: 'meter', role: 'img', 'aria-label': `${Math.round(share * 100)}% used` }, h('span', { style: `width:${Math.max(1, Math.round(share * 100))}%` })) : null)),
      st.persisted === false ? h('button', { type: 'button', class: 'btn secondary', onclick: async () => {
        const granted = await askPersist();
        ctx.toast(granted ? 'This phone will keep Beatbook’s data.' : 'The browser did not grant it. Installing Beatbook to the home screen usually helps.');
        await drawStorage();
      } }, 'Keep my records on this phone') : null);
    const advice = storageAdvice({
      ...st, lastSync: ctx.engine.status.lastSuccess, waiting: ctx.engine.status.waiting, nowMs: Date.now(),
      standalone: globalThis.matchMedia?.('(display-mode: standalone)').matches ?? false,
    });
    mount(adviceBox, advice.map((a) => h('p', { class: `notice ${a.level}` }, icon(a.level === 'warn' ? 'alert' : 'phone'), a.text)));
  }

  const signOut = async () => {
    const waiting = ctx.engine.status.waiting;
    if (waiting === 0) {
      const ok = await confirmDialog({ title: 'Sign out of this phone?', body: 'Your records are all synced. This phone’s copy is removed.', actions: [{ label: 'Cancel', value: false }, { label: 'Sign out', value: true, kind: 'primary' }] });
      if (ok) await ctx.signOut({ discard: false });
      return;
    }
    const choice = await confirmDialog({
      title: `${waiting} ${waiting === 1 ? 'record' : 'records'} not synced`,
      body: 'Their latest changes exist only on this phone. Sync first, then sign out — or discard them for good.',
      actions: [
        { label: 'Cancel', value: null },
        { label: `Discard changes to ${waiting} ${waiting === 1 ? 'record' : 'records'}`, value: 'discard', kind: 'danger' },
        { label: 'Sync and sign out', value: 'sync', kind: 'primary' },
      ],
    });
    if (choice === 'discard') await ctx.signOut({ discard: true });
    if (choice === 'sync') {
      await ctx.syncNow();
      if (ctx.engine.status.waiting === 0) await ctx.signOut({ discard: false });
      else ctx.toast(`Could not sync everything (${ctx.engine.status.waiting} ${ctx.engine.status.waiting === 1 ? 'record' : 'records'} waiting). You are still signed in.`);
    }
  };

  mount(root, h('section', { class: 'screen device' },
    h('div', { class: 'screen-head' },
      h('button', { type: 'button', class: 'btn icon-only', 'aria-label': 'Back to My log', onclick: () => ctx.navigate('#/') }, icon('back')),
      h('h1', {}, 'This phone')),
    adviceBox,
    h('section', { class: 'panel', 'aria-labelledby': 'acct-h' }, h('h2', { id: 'acct-h' }, 'Signed in'),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Officer'), h('dd', {}, `${s.displayName} (${s.username})`),
        h('dt', {}, 'Team'), h('dd', {}, s.team ? `${s.team.name} (${s.team.code})` : 'No team'),
        h('dt', {}, 'Last synced'), lastSynced),
      deviceNameEditor(ctx),
      h('p', { class: 'hint' }, `Your records on this phone are encrypted. The PIN opens them; Beatbook locks itself after ${IDLE_LOCK_MS / 60000} minutes without use.`),
      h('button', { type: 'button', class: 'btn secondary', onclick: () => void ctx.lockNow() }, 'Lock now')),
    h('section', { class: 'panel', 'aria-labelledby': 'store-h' }, h('h2', { id: 'store-h' }, 'Storage'), storageBox),
    h('section', { class: 'panel', 'aria-labelledby': 'app-h' }, h('h2', { id: 'app-h' }, 'App'),
      h('p', {}, `Version ${APP_VERSION}. Works offline once opened; new versions install in the background.`),
      h('button', { type: 'button', class: 'btn secondary', onclick: async () => {
        updateNote.textContent = 'Checking…';
        updateNote.textContent = (await ctx.checkForUpdate()) ? 'An update is ready: tap Reload in the banner.' : 'You have the latest version.';
      } }, 'Check for update'), updateNote),
    h('section', { class: 'panel', 'aria-labelledby': 'out-h' }, h('h2', { id: 'out-h' }, 'Sign out'),
      h('p', {}, 'Another officer can sign in on this phone without signing you out: they never see your records.'),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'btn secondary', onclick: () => ctx.switchUser() }, 'Switch officer'),
        h('button', { type: 'button', class: 'btn danger', onclick: signOut }, 'Sign out')))));
  void drawStorage();
  focusHeading(root);
  const unsubscribe = ctx.engine.subscribe(drawLast);
  const untick = ctx.onTick(drawLast);
  return () => { unsubscribe(); untick(); };
}

/**
 * The phone's name as supervisors see it, editable (renaming needs a signal).
 * @param {import('../app.js').Context} ctx
 */
function deviceNameEditor(ctx) {
  const note = h('p', { class: 'hint', role: 'status' });
  const input = h('input', { id: 'device-name', maxlength: 80, value: ctx.session.deviceName, autocomplete: 'off', 'aria-describedby': 'device-name-hint' });
  const button = h('button', { type: 'submit', class: 'btn secondary small' }, 'Rename');
  return h('form', { class: 'rename field', onsubmit: async (event) => {
    event.preventDefault();
    const name = input.value.trim();
    if (!name) {
      note.textContent = 'Give this phone a name.';
      return;
    }
    button.disabled = true;
    try {
      const saved = await renameDevice(ctx.db, ctx.api, ctx.session.userId, name);
      ctx.session = { ...ctx.session, deviceName: saved };
      input.value = saved;
      note.textContent = 'Renamed.';
    } catch (e) {
      note.textContent = e instanceof ApiError && e.status === 0 ? 'Renaming needs a signal. Try again when you have one.' : 'Could not rename the phone. Try again later.';
    } finally {
      button.disabled = false;
    }
  } }, h('label', { for: 'device-name' }, 'Device name'),
  h('p', { class: 'hint', id: 'device-name-hint' }, 'What supervisors see in the console.'),
  h('div', { class: 'row' }, input, button), note);
}
