// The app's entry: opens the database, wires the sync engine and the service worker, and routes
// between screens (#/ My log, #/new, #/edit/ID, #/device, #/signin, #/sso/CODE).

import { openDb } from './db.js';
import { createApi } from './api.js';
import { SyncEngine, uuid } from './sync.js';
import { writeChange, snapshotRecord, restoreSnapshot, serverMayHold } from './outbox.js';
import { cachedSchema, refreshSchema } from './schema.js';
import { currentSession, markNeedsSignIn, forget, switchUser } from './session.js';
import { hasKey } from './sealed.js';
import { lock, touch, idleExpired } from './keyring.js';
import { lockState, afterUnlock } from './lock.js';
import { askPersist, storageState, storageAdvice } from './storage.js';
import { APP_VERSION } from './version.js';
import { h, mount, icon } from './ui/dom.js';
import { renderSignIn, renderSsoReturn } from './ui/signin.js';
import { renderLog } from './ui/log.js';
import { renderForm, notDeletedText } from './ui/form.js';
import { renderDevice } from './ui/device.js';
import { renderPin } from './ui/pin.js';
import { renderSyncBar, blockedReason, signInWhy } from './ui/syncbar.js';

/**
 * @typedef {Object} Context what every screen gets
 * @property {IDBDatabase} db
 * @property {ReturnType<typeof createApi>} api
 * @property {SyncEngine} engine
 * @property {import('./session.js').Session} session
 * @property {import('./schema.js').Schema|null} schema
 * @property {(hash: string) => void} navigate
 * @property {(message: string, action?: {label: string, run: () => void}) => void} toast
 * @property {() => number} now the app's one clock for "… min ago" (moves on each tick)
 * @property {(fn: (nowMs: number) => void) => () => void} onTick subscribe to that clock
 * @property {(fn: () => void) => () => void} onData subscribe to "records changed"
 * @property {(id: string|null, data: Object<string, any>) => Promise<void>} saveRecord
 * @property {(id: string) => Promise<void>} deleteRecord removes it now, with Undo for a few seconds
 * @property {(id: string) => Promise<boolean>} onServer whether the server may hold the record
 * @property {() => Promise<void>} syncNow
 * @property {(s: import('./session.js').Session) => Promise<void>} signedIn
 * @property {(o: {discard: boolean}) => Promise<void>} signOut
 * @property {() => Promise<void>} switchUser
 * @property {() => Promise<boolean>} checkForUpdate
 * @property {(message: string) => Promise<void>} unlocked the PIN opened the key (or set it)
 * @property {() => Promise<void>} lockNow forget the key until the PIN is entered again
 * @property {() => boolean} online
 */

const BG_SYNC_TAG = 'beatbook-sync';
const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const bar = /** @type {HTMLElement} */ (document.getElementById('syncbar'));
const banners = /** @type {HTMLElement} */ (document.getElementById('banners'));
const toastEl = /** @type {HTMLElement} */ (document.getElementById('toast'));
const who = /** @type {HTMLElement} */ (document.getElementById('who'));

/** @type {ServiceWorkerRegistration|null} */
let registration = null;
let reloading = false;
let screenCleanup = () => {};
let barCleanup = null;
let renderToken = 0;
const dataListeners = new Set();

/** @type {Context} */
const ctx = /** @type {any} */ ({});

function banner(key, text, action) {
  banners.querySelector(`[data-key="${key}"]`)?.remove();
  if (!text) return;
  banners.append(h('div', { class: `banner banner-${key}`, dataset: { key }, role: key === 'update' ? 'status' : 'alert' },
    icon(key === 'update' ? 'sync' : 'alert'),
    h('p', {}, text),
    action ? h('button', { type: 'button', class: 'btn small banner-action', onclick: action.run }, action.label) : null));
}

let toastTimer = null;
/** A short message over the sync bar (never over the log's cards), with an optional action. */
function toast(message, action) {
  mount(toastEl, h('span', { class: 'toast-text' }, message),
    action ? h('button', { type: 'button', class: 'btn small toast-action', onclick: () => {
      toastEl.classList.remove('show');
      action.run();
    } }, action.label) : null);
  toastEl.classList.add('show');
  toastEl.classList.toggle('has-action', Boolean(action));
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => toastEl.classList.remove('show'), action ? UNDO_MS : 4000);
}

/** How long Undo is offered after a delete; the delete is not sent before it has passed. */
const UNDO_MS = 6000;

