// The local view of a record: the server's last state with the officer's unsynced changes laid
// over it, plus the receipt the log shows (pending, synced, needs attention, conflict).

import { STORES } from './db.js';
import { sealedStore } from './sealed.js';

/**
 * @typedef {Object} ServerState what the last pull said about a record
 * @property {number} rev
 * @property {boolean} deleted
 * @property {Object<string, any>} data
 * @property {Object<string, string>} [hlc]
 * @property {{id: any, username: string, display_name: string}} [officer]
 * @property {string} [team]
 * @property {{state: string, comment?: string, by?: {id: any, display_name: string}|null, at?: string|null} | null} [review]
 * @property {Array<Conflict>} [conflicts]
 * @property {string} [created_at] when the record first reached the server
 * @property {string} [updated_at]
 *
 * @typedef {{field: string, winner: {value: any, hlc: string}, loser: {value: any, hlc: string}}} Conflict
 *
 * @typedef {Object} Receipt
 * @property {'pending'|'synced'|'rejected'|'conflict'} state
 * @property {string|null} at when the record first reached the server (ISO), once it has
 * @property {Object<string, string[]>|null} errors the server's reasons, field -> messages
 * @property {Conflict[]} conflicts
 *
 * @typedef {Object} LocalRecord
 * @property {string} user the signed-in officer whose store this is
 * @property {string} id
 * @property {number|null} rev the last rev this device saw
 * @property {ServerState|null} server
 * @property {Object<string, any>} fields the current view
 * @property {boolean} deleted
 * @property {string} occurred_at copied out for the time index
 * @property {string} kind
 * @property {boolean} mine made by this officer (team records are read-only here)
 * @property {{status: string, at: string, conflicts: Conflict[]}|null} lastResult last push result
 * @property {Receipt} receipt
 */

/**
 * Recompute a record's view and receipt from its server state and its outbox entries.
 * @param {LocalRecord} doc
 * @param {import('./outbox.js').OutboxEntry[]} entries this record's entries in queue order
 * @returns {LocalRecord}
 */
export function refresh(doc, entries) {
  const fields = { ...(doc.server?.data ?? {}) };
  let deleted = doc.server?.deleted ?? false;
  for (const entry of entries) {
    if (entry.op === 'delete') deleted = true;
    else Object.assign(fields, entry.data);
  }
  const rejected = entries.find((e) => e.state === 'rejected');
  const conflicts = doc.server?.conflicts?.length
    ? doc.server.conflicts
    : doc.lastResult?.conflicts ?? [];
  /** @type {Receipt} */
  let receipt;
  if (rejected) {
    receipt = { state: 'rejected', at: null, errors: rejected.errors ?? {}, conflicts };
  } else if (entries.length) {
    receipt = { state: 'pending', at: null, errors: null, conflicts };
  } else if (conflicts.length) {
    receipt = { state: 'conflict', at: reachedServer(doc), errors: null, conflicts };
  } else {
    receipt = { state: 'synced', at: reachedServer(doc), errors: null, conflicts };
  }
  return {
    ...doc,
    fields,
    deleted,
    occurred_at: fields.occurred_at ?? '',
    kind: fields.kind ?? '',
    receipt,
  };
}

/**
 * When the record first reached the server: the server's `created_at`, or until a pull brings it,
 * the time of the push that created it. Never the time the phone last downloaded it, nor a
 * review's time (those move).
 * @param {LocalRecord} doc
 */
function reachedServer(doc) {
  return doc.server?.created_at ?? null;
}

/**
 * A fresh document for a record created on this device.
 * @param {string} user
 * @param {string} id
 * @returns {LocalRecord}
 */
export function newDoc(user, id) {
  return {
    user, id, rev: null, server: null, fields: {}, deleted: false, occurred_at: '', kind: '',
    mine: true, lastResult: null,
    receipt: { state: 'pending', at: null, errors: null, conflicts: [] },
  };
}

/**
 * Fold one pulled change (the record's full current state) into the local store. Runs inside the
 * caller's transaction over records + outbox.
 * @param {IDBTransaction} tx
 * @param {string} user
 * @param {any} change an item of pull's `changes`
 */
export async function applyPulled(tx, user, change) {
  const records = sealedStore(tx, STORES.records);
  const existing = /** @type {LocalRecord|undefined} */ (await records.get([user, change.id]));
  const doc = existing ?? newDoc(user, change.id);
  // An older state than one we already hold (a push result told us a later rev) is still the
  // truth of fields, but never lower our rev: our queued edits are based on the later one.
  const entries = await sealedStore(tx, STORES.outbox).byPrefix('by_record', [user, change.id]);
  const next = refresh(
    {
      ...doc,
      rev: Math.max(doc.rev ?? 0, change.rev),
      mine: String(change.officer?.id ?? user) === user,
      lastResult: null,
      server: {
        rev: change.rev,
        deleted: Boolean(change.deleted),
        data: change.data ?? {},
        hlc: change.hlc ?? {},
        officer: change.officer,
        team: change.team,
        review: change.review ?? null,
        conflicts: change.conflicts ?? [],
        created_at: change.created_at ?? doc.server?.created_at,
        updated_at: change.updated_at,
      },
    },
    entries,
  );
  await records.put(next);
  return next;
}

