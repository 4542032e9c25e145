// The encrypted stores: records, outbox and drafts hold only their keys in clear (the officer's
// user id, the record's random id, the queue position); everything else is one AES-GCM blob
// under the officer's data key (crypto.js), which lives in memory only while the app is unlocked
// (keyring.js).
//
// WebCrypto is asynchronous and an IndexedDB transaction commits as soon as it has nothing to
// do, so `hold` keeps the transaction busy with a cheap read while the crypto runs and hands the
// result back inside a request callback, where the transaction is active again. Reads and writes
// therefore stay inside one transaction, as atomic as they were in clear.

import { req } from './db.js';
import { sealJson, openJson } from './crypto.js';

/** Fields kept in clear per store: the key path and index keys, never record text. */
const CLEAR = Object.freeze({
  records: ['user', 'id'],
  outbox: ['seq', 'user', 'recordId'],
  drafts: ['user', 'key'],
});

/** The app is locked (no data key in memory): nothing sealed can be read or written. */
export class LockedError extends Error {
  constructor() {
    super('Beatbook is locked: enter your PIN.');
    this.name = 'LockedError';
  }
}

/** @type {Map<string, CryptoKey>} */
const keys = new Map();

// Opened rows by their ciphertext's random IV and tag (new at every write), so the log, the counts
// and the sync loop do not decrypt the same row again and again. Memory only; gone on lock.
/** @type {Map<string, any>} */
const opened = new Map();
const CACHE_MAX = 20000;

/** Place, IV and GCM tag: a changed ciphertext under the same IV has another tag (or is a forgery). */
function cacheKey(sealed, aad) {
  const ct = sealed.ct instanceof ArrayBuffer ? sealed.ct : /** @type {any} */ (sealed.ct).buffer;
  const tag = new Uint8Array(ct, Math.max(0, ct.byteLength - 16));
  let s = aad;
  for (const b of sealed.iv) s += String.fromCharCode(b);
  for (const b of tag) s += String.fromCharCode(b);
  return s;
}

function remember(id, body) {
  if (opened.size >= CACHE_MAX) opened.clear();
  opened.set(id, body);
}

/** @param {string} user @param {CryptoKey} key */
export function setKey(user, key) {
  keys.set(user, key);
}

/** @param {string} [user] forget one officer's key, or all */
export function dropKey(user) {
  if (user === undefined) keys.clear();
  else keys.delete(user);
  opened.clear();
}

/** @param {string} user */
export function hasKey(user) {
  return keys.has(user);
}

/** @param {string} user */
export function keyFor(user) {
  const key = keys.get(user);
  if (!key) throw new LockedError();
  return key;
}

const PROBE = -Infinity; // a valid key no row has

/**
 * Await `work` without letting `tx` commit meanwhile; resolves inside a request callback.
 * @template T
 * @param {IDBTransaction} tx
 * @param {Promise<T>} work
 * @returns {Promise<T>}
 */
export function hold(tx, work) {
  return new Promise((resolve, reject) => {
    /** @type {{ok: boolean, value: any}|null} */
    let outcome = null;
    work.then((value) => { outcome = { ok: true, value }; }, (value) => { outcome = { ok: false, value }; });
    const probe = tx.objectStore(tx.objectStoreNames[0]);
    const spin = () => {
      if (outcome) {
        if (outcome.ok) resolve(outcome.value);
        else reject(outcome.value);
        return;
      }
      const r = probe.get(PROBE);
      r.onsuccess = spin;
      r.onerror = () => reject(r.error);
    };
    spin();
  });
}

/** Where a row lives, bound into its ciphertext. */
function aadOf(name, row) {
  if (name === 'records') return `records|${row.user}|${row.id}`;
  if (name === 'outbox') return `outbox|${row.user}|${row.recordId}`;
  return `${name}|${row.user}|${row.key}`;
}

