// Who is signed in on this phone. Each officer's sign-in (token, device id) is kept under their
// user id; the current one is a pointer, so a shared phone never mixes officers' queues.

import { STORES, req, withTx, getMeta, putMeta, wipeUser } from './db.js';
import { ApiError } from './api.js';
import { sealJson, openJson } from './crypto.js';
import { hold, keyFor, hasKey } from './sealed.js';
import { installId, readVault, createVault, unlockWithServer, lock } from './keyring.js';

const GLOBAL = '*';

/**
 * @typedef {Object} Session
 * @property {string} userId
 * @property {string} username
 * @property {string} displayName
 * @property {string} role
 * @property {{code: string, name: string}|null} team
 * @property {string} token bearer token (only ever sent to our own origin); kept sealed under the
 *   officer's data key (`tokenSealed`), so it is '' until the app is unlocked
 * @property {string} deviceId
 * @property {string} deviceName
 * @property {boolean} needsSignIn the server refused the token: sync paused until signed in again
 * @property {string} [signInReason] the server's words for why (revoked by a supervisor, expired...)
 * @property {string} signedInAt
 */

/** @param {IDBDatabase} db @returns {Promise<Session|null>} */
export function currentSession(db) {
  return withTx(db, [STORES.meta, STORES.auth], 'readonly', async (tx) => {
    const userId = await getMeta(tx, GLOBAL, 'current_user');
    if (!userId) return null;
    return (await req(tx.objectStore(STORES.auth).get(userId))) ?? null;
  });
}

/** The device name and username last used here, to prefill the sign-in form. */
export function signInHints(db) {
  return withTx(db, [STORES.meta], 'readonly', async (tx) => ({
    deviceName: (await getMeta(tx, GLOBAL, 'device_name')) ?? '',
    username: (await getMeta(tx, GLOBAL, 'last_username')) ?? '',
  }));
}

/**
 * Sign this phone in and make the officer current. Their earlier queue (if any) is kept.
 * @param {IDBDatabase} db
 * @param {{signIn: (c: any) => Promise<any>, renameDevice: (name: string, token?: string) => Promise<any>,
 *          queueKey: (installId: string, token?: string) => Promise<{key: string}>}} api
 * @param {{username: string, password: string, deviceName: string}} form
 * @returns {Promise<Session>}
 */
export async function signIn(db, api, form) {
  const kind = deviceKind(globalThis.navigator?.userAgent ?? '');
  const res = await api.signIn({ username: form.username, password: form.password, device_name: form.deviceName || `Phone (${kind})` });
  return keepSignIn(db, api, res, form.deviceName, kind);
}

/**
 * Single sign-on: the force's provider signed the officer in and sent the phone back with a
 * one-time code (#/sso/CODE), exchanged here for the same device token a password gives.
 * @param {IDBDatabase} db
 * @param {{signInSso: (c: any) => Promise<any>, renameDevice: (name: string, token?: string) => Promise<any>}} api
 * @param {string} code
 * @returns {Promise<Session>}
 */
export async function signInWithCode(db, api, code) {
  if (!(await ssoStartedHere(db))) {
    throw new ApiError(400, 'sso_not_started', 'This sign-in was not started on this phone. Tap "Sign in with" your force to sign in.');
  }
  const kind = deviceKind(globalThis.navigator?.userAgent ?? '');
  const { deviceName } = await signInHints(db);
  const res = await api.signInSso({ code, device_name: deviceName || `Phone (${kind})` });
  return keepSignIn(db, api, res, deviceName, kind);
}

async function keepSignIn(db, api, res, chosenName, kind) {
  let deviceName = chosenName;
  if (!deviceName) {
    // Left blank: name it after the officer, now the server has said who they are, so
    // supervisors read "PC Okafor's phone (Android Chrome)", not a device id.
    deviceName = defaultDeviceName(res.user.display_name || res.user.username, kind);
    try {
      deviceName = (await api.renameDevice(deviceName, res.token)).device_name;
    } catch {
      deviceName = `Phone (${kind})`; // signed in all the same; renamed from "This phone" later
    }
  }
  /** @type {Session} */
  const session = {
    userId: String(res.user.id),
    username: res.user.username,
    displayName: res.user.display_name || res.user.username,
    role: res.user.role,
    team: res.team ?? null,
    token: res.token,
    deviceId: res.device_id,
    deviceName,
    needsSignIn: false,
    signedInAt: new Date().toISOString(),
  };
  await openQueue(db, api, session.userId, res.token);
  await withTx(db, [STORES.meta, STORES.auth], 'readwrite', async (tx) => {
    await putMeta(tx, GLOBAL, 'current_user', session.userId);
    await putMeta(tx, GLOBAL, 'device_name', chosenName);
    await putMeta(tx, GLOBAL, 'last_username', session.username);
  });
  await saveSession(db, session);
  return session;
}

