import { test } from 'node:test';
import assert from 'node:assert/strict';
import { storageAdvice, formatBytes } from '../../pwa/js/storage.js';
import { describe } from '../../pwa/js/ui/syncbar.js';
import { createApi, ApiError } from '../../pwa/js/api.js';

const DAY = 86400000;
const NOW = Date.parse('2026-11-25T12:00:00Z');

test('storage advice: nearly full, not synced for days, install to the home screen', () => {
  const base = { persisted: true, usage: 10, quota: 100, lastSync: new Date(NOW).toISOString(), waiting: 0, nowMs: NOW, standalone: true };
  assert.deepEqual(storageAdvice(base), []);
  assert.match(storageAdvice({ ...base, usage: 85 })[0].text, /85% full/);
  const stale = storageAdvice({ ...base, waiting: 3, lastSync: new Date(NOW - 4 * DAY).toISOString() });
  assert.match(stale[0].text, /3 changes have not synced for 4 days/);
  assert.match(storageAdvice({ ...base, persisted: false, standalone: false })[0].text, /home screen/);
  assert.equal(formatBytes(1536), '2 KB');
});

test('the status line says what waits and what needs attention', () => {
  const s = { state: 'idle', waiting: 0, rejected: 0, lastSuccess: new Date().toISOString(), lastError: null, nextRetryAt: null, failures: 0 };
  assert.equal(describe(s, true).text, 'All changes synced');
  assert.equal(describe({ ...s, waiting: 3 }, false).text, '3 records waiting');
  assert.match(describe({ ...s, waiting: 3 }, false).sub, /^Offline/);
  assert.equal(describe({ ...s, waiting: 2, rejected: 1, attention: 1 }, true).text, '1 record waiting · 1 needs attention');
  // The attention count is the log banner's (refused and returned records), not the outbox's.
  assert.equal(describe({ ...s, waiting: 2, rejected: 1, attention: 3 }, true).text, '1 record waiting · 3 need attention');
  const returnedOnly = describe({ ...s, waiting: 0, rejected: 0, attention: 2 }, true);
  assert.equal(returnedOnly.text, 'All changes synced');
  assert.equal(returnedOnly.sub, '2 need attention · last synced just now');
  assert.equal(describe({ ...s, state: 'retrying', busy: true, waiting: 2 }, true).sub, 'Server busy, will retry');
  assert.equal(describe({ ...s, state: 'auth', waiting: 1 }, true).text, 'Sign in again to sync');
});

test('api errors carry the protocol code, field errors and Retry-After', async () => {
  const fetch = async () => new Response(JSON.stringify({ error: { code: 'rate_limited', message: 'Slow down.' } }), { status: 429, headers: { 'Retry-After': '30' } });
  const api = createApi({ fetch, isOnline: () => true });
  await assert.rejects(api.pull('', 10), (e) => e instanceof ApiError && e.code === 'rate_limited' && e.retryAfterS === 30 && e.transient && !e.needsSignIn);
  const revoked = createApi({ fetch: async () => new Response(JSON.stringify({ error: { code: 'token_revoked', message: 'Revoked.' } }), { status: 401 }), isOnline: () => true });
  await assert.rejects(revoked.pull('', 10), (e) => e.needsSignIn && !e.transient);
});

test('api sends the bearer token and JSON, and fails fast offline', async () => {
  let seen;
  const fetch = async (url, init) => {
    seen = { url, init };
    return new Response(JSON.stringify({ results: [], server_time: 'x' }), { status: 200 });
  };
  const api = createApi({ fetch, baseUrl: 'http://h', getToken: () => 'T', isOnline: () => true });
  await api.push({ changes: [] });
  assert.equal(seen.url, 'http://h/api/v1/sync/push');
  assert.equal(seen.init.headers.Authorization, 'Bearer T');
  assert.equal(seen.init.headers['Content-Type'], 'application/json');
  let called = false;
  const offline = createApi({ fetch: async () => { called = true; }, isOnline: () => false });
  await assert.rejects(offline.pull('', 1), (e) => e.status === 0 && e.transient);
  assert.equal(called, false);
});
