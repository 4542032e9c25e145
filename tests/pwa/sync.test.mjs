import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDb, FakeServer, NODE_A, NODE_B, recordData } from './helpers.mjs';
import { createApi } from '../../pwa/js/api.js';
import { SyncEngine, backoffMs } from '../../pwa/js/sync.js';
import { writeChange, countPending } from '../../pwa/js/outbox.js';
import { getRecord, listRecords } from '../../pwa/js/records.js';
import { STORES, withTx, getMeta } from '../../pwa/js/db.js';
import { HLC } from '../../pwa/js/hlc.js';

const U = '7';
const LOCAL_NOW = Date.parse('2026-11-25T09:00:00Z');
const id = (i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

/** Timers that never fire on their own: tests look at what was scheduled. */
function manualTimers() {
  const scheduled = [];
  return { scheduled, set: (fn, ms) => scheduled.push({ fn, ms }) , clear: () => {} };
}

async function device(server, { node = NODE_A, online = () => true } = {}) {
  const { db } = await freshDb();
  const session = { userId: U, deviceId: node, needsSignIn: false };
  const timers = manualTimers();
  const authLost = [];
  const api = createApi({ fetch: server.fetch, baseUrl: 'http://test', getToken: () => 'tok', isOnline: online });
  const engine = new SyncEngine({
    db, api, session: () => session, appVersion: 'test', now: () => LOCAL_NOW, random: () => 0.5,
    timers, isOnline: online, onAuthLost: (e) => { session.needsSignIn = true; authLost.push(e); },
  });
  const write = (i, op, data) => writeChange(db, { user: U, node, nowMs: LOCAL_NOW, recordId: id(i), op, data });
  return { db, engine, session, timers, authLost, write };
}

test('backoff doubles, is capped and jittered', () => {
  assert.equal(backoffMs(1, 0), 1000);
  assert.equal(backoffMs(1, 1), 2000);
  assert.equal(backoffMs(3, 1), 8000);
  assert.equal(backoffMs(30, 1), 300000);
  assert.ok(backoffMs(30, 0) >= 150000);
});

test('push then pull: records become synced, the server clock offset is kept', async () => {
  const server = new FakeServer({ serverNowMs: LOCAL_NOW + 60_000 });
  const d = await device(server);
  for (let i = 1; i <= 3; i += 1) await d.write(i, 'upsert', recordData({ summary: `r${i}` }));
  await d.engine.sync();
  assert.equal(d.engine.status.state, 'idle');
  assert.equal(d.engine.status.waiting, 0);
  assert.equal(server.records.size, 3);
  const recs = await listRecords(d.db, U);
  assert.deepEqual(recs.map((r) => r.receipt.state), ['synced', 'synced', 'synced']);
  assert.equal(recs[0].rev, 1);
  const offset = await withTx(d.db, [STORES.meta], 'readonly', (tx) => getMeta(tx, U, 'offset'));
  assert.ok(Math.abs(offset - 60_000) < 1000, `offset ${offset}`);
  // New stamps use the corrected clock and are past the server's stamp.
  await d.write(4, 'upsert', recordData());
  await d.engine.sync();
  const stamp = server.pushes.at(-1).changes[0].hlc;
  assert.ok(HLC.parse(stamp).millis >= LOCAL_NOW + 60_000);
  assert.equal(server.pushes.at(-1).device_now, new Date(LOCAL_NOW + offset).toISOString());
  assert.equal(d.timers.scheduled.at(-1).ms, 3 * 60 * 1000, 'syncs again in a few minutes');
});

test('batches hold at most 500 changes and pull runs until more is false', async () => {
  const server = new FakeServer();
  const d = await device(server);
  for (let i = 1; i <= 1203; i += 1) await d.write(i, 'upsert', recordData());
  await d.engine.sync();
  assert.deepEqual(server.pushes.map((p) => p.changes.length), [500, 500, 203]);
  // `pending` is what stays queued after each batch is taken: the last batch says 0.
  assert.deepEqual(server.pushes.map((p) => p.pending), [703, 203, 0]);
  assert.equal(server.pulls, 3, '1203 changes at 500 a page');
  assert.equal((await listRecords(d.db, U)).length, 1203);
  assert.deepEqual(await countPending(d.db, U), { waiting: 0, rejected: 0, attention: 0, changes: 0 });
});

test('a lost response is resent with the same stamps and counted once', async () => {
  const server = new FakeServer();
  const d = await device(server);
  for (let i = 1; i <= 3; i += 1) await d.write(i, 'upsert', recordData());
  // The server applies the batch, then the connection drops before the answer arrives.
  server.failures.push((kind, body) => {
    if (kind !== 'push') return null;
    server.push(body);
    return new TypeError('network down');
  });
  await d.engine.sync();
  assert.equal(d.engine.status.state, 'retrying');
  assert.equal(d.engine.status.waiting, 3, 'nothing dropped');
  assert.equal(d.timers.scheduled.at(-1).ms, backoffMs(1, 0.5));
  await d.engine.sync();
  assert.equal(d.engine.status.waiting, 0);
  assert.equal(server.records.size, 3);
  assert.deepEqual(server.pushes[1].changes.map((c) => c.hlc), server.pushes[0].changes.map((c) => c.hlc));
  assert.ok(server.records.get(id(1)).rev === 1, 'applied once');
});

test('401 pauses sync, keeps the queue and is not retried', async () => {
  const server = new FakeServer();
  const d = await device(server);
  await d.write(1, 'upsert', recordData());
  server.failures.push(() => ({ status: 401, body: { error: { code: 'token_revoked', message: 'Signed out.' } } }));
  const before = d.timers.scheduled.length;
  await d.engine.sync();
  assert.equal(d.engine.status.state, 'auth');
  assert.equal(d.authLost.length, 1);
  assert.equal(d.timers.scheduled.length, before, 'no retry scheduled');
  await d.engine.sync();
  assert.equal(server.pushes.length, 0, 'no call while signed out');
  assert.equal(d.engine.status.waiting, 1);
  d.session.needsSignIn = false;
  await d.engine.sync();
  assert.equal(d.engine.status.waiting, 0);
});

test('one rejected change: the rest sync, it stays with its reasons until fixed', async () => {
  const server = new FakeServer();
  server.validate = (c) => (c.data.summary === 'bad' ? { summary: ['Not allowed.'] } : null);
  const d = await device(server);
  await d.write(1, 'upsert', recordData());
  await d.write(2, 'upsert', recordData({ summary: 'bad' }));
  await d.write(3, 'upsert', recordData());
  await d.engine.sync();
  assert.equal(server.records.size, 2);
  const bad = await getRecord(d.db, U, id(2));
  assert.equal(bad.receipt.state, 'rejected');
  assert.deepEqual(bad.receipt.errors, { summary: ['Not allowed.'] });
  assert.deepEqual(d.engine.status, { ...d.engine.status, waiting: 1, rejected: 1, state: 'idle' });
  await d.write(2, 'upsert', { summary: 'fixed' });
  await d.engine.sync();
  assert.equal(server.records.get(id(2)).data.summary, 'fixed');
  assert.equal(server.records.get(id(2)).data.kind, 'face_to_face', 'the fix is sent as a whole create');
  assert.equal((await getRecord(d.db, U, id(2))).receipt.state, 'synced');
});

test('413 splits the batch', async () => {
  const server = new FakeServer();
  const d = await device(server);
  for (let i = 1; i <= 10; i += 1) await d.write(i, 'upsert', recordData());
  server.failures.push((kind, body) => (kind === 'push' && body.changes.length > 5 ? { status: 413, body: { error: { code: 'body_too_large', message: 'Too big.' } } } : null));
  await d.engine.sync();
  assert.deepEqual(server.pushes.map((p) => p.changes.length), [5, 5]);
});

test('429 waits Retry-After; 400 is not retried in a loop', async () => {
  const server = new FakeServer();
  const d = await device(server);
  await d.write(1, 'upsert', recordData());
  server.failures.push(() => ({ status: 429, headers: { 'Retry-After': '42' }, body: { error: { code: 'rate_limited', message: 'Slow down.' } } }));
  await d.engine.sync();
  assert.equal(d.timers.scheduled.at(-1).ms, 42000);
  server.failures.push(() => ({ status: 400, body: { error: { code: 'validation_failed', message: 'Bad body.' } } }));
  await d.engine.sync();
  assert.equal(d.engine.status.state, 'error');
  assert.equal(d.engine.status.lastError, 'Bad body.');
  assert.equal(d.timers.scheduled.at(-1).ms, 30 * 60 * 1000);
  assert.equal(d.engine.status.waiting, 1);
});

test('offline fails fast without calling the network', async () => {
  const server = new FakeServer();
  const d = await device(server, { online: () => false });
  await d.write(1, 'upsert', recordData());
  await d.engine.sync();
  assert.equal(d.engine.status.state, 'offline');
  assert.equal(server.pushes.length + server.pulls, 0);
});

test('two devices edit different fields of one record: both edits survive', async () => {
  const server = new FakeServer();
  const a = await device(server, { node: NODE_A });
  const b = await device(server, { node: NODE_B });
  await a.write(1, 'upsert', recordData({ summary: 'first', people_count: 1 }));
  await a.engine.sync();
  await b.engine.sync();
  assert.equal((await getRecord(b.db, U, id(1))).fields.summary, 'first');
  await a.write(1, 'upsert', { summary: 'edited on A' });
  await b.write(1, 'upsert', { people_count: 9 });
  await a.engine.sync();
  await b.engine.sync();
  await a.engine.sync();
  for (const d of [a, b]) {
    const r = await getRecord(d.db, U, id(1));
    assert.equal(r.fields.summary, 'edited on A');
    assert.equal(r.fields.people_count, 9);
    assert.equal(r.receipt.state, 'synced');
  }
  assert.equal(server.pushes.at(-1).changes[0].base_rev, 1);
});

test('two devices edit the same field: a conflict keeps both values', async () => {
  const server = new FakeServer();
  const a = await device(server, { node: NODE_A });
  const b = await device(server, { node: NODE_B });
  await a.write(1, 'upsert', recordData({ summary: 'first' }));
  await a.engine.sync();
  await b.engine.sync();
  await a.write(1, 'upsert', { summary: 'A says' });
  await b.write(1, 'upsert', { summary: 'B says' });
  await a.engine.sync();
  await b.engine.sync();
  await a.engine.sync();
  for (const d of [a, b]) {
    const r = await getRecord(d.db, U, id(1));
    assert.equal(r.receipt.state, 'conflict');
    const values = r.receipt.conflicts.flatMap((c) => [c.winner.value, c.loser.value]).sort();
    assert.deepEqual(values, ['A says', 'B says']);
  }
});

test('a sync asked for during a sync runs once more afterwards, not in parallel', async () => {
  const server = new FakeServer();
  const d = await device(server);
  await d.write(1, 'upsert', recordData());
  let inFlight = 0;
  let maxInFlight = 0;
  const realFetch = server.fetch;
  server.fetch = async (...args) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 5));
    try { return await realFetch(...args); } finally { inFlight -= 1; }
  };
  const api = createApi({ fetch: server.fetch, baseUrl: 'http://test', getToken: () => 't', isOnline: () => true });
  d.engine.api = api;
  const first = d.engine.sync();
  await new Promise((r) => setTimeout(r, 1));
  await d.write(2, 'upsert', recordData());
  const second = d.engine.sync();
  assert.equal(first, second, 'one shared run');
  await second;
  assert.equal(maxInFlight, 1);
  assert.equal(server.records.size, 2, 'the change made mid-sync was sent by the extra run');
  assert.equal(d.engine.status.waiting, 0);
});