/**
 * A password sign-in opens the officer's queue with the server's key for this phone (made at
 * their first sign-in here). With no answer from the server the key stays shut and the PIN opens
 * it; an officer new to this phone gets a new key (its server copy is made at a later sign-in).
 * @param {IDBDatabase} db
 * @param {{queueKey: (installId: string, token?: string) => Promise<{key: string}>}} api
 * @param {string} userId
 * @param {string} token
 */
async function openQueue(db, api, userId, token) {
  const open = hasKey(userId) ? keyFor(userId) : null;
  let serverKeyB64 = null;
  try {
    serverKeyB64 = (await api.queueKey(await installId(db), token)).key;
  } catch {
    // an older server, or the signal went: the PIN still opens the queue
  }
  if (serverKeyB64) {
    if (await unlockWithServer(db, userId, serverKeyB64, open)) return;
  }
  if (!open && !(await readVault(db, userId))) await createVault(db, userId);
}

/**
 * Keep a session: the token sealed, if the app holds the key; else only in memory until the PIN
 * opens the key (then `saveSession` again).
 * @param {IDBDatabase} db
 * @param {Session} session
 */
export function saveSession(db, session) {
  return withTx(db, [STORES.auth], 'readwrite', async (tx) => {
    const { token, ...rest } = session;
    const row = { ...rest, token: '' };
    if (token && hasKey(session.userId)) {
      row.tokenSealed = await hold(tx, sealJson(keyFor(session.userId), token, `auth|${session.userId}`));
    } else if (!token) {
      delete row.tokenSealed;
    } else {
      const before = await req(tx.objectStore(STORES.auth).get(session.userId));
      if (before?.tokenSealed) row.tokenSealed = before.tokenSealed;
    }
    await req(tx.objectStore(STORES.auth).put(row));
  });
}

/**
 * The session with its token opened (the app is unlocked). A token still in clear (from before
 * 1.3.0) is sealed now.
 * @param {IDBDatabase} db
 * @param {Session} session
 * @returns {Promise<Session>}
 */
export async function openSession(db, session) {
  const row = await withTx(db, [STORES.auth], 'readonly', (tx) => req(tx.objectStore(STORES.auth).get(session.userId)));
  if (!row) return session;
  let token = session.token || '';
  if (row.token) token = row.token;
  else if (!token && row.tokenSealed) token = await openJson(keyFor(session.userId), row.tokenSealed, `auth|${session.userId}`);
  const opened = { ...session, ...row, token };
  delete opened.tokenSealed;
  // A token in clear (before 1.3.0), or one from a sign-in made while the key was shut: seal it.
  if (row.token || session.token) await saveSession(db, opened);
  return opened;
}

/**
 * How this server signs people in ({password, sso: {name, start}|null}), as last heard: the
 * sign-in screen shows the right buttons with no signal too.
 * @param {IDBDatabase} db
 * @param {{signInMethods: () => Promise<any>}} [api] given: ask the server and keep its answer
 */
export async function signInMethods(db, api) {
  const kept = await withTx(db, [STORES.meta], 'readonly', (tx) => getMeta(tx, GLOBAL, 'sign_in_methods'));
  if (!api) return kept ?? { password: true, sso: null };
  const fresh = await api.signInMethods();
  await withTx(db, [STORES.meta], 'readwrite', (tx) => putMeta(tx, GLOBAL, 'sign_in_methods', fresh));
  return fresh;
}

/** How long a sign-in started on this phone may take at the provider's page. */
export const SSO_START_MS = 15 * 60_000;

/**
 * Keep the device name typed before leaving for the provider's page, and that this phone
 * started a sign-in: a #/sso/ code arriving without one (a link someone sent, to sign this phone
 * in as them) is refused.
 */
