// The outbox: changes the server has not yet taken, in the order they were made, each with its
// HLC stamp. A record and its outbox entry are always written in one transaction.
//
// Rules that keep merges honest:
// - An entry that was sent (attempts > 0) is never edited: the server may already hold it under
//   its (record id, hlc) identity, and re-sending it must be answered `duplicate`.
// - Only the first entry of a record is sent; a later one waits for the rev the server gives the
//   earlier one (`awaitRev`), so this device's own edits are never seen as concurrent.
// - A rejected entry wrote nothing on the server; the officer's fix is folded into it under a
//   new stamp and it is queued again.

import { STORES, req, withTx, getMeta, putMeta } from './db.js';
import { sealedStore } from './sealed.js';
import { HLC, ClockDriftError } from './hlc.js';
import { newDoc, refresh, needsAttention } from './records.js';

/** Stamps from the server further ahead than this are not folded into the local clock. */
const MAX_DRIFT_MS = 24 * 60 * 60 * 1000;

/**
 * @typedef {Object} OutboxEntry
 * @property {number} [seq] queue position (auto-increment key)
 * @property {string} user
 * @property {string} recordId
 * @property {'upsert'|'delete'} op
 * @property {string} hlc
 * @property {number|null} baseRev the rev this change was made on (null on create)
 * @property {boolean} awaitRev the base is the rev the server gives the entry before this one
 * @property {Object<string, any>} data only the fields this change sets
 * @property {number} attempts times it was sent
 * @property {'queued'|'rejected'} state
 * @property {Object<string, string[]>|null} errors the server's reasons when rejected
 * @property {number} createdAt
 * @property {number} updatedAt
 */

/**
 * Read and advance the officer's clock inside `tx` (so two tabs never hand out one stamp twice).
 * @param {IDBTransaction} tx
 * @param {string} user
 * @param {string} node this device's id
 * @param {number} localNowMs the phone's clock; the stored server offset is added here
 * @returns {Promise<string>}
 */
export async function nextStamp(tx, user, node, localNowMs) {
  const offset = (await getMeta(tx, user, 'offset')) ?? 0;
  const clock = await loadClock(tx, user, node);
  const next = clock.send(localNowMs + offset);
  await putMeta(tx, user, 'clock', next.toString());
  return next.toString();
}

/**
 * Fold the server's stamp into the officer's clock and keep the server's clock offset.
 * @param {IDBTransaction} tx
 * @param {string} user
 * @param {string} node
 * @param {{serverTime?: string, serverHlc?: string, localNowMs: number, rttMs?: number}} seen
 */
export async function observeServer(tx, user, node, seen) {
  let offset = (await getMeta(tx, user, 'offset')) ?? 0;
  const serverMs = seen.serverTime ? Date.parse(seen.serverTime) : NaN;
  if (!Number.isNaN(serverMs)) {
    // The server stamped its time somewhere inside the round trip: assume the middle.
    offset = Math.round(serverMs + (seen.rttMs ?? 0) / 2 - seen.localNowMs);
    await putMeta(tx, user, 'offset', offset);
  }
  if (seen.serverHlc) {
    try {
      const clock = await loadClock(tx, user, node);
      const next = clock.receive(HLC.parse(seen.serverHlc), seen.localNowMs + offset, MAX_DRIFT_MS);
      await putMeta(tx, user, 'clock', next.toString());
    } catch (error) {
      if (!(error instanceof ClockDriftError)) throw error;
    }
  }
  return offset;
}

async function loadClock(tx, user, node) {
  const stored = await getMeta(tx, user, 'clock');
  if (!stored) return HLC.zero(node);
  const clock = HLC.parse(stored);
  // Signing in again gives a new device id: keep the clock's time, change its node.
  return clock.node === node ? clock : new HLC(clock.millis, clock.counter, node);
}

/** Fold a later change into an entry that has not been sent. */
function fold(entry, op, data) {
  if (op === 'delete') return { ...entry, op: 'delete', data: {} };
  if (entry.op === 'delete') return { ...entry, op: 'upsert', data: { ...data } };
  return { ...entry, data: { ...entry.data, ...data } };
}

/**
 * Record a change made on this device: the record's view and the outbox, in one transaction.
 * @param {IDBDatabase} db
 * @param {{user: string, node: string, nowMs: number, recordId: string,
 *          op: 'upsert'|'delete', data?: Object<string, any>}} change
 * @returns {Promise<import('./records.js').LocalRecord|null>} the new view (null: gone for good)
 */