// One clock for every "synced N min ago" on screen, so two screens never disagree.
let tickNow = Date.now();
const tickListeners = new Set();
setInterval(() => {
  tickNow = Date.now();
  for (const fn of tickListeners) fn(tickNow);
}, 15_000);

/** "Saved." when it will reach the server, else where it is and why it waits. */
function savedText(what) {
  const why = blockedReason(ctx.engine.status, navigator.onLine, ctx.session);
  return why ? `${what} on this phone. ${why}` : `${what}.`;
}

function emitData() {
  for (const fn of dataListeners) fn();
}

function requestBackgroundSync() {
  // Background Sync is a bonus where it exists (Chromium); the app never relies on it.
  const sync = /** @type {any} */ (registration)?.sync;
  if (sync?.register) sync.register(BG_SYNC_TAG).catch(() => {});
}

async function route() {
  const token = ++renderToken;
  screenCleanup();
  screenCleanup = () => {};
  const hash = location.hash || '#/';
  const s = ctx.session;
  who.textContent = s ? (s.team?.code ?? s.username) : '';
  document.getElementById('device-btn').hidden = !s;
  let cleanup;
  // Locked: the PIN (or a password sign-in) before anything of the officer's is shown.
  const state = s ? await lockState(ctx.db, s) : 'open';
  if (token !== renderToken) return;
  const renew = hash === '#/signin' && (s?.needsSignIn || state !== 'open');
  if (s && state === 'open' && !renew) authBanner();
  else banner('auth', '');
  if (hash.startsWith('#/sso/')) {
    // Back from the force's sign-in page (server/oidc/views.py) with a one-time code.
    showBar(false);
    banner('auth', '');
    cleanup = await renderSsoReturn(main, ctx, decodeURIComponent(hash.slice(6)));
  } else if (!s) {
    showBar(false);
    cleanup = await renderSignIn(main, ctx, {});
  } else if (renew || state === 'signin') {
    showBar(false);
    banner('auth', ''); // the screen itself says it
    cleanup = await renderSignIn(main, ctx, { expired: s, waiting: state === 'open' ? ctx.engine.status.waiting : undefined, lockedOut: state === 'signin' });
  } else if (state !== 'open') {
    showBar(false);
    cleanup = renderPin(main, ctx, { mode: state });
  } else if (hash === '#/new' || hash.startsWith('#/edit/')) {
    showBar(false);
    cleanup = await renderForm(main, ctx, { id: hash.startsWith('#/edit/') ? decodeURIComponent(hash.slice(7)) : undefined });
  } else if (hash === '#/device') {
    showBar(true);
    cleanup = renderDevice(main, ctx);
  } else {
    showBar(true);
    cleanup = await renderLog(main, ctx);
  }
  if (token !== renderToken) {
    if (typeof cleanup === 'function') cleanup();
    return;
  }
  screenCleanup = typeof cleanup === 'function' ? cleanup : () => {};
  window.scrollTo(0, 0);
}

function showBar(visible) {
  document.body.classList.toggle('has-bar', visible);
  if (visible && !barCleanup) barCleanup = renderSyncBar(bar, ctx);
  if (!visible && barCleanup) {
    barCleanup();
    barCleanup = null;
    bar.hidden = true;
  }
}

function authBanner() {
  const s = ctx.session;
  banner('auth', s?.needsSignIn ? `${signInWhy(s.signInReason)} Your records are kept on this phone; sign in again to sync them.` : '',
    { label: 'Renew sign-in', run: () => ctx.navigate('#/signin') });
}

async function storageNudges() {
  if (!ctx.session) return banner('storage', '');
  const st = await storageState();
  const warn = storageAdvice({ ...st, lastSync: ctx.engine.status.lastSuccess, waiting: ctx.engine.status.waiting, nowMs: Date.now(), standalone: matchMedia('(display-mode: standalone)').matches })
    .filter((a) => a.level === 'warn');
  banner('storage', warn.map((a) => a.text).join(' '), warn.length ? { label: 'Details', run: () => ctx.navigate('#/device') } : undefined);
}

