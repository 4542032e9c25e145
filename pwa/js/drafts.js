// Drafts: the form as typed, kept per officer so nothing is lost if the phone locks or the app
// is closed mid-record.

import { STORES, req, withTx } from './db.js';

/** @param {IDBDatabase} db @param {string} user @param {string} key */
export function loadDraft(db, user, key) {
  return withTx(db, [STORES.drafts], 'readonly', (tx) => req(tx.objectStore(STORES.drafts).get([user, key])));
}

/** @param {IDBDatabase} db @param {string} user @param {string} key @param {object} values */
export function saveDraft(db, user, key, values) {
  return withTx(db, [STORES.drafts], 'readwrite', (tx) =>
    req(tx.objectStore(STORES.drafts).put({ user, key, values: structuredClone(values), savedAt: new Date().toISOString() })));
}

/** @param {IDBDatabase} db @param {string} user @param {string} key */
export function dropDraft(db, user, key) {
  return withTx(db, [STORES.drafts], 'readwrite', (tx) => req(tx.objectStore(STORES.drafts).delete([user, key])));
}

/**
 * The officer's drafts, newest first: forms left half-typed (Back, another screen, the phone
 * locking). The log lists them at the top so none is forgotten.
 * @param {IDBDatabase} db
 * @param {string} user
 * @returns {Promise<Array<{user: string, key: string, values: any, savedAt: string}>>}
 */
export function listDrafts(db, user) {
  return withTx(db, [STORES.drafts], 'readonly', async (tx) => {
    const rows = await req(tx.objectStore(STORES.drafts).getAll(IDBKeyRange.bound([user], [user, []])));
    return rows.sort((a, b) => (a.savedAt < b.savedAt ? 1 : -1));
  });
}
