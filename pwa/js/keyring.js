// Each officer's data key on this phone, and what opens it:
// - their PIN (PBKDF2 with this phone's random salt), for opening the app offline;
// - the server's key for this phone and officer (handed out to a signed-in device only), so a
//   fresh password sign-in opens the queue again after too many wrong PINs or a forgotten PIN.
// IndexedDB holds only the two wrapped copies; the key itself lives in memory while the app is
// unlocked (and, for IDLE_LOCK_MS after the last touch, in this tab's sessionStorage so a reload
// does not ask again).

import { STORES, req, withTx, getMeta, putMeta } from './db.js';
import {
  PIN_ITERATIONS, CryptoFailure, randomBytes, newDataKey, pinKey, serverKey, wrapDataKey,
  unwrapDataKey, exportKey, importDataKey,
} from './crypto.js';
import { setKey, dropKey, sealLegacy } from './sealed.js';

/** The PIN is asked again after this long without a touch (and on every new tab). */
export const IDLE_LOCK_MS = 5 * 60 * 1000;
/** Wrong PINs in a row before the officer must sign in again with their password. */
export const MAX_PIN_TRIES = 5;
export const PIN_MIN = 6;
export const PIN_MAX = 64;
const GRACE = 'beatbook-unlocked';

/**
 * @typedef {Object} Vault
 * @property {string} userId
 * @property {Uint8Array} salt
 * @property {number} iterations
 * @property {import('./crypto.js').Sealed|null} pin the data key wrapped by the PIN
 * @property {import('./crypto.js').Sealed|null} server the data key wrapped by the server's key
 * @property {number} [serverAt] when that copy was last made (it is refreshed daily)
 * @property {number} failures wrong PINs in a row
 */

/** Why a PIN is refused, or '' if it will do. @param {string} pin */
export function pinProblem(pin) {
  if (pin.length < PIN_MIN) return `Use at least ${PIN_MIN} digits.`;
  if (pin.length > PIN_MAX) return `Use at most ${PIN_MAX} characters.`;
  if (/^(.)\1+$/.test(pin)) return 'Do not repeat one digit.';
  if (/^\d+$/.test(pin) && (isRun(pin, 1) || isRun(pin, -1))) return 'Do not use a run like 123456.';
  return '';
}

function isRun(pin, step) {
  for (let i = 1; i < pin.length; i += 1) {
    if ((Number(pin[i - 1]) + step + 10) % 10 !== Number(pin[i])) return false;
  }
  return true;
}

/** @param {IDBDatabase} db @param {string} userId @returns {Promise<Vault|undefined>} */
export function readVault(db, userId) {
  return withTx(db, [STORES.keys], 'readonly', (tx) => req(tx.objectStore(STORES.keys).get(userId)));
}

/** @param {IDBDatabase} db @param {Vault} vault */
function writeVault(db, vault) {
  return withTx(db, [STORES.keys], 'readwrite', (tx) => req(tx.objectStore(STORES.keys).put(vault)));
}

/** This phone's id for the server's key: random, made once, not secret. @param {IDBDatabase} db */
export function installId(db) {
  return withTx(db, [STORES.meta], 'readwrite', async (tx) => {
    let id = await getMeta(tx, '*', 'install_id');
    if (!id) {
      id = globalThis.crypto.randomUUID();
      await putMeta(tx, '*', 'install_id', id);
    }
    return id;
  });
}

/**
 * Make the key usable: in memory, remembered for the idle window, and seal any clear rows.
 * @param {IDBDatabase} db @param {string} userId @param {CryptoKey} key
 */
async function open(db, userId, key) {
  setKey(userId, key);
  await remember(userId, key);
  await sealLegacy(db, userId);
  return key;
}

/**
 * A new data key for an officer with none here yet (first sign-in, or data from before 1.3.0).
 * The vault is written with its wrapped copies before any row is sealed under the key, so no row
 * is ever sealed under a key nothing can open again.
 * @param {IDBDatabase} db
 * @param {string} userId
 * @param {{serverKeyB64?: string|null, pin?: string, iterations?: number}} [o]
 */
export async function createVault(db, userId, o = {}) {
  const key = await newDataKey();
  /** @type {Vault} */
  const vault = { userId, salt: randomBytes(16), iterations: o.iterations ?? PIN_ITERATIONS, pin: null, server: null, failures: 0 };
  if (o.serverKeyB64) {
    vault.server = await wrapDataKey(key, await serverKey(o.serverKeyB64));
    vault.serverAt = Date.now();
  }
  if (o.pin) vault.pin = await wrapDataKey(key, await pinKey(o.pin, vault.salt, vault.iterations));
  await writeVault(db, vault);
  return open(db, userId, key);
}

/**
 * Set (or reset) the PIN for the open key. A fresh salt each time.
 * @param {IDBDatabase} db @param {string} userId @param {CryptoKey} key @param {string} pin
 * @param {{iterations?: number}} [o]
 */
