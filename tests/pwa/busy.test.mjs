// The server answers 503 `unavailable` (a database outage, overload) with Retry-After: the
// phone says "Server busy, will retry", keeps its queue and comes back when it was told to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDb, FakeServer, NODE_A, recordData } from './helpers.mjs';
import { createApi } from '../../pwa/js/api.js';
import { SyncEngine } from '../../pwa/js/sync.js';
import { writeChange } from '../../pwa/js/outbox.js';
import { listRecords } from '../../pwa/js/records.js';
import { describe } from '../../pwa/js/ui/syncbar.js';

const U = '7';
const NOW = Date.parse('2026-11-25T09:00:00Z');
const id = (i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const unavailable = (retryAfter) => () => ({
  status: 503, headers: retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) },
  body: { error: { code: 'unavailable', message: 'The database is not answering. Try again shortly.' } },
});

async function phone(server) {
  const { db } = await freshDb();
  const scheduled = [];
  const api = createApi({ fetch: server.fetch, baseUrl: 'http://test', getToken: () => 't', isOnline: () => true });
  const engine = new SyncEngine({ db, api, session: () => ({ userId: U, deviceId: NODE_A }), appVersion: 't', onAuthLost: () => {},
    now: () => NOW, random: () => 0.5, isOnline: () => true, timers: { set: (fn, ms) => scheduled.push({ fn, ms }), clear: () => {} } });
  for (let i = 1; i <= 2; i += 1) await writeChange(db, { user: U, node: NODE_A, nowMs: NOW, recordId: id(i), op: 'upsert', data: recordData() });
  await engine.refresh();
  return { db, engine, scheduled };
}

test('503 with Retry-After: the queue is kept, the bar says the server is busy, the retry comes when told', async () => {
  const server = new FakeServer();
  const d = await phone(server);
  server.failures.push(unavailable(30));
  await d.engine.sync();
  const s = d.engine.status;
  assert.equal(s.state, 'retrying');
  assert.equal(s.busy, true);
  assert.equal(s.waiting, 2, 'both records still queued');
  assert.equal(server.records.size, 0);
  assert.equal(d.scheduled.at(-1).ms, 30_000, 'retries after Retry-After');
  const words = describe(s, true);
  assert.equal(words.text, '2 records waiting');
  assert.equal(words.sub, 'Server busy, will retry');

  d.scheduled.at(-1).fn(); // the retry timer fires
  await d.engine.running;
  assert.equal(d.engine.status.state, 'idle');
  assert.equal(d.engine.status.busy, false);
  assert.equal(d.engine.status.waiting, 0);
  assert.equal(server.records.size, 2);
  assert.deepEqual((await listRecords(d.db, U)).map((r) => r.receipt.state), ['synced', 'synced']);
});

test('503 on the pull keeps what the push delivered and retries; no Retry-After falls back to backoff', async () => {
  const server = new FakeServer();
  const d = await phone(server);
  server.failures.push((kind) => (kind === 'pull' ? unavailable()() : null));
  await d.engine.sync();
  assert.equal(server.records.size, 2, 'the push was taken');
  assert.equal(d.engine.status.waiting, 0);
  assert.equal(d.engine.status.busy, true);
  assert.equal(d.scheduled.at(-1).ms, 1500, 'backoff (2 s, half jittered) when the server gives no time');
});

test('an absurd Retry-After is capped at an hour', async () => {
  const server = new FakeServer();
  const d = await phone(server);
  server.failures.push(unavailable(86400 * 30));
  await d.engine.sync();
  assert.equal(d.scheduled.at(-1).ms, 3600_000);
  assert.equal(d.engine.status.waiting, 2);
});
