import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IDBFactory } from 'fake-indexeddb';
import { openDb, UPGRADE_STEPS, DB_VERSION, STORES, withTx, req } from '../../pwa/js/db.js';
import { writeChange, nextBatch } from '../../pwa/js/outbox.js';
import { listRecords } from '../../pwa/js/records.js';
import { NODE_A, recordData } from './helpers.mjs';

const ID = '22222222-2222-4222-8222-222222222222';

test('a new database runs every upgrade step', async () => {
  const db = await openDb({ factory: new IDBFactory() });
  assert.equal(db.version, DB_VERSION);
  assert.deepEqual([...db.objectStoreNames].sort(), Object.values(STORES).sort());
  db.close();
});

test('an upgrade keeps queued changes and records and runs only the new steps', async () => {
  const factory = new IDBFactory();
  const v1 = await openDb({ factory });
  await writeChange(v1, { user: 'u', node: NODE_A, nowMs: Date.parse('2026-11-25T09:00:00Z'), recordId: ID, op: 'upsert', data: recordData() });
  v1.close();

  let ran = 0;
  const steps = [...UPGRADE_STEPS, (db, tx) => {
    ran += 1;
    // A shape change: a new index over clear keys, and every queued entry rewritten (a step sees
    // sealed rows: it may move their clear keys about, never read their text).
    tx.objectStore(STORES.outbox).createIndex('by_record_only', ['recordId']);
    const cursorReq = tx.objectStore(STORES.outbox).openCursor();
    cursorReq.onsuccess = () => {
      const cursor = cursorReq.result;
      if (!cursor) return;
      cursor.update({ ...cursor.value });
      cursor.continue();
    };
  }];
  const v2 = await openDb({ factory, steps });
  assert.equal(v2.version, DB_VERSION + 1);
  assert.equal(ran, 1);
  const [entry] = await nextBatch(v2, 'u', 500);
  assert.equal(entry.data.summary, recordData().summary);
  assert.equal((await listRecords(v2, 'u')).length, 1);
  const byRecord = await withTx(v2, [STORES.outbox], 'readonly', (tx) =>
    req(tx.objectStore(STORES.outbox).index('by_record_only').getAll([ID])));
  assert.equal(byRecord.length, 1);
  v2.close();
  const again = await openDb({ factory, steps });
  assert.equal(ran, 1, 'steps never run twice');
  again.close();
});

test('an open connection steps aside for a newer version and says so', async () => {
  const factory = new IDBFactory();
  let told = 0;
  const old = await openDb({ factory, onVersionChange: () => { told += 1; } });
  const newer = await openDb({ factory, steps: [...UPGRADE_STEPS, () => {}] });
  assert.equal(told, 1);
  assert.equal(newer.version, DB_VERSION + 1);
  assert.throws(() => old.transaction([STORES.meta]), /close|InvalidStateError/i);
  newer.close();
});

test('a failing transaction body aborts the whole write', async () => {
  const factory = new IDBFactory();
  const db = await openDb({ factory });
  await assert.rejects(withTx(db, [STORES.meta], 'readwrite', async (tx) => {
    await req(tx.objectStore(STORES.meta).put({ scope: 'u', key: 'k', value: 1 }));
    throw new Error('boom');
  }), /boom/);
  const row = await withTx(db, [STORES.meta], 'readonly', (tx) => req(tx.objectStore(STORES.meta).get(['u', 'k'])));
  assert.equal(row, undefined);
  db.close();
});