export async function setPin(db, userId, key, pin, o = {}) {
  const problem = pinProblem(pin);
  if (problem) throw new Error(problem);
  const vault = await readVault(db, userId);
  if (!vault) throw new Error('No key to protect.');
  const salt = randomBytes(16);
  const iterations = o.iterations ?? vault.iterations ?? PIN_ITERATIONS;
  const wrapped = await wrapDataKey(key, await pinKey(pin, salt, iterations));
  await writeVault(db, { ...vault, salt, iterations, pin: wrapped, failures: 0 });
}

/**
 * Try a PIN. Wrong ones are counted on the phone (a reload does not reset them); at the limit
 * the PIN's copy of the key is deleted if the server's copy can replace it, so only a password
 * sign-in opens the queue again, and a copied database cannot be tried further with PINs.
 * @param {IDBDatabase} db @param {string} userId @param {string} pin
 * @returns {Promise<{ok: true, key: CryptoKey} | {ok: false, left: number}>}
 */
export async function unlockWithPin(db, userId, pin) {
  const vault = await readVault(db, userId);
  if (!vault?.pin || vault.failures >= MAX_PIN_TRIES) return { ok: false, left: 0 };
  try {
    const key = await unwrapDataKey(vault.pin, await pinKey(pin, vault.salt, vault.iterations));
    if (vault.failures) await writeVault(db, { ...vault, failures: 0 });
    return { ok: true, key: await open(db, userId, key) };
  } catch (error) {
    if (!(error instanceof CryptoFailure)) throw error;
    const failures = vault.failures + 1;
    const spent = failures >= MAX_PIN_TRIES;
    await writeVault(db, { ...vault, failures, pin: spent && vault.server ? null : vault.pin });
    return { ok: false, left: Math.max(0, MAX_PIN_TRIES - failures) };
  }
}

/**
 * After a password sign-in: open the key with the server's copy (the officer then chooses a new
 * PIN), or, if the key is already open here, make that copy when it is missing (data from before
 * 1.3.0). Resets the PIN counter.
 * @param {IDBDatabase} db @param {string} userId @param {string} serverKeyB64
 * @param {CryptoKey|null} openKey the key if the app holds it already
 * @returns {Promise<CryptoKey|null>} null: no server copy and no open key (the PIN is needed)
 */
export async function unlockWithServer(db, userId, serverKeyB64, openKey = null) {
  const vault = await readVault(db, userId);
  // None here, or one nothing can open (signed in, then closed before a PIN was chosen, with no
  // server copy): only a token was ever sealed under it, and the sign-in brings a new one.
  if (!vault || (!vault.pin && !vault.server && !openKey)) return createVault(db, userId, { serverKeyB64 });
  const wrapping = await serverKey(serverKeyB64);
  if (openKey) {
    // Wrapped again each time: a copy made before the server's secret changed is replaced.
    await writeVault(db, { ...vault, server: await wrapDataKey(openKey, wrapping), serverAt: Date.now(), failures: 0 });
    return open(db, userId, openKey);
  }
  let key;
  try {
    if (!vault.server) throw new CryptoFailure('No server copy.');
    key = await unwrapDataKey(vault.server, wrapping);
  } catch (error) {
    if (!(error instanceof CryptoFailure)) throw error;
    // No copy, or one from before the server's secret changed: the PIN is the way in.
    await writeVault(db, { ...vault, failures: 0 });
    return null;
  }
  // Opened by a password, not the PIN (forgotten, or too many wrong ones): choose a new PIN.
  await writeVault(db, { ...vault, pin: null, failures: 0 });
  return open(db, userId, key);
}

/** The server's copy is missing or over a day old (the server's secret may have changed). */
export function serverCopyStale(vault, nowMs = Date.now()) {
  return !vault.server || !(nowMs - (vault.serverAt ?? 0) < 24 * 60 * 60 * 1000);
}

/** Forget the open key: memory and the tab's idle grace. */
export function lock() {
  dropKey();
  globalThis.sessionStorage?.removeItem(GRACE);
}

/** Keep the key for a reload within the idle window (this tab only). */
async function remember(userId, key) {
  const store = globalThis.sessionStorage;
  if (!store) return;
  store.setItem(GRACE, JSON.stringify({ userId, key: await exportKey(key), until: Date.now() + IDLE_LOCK_MS }));
}

/** The officer touched the app: move the idle deadline on. */
export function touch() {
  const store = globalThis.sessionStorage;
  const raw = store?.getItem(GRACE);
  if (!raw) return;
  const grace = JSON.parse(raw);
  store.setItem(GRACE, JSON.stringify({ ...grace, until: Date.now() + IDLE_LOCK_MS }));
}

/**
 * The key remembered by this tab, if within the idle window.
 * @param {string} userId @returns {Promise<CryptoKey|null>}
 */
export async function recall(userId) {
  const store = globalThis.sessionStorage;
  const raw = store?.getItem(GRACE);
  if (!raw) return null;
  const grace = JSON.parse(raw);
  if (grace.userId !== userId || !(grace.until > Date.now())) {
    store.removeItem(GRACE);
    return null;
  }
  const key = await importDataKey(grace.key);
  setKey(userId, key);
  return key;
}

/** Whether this tab's idle grace has run out. */
export function idleExpired() {
  const raw = globalThis.sessionStorage?.getItem(GRACE);
  return !raw || !(JSON.parse(raw).until > Date.now());
}
