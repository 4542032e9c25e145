import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDb, NODE_A, recordData } from './helpers.mjs';
import { writeChange, nextBatch, markSent, applyResults, countPending } from '../../pwa/js/outbox.js';
import { getRecord, listRecords } from '../../pwa/js/records.js';
import { STORES, withTx, wipeUser } from '../../pwa/js/db.js';
import { sealedStore } from '../../pwa/js/sealed.js';
import { HLC } from '../../pwa/js/hlc.js';

const U = '7';
const NOW = Date.parse('2026-11-25T09:00:00Z');
const ID = '11111111-1111-4111-8111-111111111111';

async function entries(db, user = U) {
  return withTx(db, [STORES.outbox], 'readonly', (tx) => sealedStore(tx, STORES.outbox).byPrefix('by_user', [user]));
}

test('a new record is written with one outbox entry and a rising stamp', async () => {
  const { db } = await freshDb();
  const view = await writeChange(db, { user: U, node: NODE_A, nowMs: NOW, recordId: ID, op: 'upsert', data: recordData() });
  assert.equal(view.receipt.state, 'pending');
  assert.equal(view.fields.summary, recordData().summary);
  const [e] = await entries(db);
  assert.equal(e.baseRev, null);
  assert.equal(HLC.parse(e.hlc).millis, NOW);
  assert.equal(HLC.parse(e.hlc).node, NODE_A);
});

test('edits before the first send fold into one entry with a newer stamp', async () => {
  const { db } = await freshDb();
  await writeChange(db, { user: U, node: NODE_A, nowMs: NOW, recordId: ID, op: 'upsert', data: recordData() });
  const first = (await entries(db))[0].hlc;
  await writeChange(db, { user: U, node: NODE_A, nowMs: NOW, recordId: ID, op: 'upsert', data: { people_count: 5 } });
  const all = await entries(db);
  assert.equal(all.length, 1);
  assert.equal(all[0].data.people_count, 5);
  assert.equal(all[0].data.summary, recordData().summary);
  assert.ok(all[0].hlc > first);
});

test('an edit after a send waits for the rev the server gives the first entry', async () => {
  const { db } = await freshDb();
  await writeChange(db, { user: U, node: NODE_A, nowMs: NOW, recordId: ID, op: 'upsert', data: recordData() });
  const batch = await nextBatch(db, U, 500);
  await markSent(db, batch);
  await writeChange(db, { user: U, node: NODE_A, nowMs: NOW + 1, recordId: ID, op: 'upsert', data: { summary: 'Edited' } });
  let all = await entries(db);
  assert.equal(all.length, 2);
  assert.equal(all[1].awaitRev, true);
  // Only the first entry of a record goes in a batch.
  assert.deepEqual((await nextBatch(db, U, 500)).map((e) => e.seq), [all[0].seq]);
  await applyResults(db, U, batch, { results: [{ id: ID, hlc: batch[0].hlc, status: 'applied', rev: 1 }], server_time: '2026-11-25T09:00:01Z' });
  all = await entries(db);
  assert.equal(all.length, 1);
  assert.equal(all[0].baseRev, 1);
  assert.equal(all[0].awaitRev, false);
  assert.deepEqual(all[0].data, { summary: 'Edited' });
  const view = await getRecord(db, U, ID);
  assert.equal(view.rev, 1);
  assert.equal(view.fields.summary, 'Edited');
  assert.equal(view.receipt.state, 'pending');
});

test('a rejected entry stays with its reasons; the fix is folded in under a new stamp', async () => {
  const { db } = await freshDb();
  await writeChange(db, { user: U, node: NODE_A, nowMs: NOW, recordId: ID, op: 'upsert', data: recordData({ occurred_at: '2030-01-01T00:00:00Z' }) });
  const batch = await nextBatch(db, U, 500);
  await markSent(db, batch);
  const errors = { occurred_at: ['Is in the future.'] };
  await applyResults(db, U, batch, { results: [{ id: ID, hlc: batch[0].hlc, status: 'rejected', errors }] });
  let view = await getRecord(db, U, ID);
  assert.equal(view.receipt.state, 'rejected');
  assert.deepEqual(view.receipt.errors, errors);
  assert.deepEqual(await nextBatch(db, U, 500), [], 'a rejected entry is not re-sent as it is');
  assert.deepEqual(await countPending(db, U), { waiting: 1, rejected: 1, attention: 1, changes: 1 });
  await writeChange(db, { user: U, node: NODE_A, nowMs: NOW + 5, recordId: ID, op: 'upsert', data: { occurred_at: '2026-11-25T08:00:00Z' } });
  const all = await entries(db);
  assert.equal(all.length, 1);
  assert.equal(all[0].state, 'queued');
  assert.equal(all[0].baseRev, null, 'still a create: nothing was written');
  assert.equal(all[0].data.summary, recordData().summary, 'the create keeps every field');
  assert.notEqual(all[0].hlc, batch[0].hlc);
  view = await getRecord(db, U, ID);
  assert.equal(view.receipt.state, 'pending');
});

