// Drafts: the form as typed, kept per officer so nothing is lost if the phone locks or the app
// is closed mid-record.

import { STORES, withTx } from './db.js';
import { sealedStore } from './sealed.js';

/** @param {IDBDatabase} db @param {string} user @param {string} key */
export function loadDraft(db, user, key) {
  return withTx(db, [STORES.drafts], 'readonly', (tx) => sealedStore(tx, STORES.drafts).get([user, key]));
}

/** @param {IDBDatabase} db @param {string} user @param {string} key @param {object} values */
export function saveDraft(db, user, key, values) {
  return withTx(db, [STORES.drafts], 'readwrite', (tx) =>
    sealedStore(tx, STORES.drafts).put({ user, key, values: structuredClone(values), savedAt: new Date().toISOString() }));
}

/** @param {IDBDatabase} db @param {string} user @param {string} key */
export function dropDraft(db, user, key) {
  return withTx(db, [STORES.drafts], 'readwrite', (tx) => sealedStore(tx, STORES.drafts).delete([user, key]));
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
    const rows = await sealedStore(tx, STORES.drafts).allOf(user);
    return rows.sort((a, b) => (a.savedAt < b.savedAt ? 1 : -1));
  });
}
