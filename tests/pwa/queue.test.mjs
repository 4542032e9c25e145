// What the sync bar counts, deleting a record that never reached the server, and Undo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDb, FakeServer, NODE_A, recordData } from './helpers.mjs';
import { createApi } from '../../pwa/js/api.js';
import { SyncEngine } from '../../pwa/js/sync.js';
import { STORES, withTx } from '../../pwa/js/db.js';
import { sealedStore } from '../../pwa/js/sealed.js';
import { writeChange, nextBatch, markSent, applyResults, countPending, snapshotRecord, restoreSnapshot, serverMayHold } from '../../pwa/js/outbox.js';
import { applyPulled, getRecord, listRecords } from '../../pwa/js/records.js';

const U = '7';
const NOW = Date.parse('2026-11-25T09:00:00Z');
const id = (i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const write = (db, i, op, data, nowMs = NOW) => writeChange(db, { user: U, node: NODE_A, nowMs, recordId: id(i), op, data });
const outbox = (db) => withTx(db, [STORES.outbox], 'readonly', (tx) => sealedStore(tx, STORES.outbox).byPrefix('by_user', [U]));

async function sendAndTake(db, status = 'applied') {
  const batch = await nextBatch(db, U, 500);
  await markSent(db, batch);
  await applyResults(db, U, batch, { server_time: '2026-11-25T09:05:00Z', results: batch.map((e, n) => ({ id: e.recordId, hlc: e.hlc, status, rev: n + 1 })) });
}

test('the bar counts records, not changes: an edit of a record waiting to sync is still one record', async () => {
  const { db } = await freshDb();
  await write(db, 1, 'upsert', recordData());
  await write(db, 2, 'upsert', recordData());
  const batch = await nextBatch(db, U, 500);
  await markSent(db, batch); // sent, no answer yet: later edits get entries of their own
  await write(db, 1, 'upsert', { summary: 'edited' }, NOW + 1);
  assert.equal((await outbox(db)).length, 3, 'three changes in the outbox');
  assert.deepEqual(await countPending(db, U), { waiting: 2, rejected: 0, attention: 0, changes: 3 });
});

test('attention counts the officer’s returned records too, as the log’s banner does', async () => {
  const { db } = await freshDb();
  await write(db, 1, 'upsert', recordData({ occurred_at: '2030-01-01T00:00:00Z' }));
  await sendAndTake(db, 'rejected');
  await withTx(db, [STORES.records, STORES.outbox], 'readwrite', (tx) => applyPulled(tx, U, {
    id: id(2), rev: 1, deleted: false, data: recordData(), hlc: {}, officer: { id: 7 }, team: 'T1',
    review: { state: 'returned', comment: 'Where?', by: { id: 3, display_name: 'Sgt Alpha' }, at: '2026-11-25T09:30:00Z' },
    conflicts: [], created_at: '2026-11-25T09:05:00Z', updated_at: '2026-11-25T09:30:00Z',
  }));
  const counts = await countPending(db, U);
  assert.equal(counts.rejected, 1);
  assert.equal(counts.attention, 2, 'one refused, one returned');
});

test('a record made and deleted with no signal is forgotten with nothing sent, even after a sync was tried', async () => {
  const server = new FakeServer();
  const { db } = await freshDb();
  let online = false;
  const api = createApi({ fetch: server.fetch, baseUrl: 'http://test', getToken: () => 't', isOnline: () => online });
  const engine = new SyncEngine({ db, api, session: () => ({ userId: U, deviceId: NODE_A }), appVersion: 't', onAuthLost: () => {},
    isOnline: () => online, timers: { set: () => 0, clear: () => {} } });
  await write(db, 1, 'upsert', recordData());
  await engine.sync(); // offline: tried, nothing left the phone
  assert.equal(engine.status.state, 'offline');
  assert.equal((await outbox(db))[0].attempts, 0, 'an offline try does not count as sent');
  assert.equal(await write(db, 1, 'delete'), null);
  assert.deepEqual(await outbox(db), []);
  assert.equal(await getRecord(db, U, id(1)), undefined);
  online = true;
  await engine.sync();
  assert.equal(server.pushes.length, 0, 'nothing sent');
  assert.equal(engine.status.waiting, 0);
});

test('Undo of a delete puts back a never-synced record and its queued change', async () => {
  const { db } = await freshDb();
  await write(db, 1, 'upsert', recordData({ summary: 'keep me' }));
  const before = await snapshotRecord(db, U, id(1));
  assert.equal(serverMayHold(before.doc, before.entries), false);
  await write(db, 1, 'delete');
  assert.deepEqual(await listRecords(db, U), []);
  assert.equal(await restoreSnapshot(db, U, before), true);
  const [back] = await listRecords(db, U);
  assert.equal(back.fields.summary, 'keep me');
  assert.equal(back.receipt.state, 'pending');
  const [entry] = await nextBatch(db, U, 500);
  assert.equal(entry.op, 'upsert');
  assert.equal(entry.baseRev, null, 'still the create');
});

test('Undo of a synced record’s delete drops the tombstone; once sent it is not taken back', async () => {
  const { db } = await freshDb();
  await write(db, 1, 'upsert', recordData());
  await sendAndTake(db);
  const before = await snapshotRecord(db, U, id(1));
  assert.equal(serverMayHold(before.doc, before.entries), true);
  await write(db, 1, 'delete', undefined, NOW + 5);
  assert.equal(await restoreSnapshot(db, U, before), true);
  assert.deepEqual(await outbox(db), [], 'no tombstone left to send');
  assert.equal((await getRecord(db, U, id(1))).deleted, false);

  await write(db, 1, 'delete', undefined, NOW + 6);
  await markSent(db, await nextBatch(db, U, 500)); // a background sync sent it meanwhile
  assert.equal(await restoreSnapshot(db, U, before), false, 'the server may have it: restore with an edit instead');
  assert.equal((await outbox(db)).length, 1);
});