async function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  try {
    registration = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  } catch {
    return; // the app still works online; offline needs the worker
  }
  const offer = (worker) => banner('update', 'A new version of Beatbook is ready. Your saved records are kept.', {
    label: 'Reload',
    run: () => {
      reloading = true;
      worker.postMessage({ type: 'SKIP_WAITING' });
    },
  });
  const watch = (worker) => worker?.addEventListener('statechange', () => {
    if (worker.state === 'installed' && navigator.serviceWorker.controller) offer(worker);
  });
  if (registration.waiting && navigator.serviceWorker.controller) offer(registration.waiting);
  watch(registration.installing);
  registration.addEventListener('updatefound', () => watch(registration.installing));
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (reloading) location.reload();
  });
  // The worker's Background Sync event asks an open app to do the sync.
  navigator.serviceWorker.addEventListener('message', (event) => {
    if (event.data?.type !== 'sync') return;
    const reply = () => event.ports[0]?.postMessage({ done: true, waiting: ctx.engine.status.waiting });
    // The engine's own backoff stands: a sync event never turns into a retry loop.
    const s = ctx.engine.status;
    if (s.state === 'retrying' || s.state === 'error' || s.state === 'auth') return reply();
    ctx.engine.sync().then(reply, reply);
  });
}

/**
 * Put a deleted record back. While the delete is unsent the phone's copy is simply restored;
 * if it was sent meanwhile (a sync in the background), an edit with all its fields restores it
 * on the server too (an upsert by a device that saw the deletion undeletes).
 * @param {{doc: import('./records.js').LocalRecord, entries: any[]}} before
 */
async function undoDelete(before) {
  const s = ctx.session;
  if (!s || s.userId !== before.doc.user) return;
  const restored = await restoreSnapshot(ctx.db, s.userId, before);
  if (!restored) {
    await writeChange(ctx.db, { user: s.userId, node: s.deviceId, nowMs: Date.now(), recordId: before.doc.id, op: 'upsert', data: before.doc.fields });
  }
  await ctx.engine.refresh();
  emitData();
  toast('Record restored.');
  void ctx.engine.sync();
}

/** Lock after IDLE_LOCK_MS without a touch; each touch moves the deadline on. */
function watchIdle() {
  let last = 0;
  const onTouch = () => {
    if (Date.now() - last < 5000) return;
    last = Date.now();
    touch();
  };
  for (const type of ['pointerdown', 'keydown', 'input']) document.addEventListener(type, onTouch, { capture: true, passive: true });
  const check = () => {
    const s = ctx.session;
    if (s && hasKey(s.userId) && idleExpired()) void ctx.lockNow();
  };
  tickListeners.add(check);
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') check(); });
}

async function checkForUpdate() {
  if (!registration) return false;
  await registration.update().catch(() => {});
  const r = registration;
  if (r.installing) {
    await new Promise((resolve) => {
      const w = r.installing;
      w.addEventListener('statechange', () => { if (w.state !== 'installing') resolve(null); });
    });
  }
  return Boolean(r.waiting);
}