export function writeChange(db, change) {
  const { user, node, nowMs, recordId, op } = change;
  const data = op === 'delete' ? {} : { ...(change.data ?? {}) };
  const stores = [STORES.records, STORES.outbox, STORES.meta];
  return withTx(db, stores, 'readwrite', async (tx) => {
    const records = sealedStore(tx, STORES.records);
    const outbox = sealedStore(tx, STORES.outbox);
    const found = await records.get([user, recordId]);
    if (!found && op === 'delete') return null;
    const doc = found ?? newDoc(user, recordId);
    /** @type {OutboxEntry[]} */
    const entries = await outbox.byPrefix('by_record', [user, recordId]);
    if (op === 'delete' && !serverMayHold(doc, entries)) {
      // The server never took this record: forget it here, no tombstone needed.
      for (const e of entries) outbox.delete(/** @type {number} */ (e.seq));
      records.delete([user, recordId]);
      return null;
    }
    const hlc = await nextStamp(tx, user, node, nowMs);
    const now = Date.now();
    const rejectedAt = entries.findIndex((e) => e.state === 'rejected');
    const last = entries[entries.length - 1];
    if (rejectedAt >= 0) {
      let target = entries[rejectedAt];
      for (const later of entries.slice(rejectedAt + 1)) {
        target = fold(target, later.op, later.data);
        outbox.delete(/** @type {number} */ (later.seq));
      }
      target = { ...fold(target, op, data), hlc, state: 'queued', errors: null, attempts: 0, updatedAt: now };
      await outbox.put(target);
    } else if (last && last.attempts === 0) {
      await outbox.put({ ...fold(last, op, data), hlc, updatedAt: now });
    } else {
      /** @type {OutboxEntry} */
      const entry = {
        user, recordId, op, hlc, data,
        baseRev: entries.length ? null : doc.rev,
        awaitRev: entries.length > 0,
        attempts: 0, state: 'queued', errors: null, createdAt: now, updatedAt: now,
      };
      await outbox.add(entry);
    }
    const after = await outbox.byPrefix('by_record', [user, recordId]);
    const view = refresh(doc, after);
    await records.put(view);
    return view;
  });
}

/**
 * The next batch to send: the first entry of each record, queue order, rejected ones held back.
 * @param {IDBDatabase} db
 * @param {string} user
 * @param {number} limit at most this many (the protocol allows 500)
 * @returns {Promise<OutboxEntry[]>}
 */
export function nextBatch(db, user, limit) {
  return withTx(db, [STORES.outbox, STORES.records], 'readonly', async (tx) => {
    /** @type {OutboxEntry[]} */
    const all = await sealedStore(tx, STORES.outbox).byPrefix('by_user', [user]);
    const seen = new Set();
    const batch = [];
    for (const entry of all) {
      if (seen.has(entry.recordId)) continue;
      seen.add(entry.recordId);
      if (entry.state === 'rejected') continue;
      if (entry.awaitRev) {
        // Its predecessor is gone (taken or discarded): the record's rev is its base.
        const doc = await sealedStore(tx, STORES.records).get([user, entry.recordId]);
        batch.push({ ...entry, baseRev: doc?.rev ?? null, awaitRev: false });
      } else {
        batch.push(entry);
      }
      if (batch.length >= limit) break;
    }
    return batch;
  });
}

/**
 * Note that these entries are about to be sent: from now on they are never edited.
 * @param {IDBDatabase} db
 * @param {OutboxEntry[]} entries
 */
export function markSent(db, entries) {
  return withTx(db, [STORES.outbox], 'readwrite', async (tx) => {
    const outbox = sealedStore(tx, STORES.outbox);
    for (const sent of entries) {
      const entry = await outbox.get(/** @type {number} */ (sent.seq));
      if (!entry) continue;
      await outbox.put({ ...entry, baseRev: sent.baseRev, awaitRev: false, attempts: entry.attempts + 1 });
    }
  });
}

/**
 * Take the server's per-change results: drop what it took, keep what it rejected (with reasons),
 * hand the new rev to the record's next entry.
 * @param {IDBDatabase} db
 * @param {string} user
 * @param {OutboxEntry[]} sent
 * @param {{results: Array<{id: string, hlc: string, status: string, rev?: number,
 *          errors?: Object<string, string[]>, conflicts?: any[]}>, server_time?: string}} response
 * @returns {Promise<{taken: number, rejected: number}>}
 */
