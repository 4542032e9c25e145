// The server's alerts for this officer (issue 15): the last page of a pull carries `alerts`, the
// latest list in full. The phone keeps that list with the time it came, sealed under the
// officer's key like the records (its titles and details name the team's work), so the log
// shows it with no signal. A pull without the key keeps the list it had.

import { STORES, withTx, getMeta, putMeta } from './db.js';
import { sealJson, openJson } from './crypto.js';
import { hold, keyFor } from './sealed.js';

const KEY = 'alerts';
const aad = (user) => `meta|${user}|${KEY}`;

/**
 * @typedef {{id: string, rule: string, standard: string|null, team: string, title: string,
 *            detail: string, officer_id: number|null, record_ids: string[], due: string|null}} Alert
 * @typedef {{at: string, alerts: Alert[]}} StoredAlerts
 */

/** Keep only what the phone shows, so a server's extra keys are not stored. @param {any} a @returns {Alert} */
function clean(a) {
  return {
    id: String(a?.id ?? ''), rule: String(a?.rule ?? ''), standard: a?.standard ?? null, team: String(a?.team ?? ''),
    title: String(a?.title ?? ''), detail: String(a?.detail ?? ''), officer_id: a?.officer_id ?? null,
    record_ids: Array.isArray(a?.record_ids) ? a.record_ids.map(String) : [], due: a?.due ?? null,
  };
}

/**
 * Store a pull page's alerts inside the caller's transaction (which includes the meta store).
 * A page without an `alerts` array changes nothing.
 * @param {IDBTransaction} tx
 * @param {string} user
 * @param {any} page a pull response
 * @param {string} at ISO time received
 * @returns {Promise<boolean>} whether a list was stored
 */
export async function keepAlerts(tx, user, page, at) {
  if (!Array.isArray(page?.alerts)) return false;
  const body = { at, alerts: page.alerts.map(clean) };
  await putMeta(tx, user, KEY, await hold(tx, sealJson(keyFor(user), body, aad(user))));
  return true;
}

/** The last list stored, or null. @param {IDBDatabase} db @param {string} user @returns {Promise<StoredAlerts|null>} */
export async function readAlerts(db, user) {
  const sealed = await withTx(db, [STORES.meta], 'readonly', (tx) => getMeta(tx, user, KEY));
  if (!sealed) return null;
  return openJson(keyFor(user), sealed, aad(user));
}