async function boot() {
  document.documentElement.dataset.version = APP_VERSION;
  void registerServiceWorker();
  const db = await openDb({
    onVersionChange: () => banner('update', 'A newer version of Beatbook is open in another tab. Reload to continue.', { label: 'Reload', run: () => location.reload() }),
  });
  const api = createApi({ getToken: () => ctx.session?.token || null });
  const engine = new SyncEngine({
    db, api, appVersion: APP_VERSION,
    // Locked, nothing syncs: the queue and the token are sealed.
    session: () => (ctx.session && hasKey(ctx.session.userId) ? { userId: ctx.session.userId, deviceId: ctx.session.deviceId, needsSignIn: ctx.session.needsSignIn } : null),
    onAuthLost: async (error) => {
      if (!ctx.session) return;
      await markNeedsSignIn(db, ctx.session.userId, error.message);
      ctx.session = { ...ctx.session, needsSignIn: true, token: '', signInReason: error.message };
      authBanner();
    },
  });
  Object.assign(ctx, {
    db, api, engine,
    session: await currentSession(db),
    schema: await cachedSchema(db),
    navigate: (hash) => {
      if (location.hash === hash) void route();
      else location.hash = hash;
    },
    toast,
    now: () => tickNow,
    onTick: (fn) => {
      tickListeners.add(fn);
      return () => tickListeners.delete(fn);
    },
    onData: (fn) => {
      dataListeners.add(fn);
      return () => dataListeners.delete(fn);
    },
    online: () => navigator.onLine,
    saveRecord: async (id, data) => {
      const s = ctx.session;
      await writeChange(db, { user: s.userId, node: s.deviceId, nowMs: Date.now(), recordId: id ?? uuid(), op: 'upsert', data });
      await engine.refresh();
      emitData();
      toast(savedText('Saved'));
      if (!navigator.onLine) requestBackgroundSync();
      void engine.sync();
    },
    onServer: async (id) => {
      const snap = await snapshotRecord(db, ctx.session.userId, id);
      return Boolean(snap && serverMayHold(snap.doc, snap.entries));
    },
    deleteRecord: async (id) => {
      const s = ctx.session;
      const before = await snapshotRecord(db, s.userId, id);
      try {
        await writeChange(db, { user: s.userId, node: s.deviceId, nowMs: Date.now(), recordId: id, op: 'delete' });
      } catch (error) {
        // One transaction: a refused write leaves the record and its outbox as they were.
        toast(notDeletedText(error));
        return;
      }
      await engine.refresh();
      emitData();
      // Hold the delete back while Undo is offered, so Undo only has to put the phone's copy back.
      const later = setTimeout(() => void engine.sync(), UNDO_MS);
      toast('Record deleted.', before ? { label: 'Undo', run: () => {
        clearTimeout(later);
        void undoDelete(before);
      } } : undefined);
      if (!navigator.onLine) requestBackgroundSync();
    },
    syncNow: async () => {
      if (ctx.session?.needsSignIn) {
        ctx.navigate('#/signin');
        return;
      }
      await engine.sync();
      if (engine.status.state === 'offline') toast('No signal. Your records are safe on this phone.');
    },
    signedIn: async (session) => {
      ctx.session = hasKey(session.userId) ? await afterUnlock(db, api, session) : session;
      authBanner();
      engine.stop();
      void askPersist();
      try {
        ctx.schema = await refreshSchema(db, api);
      } catch {
        // keep the cached schema
      }
      await engine.refresh();
      ctx.navigate('#/');
      void engine.sync();
      void storageNudges();
    },
    signOut: async ({ discard }) => {
      const s = ctx.session;
      if (!s) return;
      await engine.refresh();
      if (engine.status.waiting > 0 && !discard) return;
      engine.stop();
      if (!s.needsSignIn) await api.signOut().catch(() => {});
      await forget(db, s.userId);
      ctx.session = null;
      await engine.refresh();
      banner('auth', '');
      banner('storage', '');
      toast('Signed out. This phone no longer holds your records.');
      ctx.navigate('#/');
    },
    switchUser: async () => {
      engine.stop();
      await switchUser(db);
      ctx.session = null;
      await engine.refresh();
      banner('auth', '');
      banner('storage', '');
      ctx.navigate('#/');
    },
    checkForUpdate,
    unlocked: async (message) => {
      ctx.session = await afterUnlock(db, api, ctx.session);
      await engine.refresh();
      ctx.navigate('#/');
      if (message) toast(message);
      void engine.sync();
      void storageNudges();
    },
    lockNow: async () => {
      engine.stop();
      lock();
      ctx.session = ctx.session ? { ...ctx.session, token: '' } : null;
      await engine.refresh();
      ctx.navigate('#/');
    },
  });
  watchIdle();

  let previous = engine.status.state;
  engine.subscribe((s) => {
    if (previous === 'syncing' && s.state !== 'syncing') {
      emitData();
      // Signed in while the schema could not be fetched: get it now the server answers.
      if (s.state === 'idle' && !ctx.schema) refreshSchema(db, api).then((schema) => { ctx.schema = schema; }, () => {});
    }
    // Offline with changes waiting: let the browser wake us when the signal is back.
    if (s.state === 'offline' && previous !== 'offline' && s.waiting > 0) requestBackgroundSync();
    previous = s.state;
  });
  document.getElementById('device-btn').addEventListener('click', () => ctx.navigate('#/device'));
  window.addEventListener('hashchange', () => void route());
  window.addEventListener('online', () => void engine.sync({ resume: true }));
  window.addEventListener('offline', () => void engine.refresh());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && ctx.session) {
      // Back in the app: sync, unless a retry is already scheduled (keep the backoff).
      const st = engine.status;
      if (!(st.state === 'retrying' || st.state === 'error') || (st.nextRetryAt ?? 0) <= Date.now()) void engine.sync();
      void registration?.update().catch(() => {});
    }
  });

  // Reopened within the idle window (same tab): the key is remembered, so open the token now.
  if (ctx.session && (await lockState(db, ctx.session)) === 'open') ctx.session = await afterUnlock(db, api, ctx.session);
  await engine.refresh();
  await route();
  if (ctx.session) {
    void engine.sync();
    if (navigator.onLine && !ctx.session.needsSignIn) {
      refreshSchema(db, api).then((schema) => { ctx.schema = schema; }, () => {});
    }
    void storageNudges();
  }
}

boot().catch((error) => {
  mount(main, h('section', { class: 'screen' }, h('h1', {}, 'Beatbook could not start'),
    h('p', {}, 'Your records are safe on this phone. Close the app and open it again.'),
    h('pre', { class: 'hint' }, String(error?.message ?? error))));
});
