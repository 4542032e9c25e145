// The one IndexedDB database of the app: its name, version and upgrade steps, and small promise
// helpers. Everything an officer records lives here until the server has taken it, so every
// shape change is an upgrade step that keeps data (never a delete-and-recreate).

export const DB_NAME = 'beatbook';

/** Per-user data lives under the user id so officers sharing a phone never see each other's. */
export const STORES = Object.freeze({
  auth: 'auth', // {userId, username, displayName, role, team, token, deviceId, deviceName, needsSignIn}
  meta: 'meta', // {scope: userId | '*', key, value}: cursor, clock, offset, last sync, schema cache
  records: 'records', // {user, id, ...} the local view of a record (see records.js)
  outbox: 'outbox', // {seq, user, recordId, op, hlc, ...} changes not yet taken by the server
  drafts: 'drafts', // {user, key, values, savedAt} the form as typed
  keys: 'keys', // {userId, salt, iterations, pin, server, failures} the wrapped data key (keyring.js)
});

/**
 * Upgrade steps: step i brings the database from version i to version i + 1. Each runs inside the
 * versionchange transaction; a step may read and rewrite rows through `tx`.
 * @type {Array<(db: IDBDatabase, tx: IDBTransaction) => void>}
 */
export const UPGRADE_STEPS = [
  (db) => {
    db.createObjectStore(STORES.auth, { keyPath: 'userId' });
    db.createObjectStore(STORES.meta, { keyPath: ['scope', 'key'] });
    const records = db.createObjectStore(STORES.records, { keyPath: ['user', 'id'] });
    records.createIndex('by_user_time', ['user', 'occurred_at']);
    const outbox = db.createObjectStore(STORES.outbox, { keyPath: 'seq', autoIncrement: true });
    outbox.createIndex('by_user', ['user', 'seq']);
    outbox.createIndex('by_record', ['user', 'recordId', 'seq']);
    db.createObjectStore(STORES.drafts, { keyPath: ['user', 'key'] });
  },
  // 1.2.0: records keep when they first reached the server and who reviewed them. Forget each
  // officer's pull cursor, so the next sync downloads every record again with those (records,
  // the outbox and drafts are untouched).
  (_db, tx) => {
    const meta = tx.objectStore(STORES.meta);
    meta.openCursor().onsuccess = (event) => {
      const cursor = /** @type {IDBCursorWithValue|null} */ (/** @type {IDBRequest} */ (event.target).result);
      if (!cursor) return;
      if (cursor.value.key === 'cursor') cursor.delete();
      cursor.continue();
    };
  },
  // 1.3.0: the queue is encrypted (sealed.js). Each officer's wrapped data key lives here; their
  // rows are sealed when they first unlock (clear rows are read as they are until then).
  (db) => {
    db.createObjectStore(STORES.keys, { keyPath: 'userId' });
  },
];

export const DB_VERSION = UPGRADE_STEPS.length;

/**
 * Open (and if needed upgrade) the database.
 * @param {{name?: string, factory?: IDBFactory, steps?: typeof UPGRADE_STEPS,
 *          onVersionChange?: () => void}} [options]
 * @returns {Promise<IDBDatabase>}
 */
export function openDb(options = {}) {
  const { name = DB_NAME, factory = globalThis.indexedDB, steps = UPGRADE_STEPS } = options;
  return new Promise((resolve, reject) => {
    const request = factory.open(name, steps.length);
    request.onupgradeneeded = (event) => {
      const db = request.result;
      const tx = /** @type {IDBTransaction} */ (request.transaction);
      for (let v = event.oldVersion; v < steps.length; v += 1) steps[v](db, tx);
    };
    request.onsuccess = () => {
      const db = request.result;
      // A newer app version in another tab wants to upgrade: let it, and tell the user to reload.
      db.onversionchange = () => {
        db.close();
        options.onVersionChange?.();
      };
      resolve(db);
    };
    request.onerror = () => reject(request.error);
    request.onblocked = () => options.onVersionChange?.();
  });
}

/**
 * @template T
 * @param {IDBRequest<T>} request
 * @returns {Promise<T>}
 */
export function req(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/**
 * Run `fn` in one transaction and resolve with its result once the transaction has committed.
 * `fn` may await IndexedDB requests of `tx` only: awaiting anything else (the network) would let
 * the transaction auto-commit half done.
 * @template T
 * @param {IDBDatabase} db
 * @param {string[]} stores
 * @param {IDBTransactionMode} mode
 * @param {(tx: IDBTransaction) => Promise<T> | T} fn
 * @returns {Promise<T>}
 */
export function withTx(db, stores, mode, fn) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(stores, mode);
    let result;
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
    Promise.resolve()
      .then(() => fn(tx))
      .then(
        (value) => {
          result = value;
        },
        (error) => {
          try {
            tx.abort();
          } catch {
            // already finished
          }
          reject(error);
        },
      );
  });
}

/** Every row of `store` whose `index` key starts with `prefix` (an array key prefix). */
export function getAllByPrefix(store, indexName, prefix) {
  const range = IDBKeyRange.bound(prefix, [...prefix, []]);
  return req(store.index(indexName).getAll(range));
}

/** Read one meta value. */
export async function getMeta(tx, scope, key) {
  const row = await req(tx.objectStore(STORES.meta).get([scope, key]));
  return row ? row.value : undefined;
}

/** Write one meta value. */
export function putMeta(tx, scope, key, value) {
  return req(tx.objectStore(STORES.meta).put({ scope, key, value }));
}

/**
 * Remove everything kept for one user (records, outbox, drafts, meta, sign-in). Called only after
 * the queue is synced or the officer explicitly discarded it.
 * @param {IDBDatabase} db
 * @param {string} userId
 */
export function wipeUser(db, userId) {
  const all = [STORES.auth, STORES.meta, STORES.records, STORES.outbox, STORES.drafts, STORES.keys];
  return withTx(db, all, 'readwrite', async (tx) => {
    const upper = [userId, []];
    tx.objectStore(STORES.records).delete(IDBKeyRange.bound([userId], upper));
    tx.objectStore(STORES.drafts).delete(IDBKeyRange.bound([userId], upper));
    tx.objectStore(STORES.meta).delete(IDBKeyRange.bound([userId], upper));
    tx.objectStore(STORES.auth).delete(userId);
    tx.objectStore(STORES.keys).delete(userId);
    const seqs = await req(
      tx.objectStore(STORES.outbox).index('by_user').getAllKeys(IDBKeyRange.bound([userId], upper)),
    );
    for (const seq of seqs) tx.objectStore(STORES.outbox).delete(seq);
  });
}