export function applyResults(db, user, sent, response) {
  return withTx(db, [STORES.records, STORES.outbox], 'readwrite', async (tx) => {
    const records = sealedStore(tx, STORES.records);
    const outbox = sealedStore(tx, STORES.outbox);
    const bySeq = new Map(sent.map((e) => [`${e.recordId} ${e.hlc}`, e]));
    let taken = 0;
    let rejected = 0;
    for (const result of response.results ?? []) {
      const sentEntry = bySeq.get(`${result.id} ${result.hlc}`);
      if (!sentEntry) continue;
      const entry = await outbox.get(/** @type {number} */ (sentEntry.seq));
      if (!entry || entry.hlc !== result.hlc) continue;
      const doc = await records.get([user, entry.recordId]);
      if (result.status === 'rejected' || (result.errors && Object.keys(result.errors).length)) {
        rejected += 1;
        await outbox.put({ ...entry, state: 'rejected', errors: result.errors ?? { _: ['Refused by the server.'] } });
      } else {
        taken += 1;
        outbox.delete(/** @type {number} */ (entry.seq));
        const rest = await outbox.byPrefix('by_record', [user, entry.recordId]);
        const waiting = rest.find((e) => e.awaitRev);
        if (waiting && typeof result.rev === 'number') {
          await outbox.put({ ...waiting, baseRev: result.rev, awaitRev: false });
        }
        if (doc) {
          doc.rev = typeof result.rev === 'number' ? Math.max(doc.rev ?? 0, result.rev) : doc.rev;
          // Until the pull that follows every push brings the server's state, assume ours won.
          const server = doc.server ?? { rev: 0, deleted: false, data: {}, conflicts: [] };
          doc.server = {
            ...server,
            // The push that created the record is when it first reached the server.
            created_at: server.created_at ?? (doc.server ? undefined : response.server_time ?? new Date().toISOString()),
            rev: doc.rev,
            deleted: entry.op === 'delete' ? true : server.deleted,
            data: { ...server.data, ...entry.data },
          };
          doc.lastResult = { status: result.status, at: response.server_time ?? new Date().toISOString(), conflicts: result.conflicts ?? [] };
        }
      }
      if (doc) {
        const remaining = await outbox.byPrefix('by_record', [user, entry.recordId]);
        await records.put(refresh(doc, remaining));
      }
    }
    return { taken, rejected };
  });
}

/**
 * What waits, counted as the officer sees it: records, not changes (two edits of one record are one
 * record waiting). `waiting` is every record with something unsent, `rejected` those the server
 * refused, `attention` the officer's own records that wait for them (refused or returned: the
 * same rule as the log's banner), `changes` the outbox entries (what a push reports as pending).
 * @param {IDBDatabase} db
 * @param {string} user
 * @returns {Promise<{waiting: number, rejected: number, attention: number, changes: number}>}
 */
export function countPending(db, user) {
  return withTx(db, [STORES.outbox, STORES.records], 'readonly', async (tx) => {
    // Every outbox write rewrites its record's receipt in the same transaction, so the records
    // say what waits; the outbox is only counted (its rows need no opening).
    const changes = await req(tx.objectStore(STORES.outbox).index('by_user').count(IDBKeyRange.bound([user], [user, []])));
    const records = await sealedStore(tx, STORES.records).allOf(user);
    const waits = records.filter((r) => r.receipt?.state === 'pending' || r.receipt?.state === 'rejected');
    return {
      waiting: waits.length,
      rejected: waits.filter((r) => r.receipt.state === 'rejected').length,
      attention: records.filter((r) => !r.deleted && needsAttention(r)).length,
      changes,
    };
  });
}

/**
 * A record as it stands before a delete (its view and its outbox entries), so the delete can be
 * undone while nothing of it has been sent.
 * @param {IDBDatabase} db
 * @param {string} user
 * @param {string} recordId
 * @returns {Promise<{doc: import('./records.js').LocalRecord, entries: OutboxEntry[]}|null>}
 */
export function snapshotRecord(db, user, recordId) {
  return withTx(db, [STORES.records, STORES.outbox], 'readonly', async (tx) => {
    const doc = await sealedStore(tx, STORES.records).get([user, recordId]);
    if (!doc) return null;
    return { doc, entries: await sealedStore(tx, STORES.outbox).byPrefix('by_record', [user, recordId]) };
  });
}

/**
 * Put a record back as it was before a delete. Only while the delete is unsent: an entry sent
 * since (attempts grew, or a new entry went out) may already be on the server, and then it is
 * not ours to take back (the caller restores the record with a normal edit instead).
 * @param {IDBDatabase} db
 * @param {string} user
 * @param {{doc: import('./records.js').LocalRecord, entries: OutboxEntry[]}} snapshot
 * @returns {Promise<boolean>} restored
 */
export function restoreSnapshot(db, user, snapshot) {
  const { doc, entries } = snapshot;
  return withTx(db, [STORES.records, STORES.outbox], 'readwrite', async (tx) => {
    const outbox = sealedStore(tx, STORES.outbox);
    const now = await outbox.byPrefix('by_record', [user, doc.id]);
    const before = new Map(entries.map((e) => [e.seq, e]));
    const sentSince = now.some((e) => e.attempts > (before.get(e.seq)?.attempts ?? 0));
    if (sentSince) return false;
    for (const e of now) outbox.delete(/** @type {number} */ (e.seq));
    for (const e of entries) await outbox.put(e);
    await sealedStore(tx, STORES.records).put(doc);
    return true;
  });
}

/**
 * Whether the server may hold this record: it has a rev, or an entry of it was sent (a lost
 * answer may mean the server took it). A record it cannot hold is deleted with nothing sent.
 * @param {import('./records.js').LocalRecord} doc
 * @param {OutboxEntry[]} entries
 */
export function serverMayHold(doc, entries) {
  return !(doc.rev === null && entries.every((e) => e.attempts === 0 || e.state === 'rejected'));
}