test('coming back online during a failing sync runs again at once, not after the backoff', async () => {
  const server = new FakeServer();
  const d = await device(server);
  await d.write(1, 'upsert', recordData());
  const realFetch = server.fetch;
  let calls = 0;
  server.fetch = async (...args) => {
    calls += 1;
    if (calls === 1) {
      await new Promise((r) => setTimeout(r, 5));
      throw new TypeError('Failed to fetch'); // the signal dropped mid-request
    }
    return realFetch(...args);
  };
  d.engine.api = createApi({ fetch: server.fetch, baseUrl: 'http://test', getToken: () => 't', isOnline: () => true });
  const failing = d.engine.sync();
  await new Promise((r) => setTimeout(r, 1));
  const resumed = d.engine.sync({ resume: true }); // the browser's 'online' event
  assert.equal(failing, resumed, 'one shared run');
  await resumed;
  assert.equal(server.records.size, 1, 'the queued change went in the run after the failure');
  assert.equal(d.engine.status.state, 'idle');
  assert.equal(d.engine.status.waiting, 0);
});

test('a pulled team record is read-only here and keeps its officer', async () => {
  const server = new FakeServer({ officer: { id: 99, username: 'pc.other', display_name: 'PC Other' } });
  const d = await device(server);
  server.records.set(id(5), { id: id(5), rev: 3, data: recordData({ summary: 'team' }), meta: {}, deleted: false, seq: 1 });
  server.seq = 1;
  await d.engine.sync();
  const r = await getRecord(d.db, U, id(5));
  assert.equal(r.mine, false);
  assert.equal(r.server.officer.display_name, 'PC Other');
  assert.equal(r.rev, 3);
  assert.equal(r.receipt.state, 'synced');
});

test('pending counts what stays queued after the batch: refused changes still count, a clean sync ends at 0', async () => {
  const server = new FakeServer();
  const d = await device(server);
  server.validate = (c) => (c.id === id(1) ? { summary: ['Too long.'] } : null);
  await d.write(1, 'upsert', recordData());
  await d.write(2, 'upsert', recordData());
  await d.engine.sync();
  assert.deepEqual(server.pushes.map((p) => p.pending), [0], 'nothing else was queued when it went');
  await d.write(3, 'upsert', recordData());
  await d.engine.sync();
  // Record 1 was refused: it stays on the phone, held back for the officer, and is reported.
  assert.deepEqual(server.pushes.at(-1).changes.map((c) => c.id), [id(3)]);
  assert.equal(server.pushes.at(-1).pending, 1);
});