test('deleting a record the server never took forgets it; deleting a synced one queues a tombstone', async () => {
  const { db } = await freshDb();
  await writeChange(db, { user: U, node: NODE_A, nowMs: NOW, recordId: ID, op: 'upsert', data: recordData() });
  assert.equal(await writeChange(db, { user: U, node: NODE_A, nowMs: NOW, recordId: ID, op: 'delete' }), null);
  assert.equal((await entries(db)).length, 0);
  assert.equal(await getRecord(db, U, ID), undefined);

  await writeChange(db, { user: U, node: NODE_A, nowMs: NOW, recordId: ID, op: 'upsert', data: recordData() });
  const batch = await nextBatch(db, U, 500);
  await markSent(db, batch);
  await applyResults(db, U, batch, { results: [{ id: ID, hlc: batch[0].hlc, status: 'applied', rev: 1 }] });
  const view = await writeChange(db, { user: U, node: NODE_A, nowMs: NOW + 9, recordId: ID, op: 'delete' });
  assert.equal(view.deleted, true);
  const [tomb] = await entries(db);
  assert.equal(tomb.op, 'delete');
  assert.equal(tomb.baseRev, 1);
  assert.deepEqual(await listRecords(db, U), []);
});

test('queues are kept per officer and wiped per officer', async () => {
  const { db } = await freshDb();
  await writeChange(db, { user: 'A', node: NODE_A, nowMs: NOW, recordId: ID, op: 'upsert', data: recordData() });
  await writeChange(db, { user: 'B', node: NODE_A, nowMs: NOW, recordId: ID, op: 'upsert', data: recordData({ summary: 'B' }) });
  assert.equal((await listRecords(db, 'A')).length, 1);
  assert.equal((await nextBatch(db, 'B', 500))[0].data.summary, 'B');
  await wipeUser(db, 'A');
  assert.equal((await listRecords(db, 'A')).length, 0);
  assert.equal((await entries(db, 'A')).length, 0);
  assert.equal((await entries(db, 'B')).length, 1);
  assert.equal((await listRecords(db, 'B')).length, 1);
});

test('a batch holds at most the limit, first entries in queue order', async () => {
  const { db } = await freshDb();
  const ids = [];
  for (let i = 0; i < 7; i += 1) {
    const id = `00000000-0000-4000-8000-00000000000${i}`;
    ids.push(id);
    await writeChange(db, { user: U, node: NODE_A, nowMs: NOW + i, recordId: id, op: 'upsert', data: recordData() });
  }
  const batch = await nextBatch(db, U, 5);
  assert.deepEqual(batch.map((e) => e.recordId), ids.slice(0, 5));
});

test('the log filters by kind and day and lists newest first', async () => {
  const { db } = await freshDb();
  const mk = (i, occurred_at, kind) => writeChange(db, { user: U, node: NODE_A, nowMs: NOW + i, recordId: `00000000-0000-4000-8000-00000000000${i}`, op: 'upsert', data: recordData({ occurred_at, kind }) });
  await mk(1, '2026-11-20T10:00:00Z', 'face_to_face');
  await mk(2, '2026-11-24T10:00:00Z', 'school_visit');
  await mk(3, '2026-11-22T10:00:00Z', 'face_to_face');
  assert.deepEqual((await listRecords(db, U)).map((r) => r.occurred_at.slice(0, 10)), ['2026-11-24', '2026-11-22', '2026-11-20']);
  assert.equal((await listRecords(db, U, { kind: 'face_to_face' })).length, 2);
  assert.equal((await listRecords(db, U, { from: '2026-11-21', to: '2026-11-23' })).length, 1);
});