function pick(row, fields) {
  const out = {};
  for (const f of fields) if (row[f] !== undefined) out[f] = row[f];
  return out;
}

/** Seal one row (its clear keys kept beside the blob). */
export async function sealRow(name, value) {
  const clear = CLEAR[name];
  const rest = { ...value };
  for (const f of clear) delete rest[f];
  const aad = aadOf(name, value);
  const sealed = await sealJson(keyFor(value.user), rest, aad);
  remember(cacheKey(sealed, aad), structuredClone(rest));
  return { ...pick(value, clear), sealed };
}

/** Open one row; a row from before encryption (not yet migrated) is returned as it is. */
export async function openRow(name, row) {
  if (!row || !row.sealed) return row;
  const aad = aadOf(name, row);
  const key = keyFor(row.user);
  const id = cacheKey(row.sealed, aad);
  let body = opened.get(id);
  if (body === undefined) {
    body = await openJson(key, row.sealed, aad);
    remember(id, body);
  }
  // A copy: callers change what they read before writing it back.
  return { ...structuredClone(body), ...pick(row, CLEAR[name]) };
}

/**
 * One sealed store inside `tx`, with IndexedDB's shape but promises for answers.
 * @param {IDBTransaction} tx
 * @param {'records'|'outbox'|'drafts'} name
 */
export function sealedStore(tx, name) {
  const store = tx.objectStore(name);
  const openAll = (rows) => hold(tx, Promise.all(rows.map((row) => openRow(name, row))));
  return {
    /** @param {IDBValidKey} key */
    async get(key) {
      const row = await req(store.get(key));
      return row ? hold(tx, openRow(name, row)) : undefined;
    },
    /** @param {IDBKeyRange} [query] */
    async getAll(query) {
      return openAll(await req(store.getAll(query)));
    },
    /** Rows whose `index` key starts with `prefix`. @param {string} index @param {any[]} prefix */
    async byPrefix(index, prefix) {
      return openAll(await req(store.index(index).getAll(IDBKeyRange.bound(prefix, [...prefix, []]))));
    },
    /** Every row of one officer (records and drafts are keyed [user, ...]). @param {string} user */
    async allOf(user) {
      return openAll(await req(store.getAll(IDBKeyRange.bound([user], [user, []]))));
    },
    /** @param {any} value */
    async put(value) {
      return req(store.put(await hold(tx, sealRow(name, value))));
    },
    /** @param {any} value @returns {Promise<IDBValidKey>} */
    async add(value) {
      return req(store.add(await hold(tx, sealRow(name, value))));
    },
    /** @param {IDBValidKey|IDBKeyRange} key */
    delete(key) {
      return req(store.delete(key));
    },
  };
}

/**
 * Seal what one officer still holds in clear (data from before 1.3.0, or a row a test wrote):
 * records, outbox and drafts, in one transaction, so an upgrade loses nothing.
 * @param {IDBDatabase} db
 * @param {string} user
 * @returns {Promise<number>} rows sealed
 */
export function sealLegacy(db, user) {
  const names = /** @type {const} */ (['records', 'outbox', 'drafts']);
  return new Promise((resolve, reject) => {
    const tx = db.transaction([...names], 'readwrite');
    let count = 0;
    tx.oncomplete = () => resolve(count);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('aborted'));
    (async () => {
      for (const name of names) {
        const store = tx.objectStore(name);
        const rows = name === 'outbox'
          ? await req(store.index('by_user').getAll(IDBKeyRange.bound([user], [user, []])))
          : await req(store.getAll(IDBKeyRange.bound([user], [user, []])));
        const clear = rows.filter((row) => !row.sealed);
        const sealed = await hold(tx, Promise.all(clear.map((row) => sealRow(name, row))));
        for (const row of sealed) await req(store.put(row));
        count += sealed.length;
      }
    })().catch((error) => {
      try { tx.abort(); } catch { /* done already */ }
      reject(error);
    });
  });
}