export function rememberDeviceName(db, deviceName) {
  return withTx(db, [STORES.meta], 'readwrite', async (tx) => {
    await putMeta(tx, GLOBAL, 'device_name', deviceName);
    await putMeta(tx, GLOBAL, 'sso_started_at', Date.now());
  });
}

/** Whether this phone started a sign-in lately; the mark is spent by asking. */
async function ssoStartedHere(db) {
  return withTx(db, [STORES.meta], 'readwrite', async (tx) => {
    const at = await getMeta(tx, GLOBAL, 'sso_started_at');
    await putMeta(tx, GLOBAL, 'sso_started_at', null);
    return typeof at === 'number' && Date.now() - at >= 0 && Date.now() - at < SSO_START_MS;
  });
}

/**
 * The server refused the token: keep everything, pause sync, ask for a new sign-in.
 * @param {IDBDatabase} db
 * @param {string} userId
 * @param {string} [reason] the server's sentence, shown to the officer as the why
 */
export function markNeedsSignIn(db, userId, reason = '') {
  return withTx(db, [STORES.auth], 'readwrite', async (tx) => {
    const row = await req(tx.objectStore(STORES.auth).get(userId));
    if (!row) return;
    const next = { ...row, needsSignIn: true, token: '', signInReason: reason };
    delete next.tokenSealed;
    await req(tx.objectStore(STORES.auth).put(next));
  });
}

/** Let another officer sign in on this phone; the current one's data stays, unseen. */
export async function switchUser(db) {
  lock();
  await withTx(db, [STORES.meta], 'readwrite', (tx) => putMeta(tx, GLOBAL, 'current_user', null));
}

/** Sign out for good: wipe this officer's data. Only after sync or an explicit discard. */
export async function forget(db, userId) {
  lock();
  await wipeUser(db, userId);
  await withTx(db, [STORES.meta], 'readwrite', async (tx) => {
    if ((await getMeta(tx, GLOBAL, 'current_user')) === userId) await putMeta(tx, GLOBAL, 'current_user', null);
  });
}

/**
 * What kind of phone this is, in words a supervisor recognises: "Android Chrome", "iPhone Safari".
 * @param {string} ua the browser's user agent
 */
export function deviceKind(ua) {
  const os = /iPhone/.test(ua) ? 'iPhone' : /iPad/.test(ua) ? 'iPad' : /Android/.test(ua) ? 'Android'
    : /CrOS/.test(ua) ? 'Chromebook' : /Windows/.test(ua) ? 'Windows' : /Mac OS X|Macintosh/.test(ua) ? 'Mac'
      : /Linux/.test(ua) ? 'Linux' : '';
  const browser = /SamsungBrowser/.test(ua) ? 'Samsung Internet' : /EdgA?\//.test(ua) ? 'Edge'
    : /Firefox|FxiOS/.test(ua) ? 'Firefox' : /CriOS|Chrome|Chromium/.test(ua) ? 'Chrome' : /Safari/.test(ua) ? 'Safari' : '';
  return [os, browser].filter(Boolean).join(' ') || 'browser';
}

/**
 * The name a phone gets when the officer leaves it blank.
 * @param {string} who the officer's display name
 * @param {string} kind from deviceKind
 */
export function defaultDeviceName(who, kind) {
  const phone = /^(iPad|Windows|Mac|Linux|Chromebook)/.test(kind) ? 'device' : 'phone';
  const suffix = `’s ${phone} (${kind})`;
  return `${who.slice(0, 80 - suffix.length)}${suffix}`;
}

/**
 * Rename the signed-in phone (needs a signal) and keep the new name with the sign-in.
 * @param {IDBDatabase} db
 * @param {{renameDevice: (name: string) => Promise<{device_name: string}>}} api
 * @param {string} userId
 * @param {string} name
 */
export async function renameDevice(db, api, userId, name) {
  const res = await api.renameDevice(name);
  await withTx(db, [STORES.auth], 'readwrite', async (tx) => {
    const row = await req(tx.objectStore(STORES.auth).get(userId));
    if (row) await req(tx.objectStore(STORES.auth).put({ ...row, deviceName: res.device_name }));
  });
  return res.device_name;
}
