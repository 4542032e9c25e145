import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDb, NODE_A, recordData } from './helpers.mjs';
import { STORES, withTx } from '../../pwa/js/db.js';
import { writeChange, nextBatch, markSent, applyResults } from '../../pwa/js/outbox.js';
import { applyPulled, listRecords, displayState, needsAttention, getRecord } from '../../pwa/js/records.js';

const U = '7';
const NOW = Date.parse('2026-11-25T09:00:00Z');
const id = (i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const ME = { id: 7, username: 'pc.one', display_name: 'PC One' };
const MATE = { id: 8, username: 'pc.two', display_name: 'PC Two' };

/** A record as pull delivers it. */
function pulled(i, officer, review = { state: 'pending', comment: '' }, data = {}) {
  return {
    id: id(i), rev: 1, deleted: false, data: recordData({ occurred_at: `2026-11-2${i}T10:00:00Z`, ...data }),
    hlc: {}, officer, team: 'T1', review, conflicts: [], updated_at: '2026-11-25T10:00:00Z',
  };
}

async function seed() {
  const { db } = await freshDb();
  const returned = { state: 'returned', comment: 'Say which street.', at: '2026-11-25T10:00:00Z' };
  await withTx(db, [STORES.records, STORES.outbox, STORES.meta], 'readwrite', async (tx) => {
    await applyPulled(tx, U, pulled(1, ME));                       // own, synced
    await applyPulled(tx, U, pulled(2, ME, returned));             // own, returned
    await applyPulled(tx, U, pulled(3, MATE, returned));           // team, returned to PC Two
    await applyPulled(tx, U, pulled(4, MATE));                     // team, synced
    await applyPulled(tx, U, pulled(5, ME, returned));             // own, returned, fix queued below
  });
  await writeChange(db, { user: U, node: NODE_A, nowMs: NOW, recordId: id(5), op: 'upsert', data: { summary: 'Fixed: Mill Lane.' } });
  // Own record 6, refused by the server.
  await writeChange(db, { user: U, node: NODE_A, nowMs: NOW, recordId: id(6), op: 'upsert', data: recordData({ occurred_at: '2026-11-26T10:00:00Z' }) });
  const batch = (await nextBatch(db, U, 500)).filter((e) => e.recordId === id(6));
  await markSent(db, batch);
  await applyResults(db, U, batch, { results: [{ id: id(6), hlc: batch[0].hlc, status: 'rejected', errors: { summary: ['No.'] } }] });
  return db;
}

test('a returned record reads as returned, not synced, until the officer queues a fix', async () => {
  const db = await seed();
  const state = async (i) => displayState(await getRecord(db, U, id(i)));
  assert.equal(await state(1), 'synced');
  assert.equal(await state(2), 'returned');
  assert.equal(await state(3), 'returned');
  assert.equal(await state(5), 'pending', 'the fix waits to sync');
  assert.equal(await state(6), 'rejected');
});

test('only the officer’s own returned or refused records need attention', async () => {
  const db = await seed();
  const all = await listRecords(db, U);
  assert.deepEqual(all.filter(needsAttention).map((r) => r.id), [id(6), id(2)]);
  assert.deepEqual((await listRecords(db, U, { attention: true })).map((r) => r.id), [id(6), id(2)]);
});

test('the log defaults to nothing hidden; "mine" keeps the officer’s own records only', async () => {
  const db = await seed();
  assert.equal((await listRecords(db, U)).length, 6);
  assert.deepEqual((await listRecords(db, U, { scope: 'team' })).map((r) => r.id), [6, 5, 4, 3, 2, 1].map(id));
  assert.deepEqual((await listRecords(db, U, { scope: 'mine' })).map((r) => r.id), [6, 5, 2, 1].map(id));
});