/**
 * What a record's card says about it, most urgent first: refused by the server, waiting to sync,
 * returned by a supervisor (until an edit is queued, which sends it back for review), conflict,
 * synced.
 * @param {LocalRecord} r
 * @returns {'rejected'|'pending'|'returned'|'conflict'|'synced'}
 */
export function displayState(r) {
  const s = r.receipt.state;
  if (s === 'rejected' || s === 'pending') return s;
  if (r.server?.review?.state === 'returned') return 'returned';
  return s;
}

/**
 * The review as the officer reads it: waiting, approved, sent back, or back with the supervisor
 * after a fix (a record that was reviewed and is waiting again; `resubmitted` if the server says so).
 * @param {{state: string, at?: string|null}|null|undefined} review
 * @returns {'waiting'|'approved'|'returned'|'resubmitted'}
 */
export function reviewState(review) {
  const s = review?.state;
  if (s === 'approved' || s === 'returned' || s === 'resubmitted') return s;
  return review?.at ? 'resubmitted' : 'waiting';
}

/** The officer's own record waits for the officer: returned by a supervisor or refused. */
export function needsAttention(/** @type {LocalRecord} */ r) {
  if (!r.mine) return false;
  const s = displayState(r);
  return s === 'rejected' || s === 'returned';
}

/**
 * @typedef {Object} LogFilter
 * @property {string} [kind]
 * @property {string} [from] YYYY-MM-DD (local day)
 * @property {string} [to] YYYY-MM-DD (local day)
 * @property {'mine'|'team'} [scope] "mine": only the officer's own records (default: all)
 * @property {boolean} [attention] only the officer's records that need attention
 * @property {string} [q] search words: every word must appear in the record's text or kind
 */

/** Lower case, accents off: "Café" is found by "cafe". @param {string} text */
const fold = (text) => String(text ?? '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();

/** The words a record is found by: its texts, its kind (code and title) and its officer. */
function searchText(/** @type {LocalRecord} */ r, kindTitle) {
  const f = r.fields ?? {};
  return fold([f.summary, f.place, f.follow_up, f.contact_role, f.contact_org, f.kind, kindTitle(f.kind),
    r.server?.officer?.display_name, r.server?.review?.comment].filter(Boolean).join(' '));
}

/**
 * Whether a record matches search words (all of them, anywhere, case and accents ignored).
 * @param {LocalRecord} r
 * @param {string} q
 * @param {(code: string) => string} [kindTitle]
 */
export function matchesSearch(r, q, kindTitle = () => '') {
  const words = fold(q).split(/\s+/).filter(Boolean);
  if (!words.length) return true;
  const text = searchText(r, kindTitle);
  return words.every((w) => text.includes(w));
}

/**
 * Filter and order records for the log, newest first. Runs over the phone's own copy, so
 * search works with no signal.
 * @param {LocalRecord[]} rows
 * @param {LogFilter} [filter]
 * @param {(code: string) => string} [kindTitle] the schema's title of a kind, for search
 */
export function filterRecords(rows, filter = {}, kindTitle = () => '') {
  const fromMs = filter.from ? new Date(`${filter.from}T00:00:00`).getTime() : -Infinity;
  const toMs = filter.to ? new Date(`${filter.to}T23:59:59.999`).getTime() : Infinity;
  return rows
    // A deleted record leaves the log at once; its tombstone waits in the outbox. One whose
    // deletion the server refused stays visible so it is never silently lost.
    .filter((r) => !r.deleted || r.receipt.state === 'rejected')
    .filter((r) => filter.scope !== 'mine' || r.mine)
    .filter((r) => !filter.attention || needsAttention(r))
    .filter((r) => !filter.kind || r.kind === filter.kind)
    .filter((r) => !filter.q || matchesSearch(r, filter.q, kindTitle))
    .filter((r) => {
      const t = Date.parse(r.occurred_at);
      return Number.isNaN(t) || (t >= fromMs && t <= toMs);
    })
    .sort((a, b) => Date.parse(b.occurred_at) - Date.parse(a.occurred_at) || (a.id < b.id ? -1 : 1));
}

/**
 * The log: this officer's visible records (own and team), newest first, optionally filtered.
 * @param {IDBDatabase} db
 * @param {string} user
 * @param {LogFilter} [filter]
 * @returns {Promise<LocalRecord[]>}
 */
export async function listRecords(db, user, filter = {}) {
  const tx = db.transaction([STORES.records], 'readonly');
  const rows = /** @type {LocalRecord[]} */ (
    await sealedStore(tx, STORES.records).allOf(user)
  );
  return filterRecords(rows, filter);
}

/** @param {IDBDatabase} db @param {string} user @param {string} id */
export async function getRecord(db, user, id) {
  const tx = db.transaction([STORES.records], 'readonly');
  return /** @type {LocalRecord|undefined} */ (await sealedStore(tx, STORES.records).get([user, id]));
}
