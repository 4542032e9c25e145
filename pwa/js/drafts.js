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
