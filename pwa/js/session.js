// Who is signed in on this phone. Each officer's sign-in (token, device id) is kept under their
// user id; the current one is a pointer, so a shared phone never mixes officers' queues.

import { STORES, req, withTx, getMeta, putMeta, wipeUser } from './db.js';

const GLOBAL = '*';

/**
 * @typedef {Object} Session
 * @property {string} userId
 * @property {string} username
 * @property {string} displayName
 * @property {string} role
 * @property {{code: string, name: string}|null} team
 * @property {string} token bearer token (only ever sent to our own origin)
 * @property {string} deviceId
 * @property {string} deviceName
 * @property {boolean} needsSignIn the server refused the token: sync paused until signed in again
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
 * @param {{signIn: (c: any) => Promise<any>}} api
 * @param {{username: string, password: string, deviceName: string}} form
 * @returns {Promise<Session>}
 */
export async function signIn(db, api, form) {
  const res = await api.signIn({ username: form.username, password: form.password, device_name: form.deviceName });
  /** @type {Session} */
  const session = {
    userId: String(res.user.id),
    username: res.user.username,
    displayName: res.user.display_name || res.user.username,
    role: res.user.role,
    team: res.team ?? null,
    token: res.token,
    deviceId: res.device_id,
    deviceName: form.deviceName,
    needsSignIn: false,
    signedInAt: new Date().toISOString(),
  };
  await withTx(db, [STORES.meta, STORES.auth], 'readwrite', async (tx) => {
    await req(tx.objectStore(STORES.auth).put(session));
    await putMeta(tx, GLOBAL, 'current_user', session.userId);
    await putMeta(tx, GLOBAL, 'device_name', form.deviceName);
    await putMeta(tx, GLOBAL, 'last_username', session.username);
  });
  return session;
}

/** The server refused the token: keep everything, pause sync, ask for a new sign-in. */
export function markNeedsSignIn(db, userId) {
  return withTx(db, [STORES.auth], 'readwrite', async (tx) => {
    const row = await req(tx.objectStore(STORES.auth).get(userId));
    if (row) await req(tx.objectStore(STORES.auth).put({ ...row, needsSignIn: true, token: '' }));
  });
}

/** Let another officer sign in on this phone; the current one's data stays, unseen. */
export function switchUser(db) {
  return withTx(db, [STORES.meta], 'readwrite', (tx) => putMeta(tx, GLOBAL, 'current_user', null));
}

/** Sign out for good: wipe this officer's data. Only after sync or an explicit discard. */
export async function forget(db, userId) {
  await wipeUser(db, userId);
  await withTx(db, [STORES.meta], 'readwrite', async (tx) => {
    if ((await getMeta(tx, GLOBAL, 'current_user')) === userId) await putMeta(tx, GLOBAL, 'current_user', null);
  });
}
