// What the log shows: when a record reached the server and its review in one badge, search over
// the phone's own records, drafts, device names, and why sync is blocked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IDBFactory } from 'fake-indexeddb';
import { freshDb, NODE_A, recordData } from './helpers.mjs';
import { openDb, UPGRADE_STEPS, STORES, withTx, getMeta, putMeta } from '../../pwa/js/db.js';
import { writeChange, nextBatch, markSent, applyResults } from '../../pwa/js/outbox.js';
import { applyPulled, getRecord, listRecords, filterRecords, matchesSearch, reviewState } from '../../pwa/js/records.js';
import { saveDraft, listDrafts } from '../../pwa/js/drafts.js';
import { deviceKind, defaultDeviceName } from '../../pwa/js/session.js';
import { blockedReason, signInWhy } from '../../pwa/js/ui/syncbar.js';

const U = '7';
const NOW = Date.parse('2026-11-25T09:00:00Z');
const id = (i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const ME = { id: 7, username: 'pc.one', display_name: 'PC One' };
const pull = (db, change) => withTx(db, [STORES.records, STORES.outbox], 'readwrite', (tx) => applyPulled(tx, U, change));
const state = (i, over = {}) => ({
  id: id(i), rev: 1, deleted: false, data: recordData(), hlc: {}, officer: ME, team: 'T1',
  review: { state: 'pending', comment: '', by: null, at: null }, conflicts: [],
  created_at: '2026-11-20T08:00:00+00:00', updated_at: '2026-11-20T08:00:00+00:00', ...over,
});

test('the badge time is when the record first reached the server: not the download, not a review', async () => {
  const { db } = await freshDb();
  await writeChange(db, { user: U, node: NODE_A, nowMs: NOW, recordId: id(1), op: 'upsert', data: recordData() });
  const batch = await nextBatch(db, U, 500);
  await markSent(db, batch);
  await applyResults(db, U, batch, { server_time: '2026-11-25T09:00:02Z', results: [{ id: id(1), hlc: batch[0].hlc, status: 'applied', rev: 1 }] });
  assert.equal((await getRecord(db, U, id(1))).receipt.at, '2026-11-25T09:00:02Z', 'the push that created it');
  await pull(db, state(1, { created_at: '2026-11-25T09:00:01+00:00', updated_at: '2026-11-25T09:00:01+00:00' }));
  assert.equal((await getRecord(db, U, id(1))).receipt.at, '2026-11-25T09:00:01+00:00', 'the server’s own time wins');
  // A supervisor approves at 11:45: the record's updated_at moves, its badge time does not.
  await pull(db, state(1, { rev: 1, created_at: '2026-11-25T09:00:01+00:00', updated_at: '2026-11-25T11:45:00+00:00',
    review: { state: 'approved', comment: '', by: { id: 3, display_name: 'Sgt Alpha' }, at: '2026-11-25T11:45:00+00:00' } }));
  const r = await getRecord(db, U, id(1));
  assert.equal(r.receipt.at, '2026-11-25T09:00:01+00:00');
  assert.equal(reviewState(r.server.review), 'approved');
  // An old record downloaded today keeps its own day.
  await pull(db, state(2));
  assert.equal((await getRecord(db, U, id(2))).receipt.at, '2026-11-20T08:00:00+00:00');
});

test('review states as the officer reads them, including back with the supervisor after a fix', () => {
  assert.equal(reviewState({ state: 'pending', at: null }), 'waiting');
  assert.equal(reviewState(null), 'waiting');
  assert.equal(reviewState({ state: 'approved', at: 'x' }), 'approved');
  assert.equal(reviewState({ state: 'returned', at: 'x' }), 'returned');
  assert.equal(reviewState({ state: 'pending', comment: 'Where?', at: '2026-11-25T11:45:00Z' }), 'resubmitted');
  assert.equal(reviewState({ state: 'resubmitted' }), 'resubmitted', 'a server that names it');
});

test('search finds the phone’s own records by any words, case and accents ignored', async () => {
  const { db } = await freshDb();
  await pull(db, state(1, { data: recordData({ summary: 'Spoke with the Café owner about bikes', place: 'High Street' }) }));
  await pull(db, state(2, { data: recordData({ summary: 'Litter pick', kind: 'community_event', place: 'Mill Lane' }) }));
  await pull(db, state(3, { data: recordData({ summary: 'School gate', contact_role: 'Head teacher' }) }));
  const rows = await listRecords(db, U);
  const titles = { community_event: 'Community event', face_to_face: 'Face-to-face contact' };
  const found = (q) => filterRecords(rows, { q }, (c) => titles[c] ?? '').map((r) => r.id);
  assert.deepEqual(found('cafe BIKES'), [id(1)]);
  assert.deepEqual(found('mill'), [id(2)]);
  assert.deepEqual(found('community event'), [id(2)], 'by the kind’s title');
  assert.deepEqual(found('head teacher'), [id(3)]);
  assert.deepEqual(found('cafe mill'), [], 'every word must match');
  assert.equal(found('').length, 3);
  assert.equal(matchesSearch(rows[0], '   '), true);
});

test('drafts are listed newest first, per officer', async () => {
  const { db } = await freshDb();
  await saveDraft(db, U, 'new', { summary: 'half typed' });
  await new Promise((r) => setTimeout(r, 5));
  await saveDraft(db, U, `edit:${id(1)}`, { summary: 'an edit' });
  await saveDraft(db, 'someone-else', 'new', { summary: 'not mine' });
  assert.deepEqual((await listDrafts(db, U)).map((d) => d.key), [`edit:${id(1)}`, 'new']);
});

test('a phone left unnamed is named after its officer and its kind', () => {
  const android = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36';
  const iphone = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
  assert.equal(deviceKind(android), 'Android Chrome');
  assert.equal(deviceKind(iphone), 'iPhone Safari');
  assert.equal(deviceKind('Mozilla/5.0 (Linux; Android 13; SM-A536B) SamsungBrowser/23.0 Chrome/115.0 Mobile Safari/537.36'), 'Android Samsung Internet');
  assert.equal(deviceKind(''), 'browser');
  assert.equal(defaultDeviceName('PC Okafor', 'Android Chrome'), 'PC Okafor’s phone (Android Chrome)');
  assert.equal(defaultDeviceName('PC Okafor', 'Windows Edge'), 'PC Okafor’s device (Windows Edge)');
  assert.ok(defaultDeviceName('x'.repeat(100), 'Android Chrome').length <= 80, 'fits the server’s limit');
});

test('why records stay on the phone: offline, signed out by a supervisor, server busy', () => {
  const s = { state: 'idle', waiting: 1, rejected: 0, busy: false };
  assert.equal(blockedReason(s, true, { needsSignIn: false }), null, 'sync works: a plain "Saved."');
  assert.match(blockedReason(s, false, null), /when there is a signal/);
  const revoked = blockedReason({ ...s, state: 'auth' }, true, { needsSignIn: true, signInReason: 'A supervisor signed this phone out. Sign in again.' });
  assert.equal(revoked, 'A supervisor signed this phone out. It syncs once you sign in again.');
  assert.match(blockedReason({ ...s, state: 'retrying', busy: true }, true, null), /server is busy/);
  assert.equal(signInWhy(''), 'Your sign-in on this phone has ended.');
});

test('upgrading to 1.2 forgets the pull cursor (to fetch reach times and reviewers) and keeps the queue', async () => {
  const factory = new IDBFactory();
  const v1 = await openDb({ factory, steps: UPGRADE_STEPS.slice(0, 1) });
  await writeChange(v1, { user: U, node: NODE_A, nowMs: NOW, recordId: id(1), op: 'upsert', data: recordData() });
  await withTx(v1, [STORES.meta], 'readwrite', async (tx) => {
    await putMeta(tx, U, 'cursor', '41');
    await putMeta(tx, U, 'lastSync', '2026-11-25T08:00:00Z');
  });
  v1.close();
  const v2 = await openDb({ factory });
  const [cursor, last] = await withTx(v2, [STORES.meta], 'readonly', async (tx) => [await getMeta(tx, U, 'cursor'), await getMeta(tx, U, 'lastSync')]);
  assert.equal(cursor, undefined);
  assert.equal(last, '2026-11-25T08:00:00Z');
  assert.equal((await nextBatch(v2, U, 500)).length, 1);
  v2.close();
});

test('signing in with the device name left blank names the phone after the officer', async () => {
  const { signIn, currentSession, signInHints } = await import('../../pwa/js/session.js');
  const { db } = await freshDb();
  const calls = [];
  const api = {
    signIn: async (body) => { calls.push(['signIn', body.device_name]); return { token: 'tok', device_id: 'd1', user: { id: 7, username: 'pc.okafor', display_name: 'PC Okafor', role: 'officer' }, team: null }; },
    renameDevice: async (name, token) => { calls.push(['rename', name, token]); return { device_id: 'd1', device_name: name }; },
  };
  const session = await signIn(db, api, { username: 'pc.okafor', password: 'x', deviceName: '' });
  const kind = deviceKind(globalThis.navigator?.userAgent ?? '');
  assert.equal(session.deviceName, `PC Okafor’s phone (${kind})`);
  assert.deepEqual(calls.map((c) => c[0]), ['signIn', 'rename']);
  assert.equal(calls[1][2], 'tok', 'renamed with the token just issued');
  assert.equal((await currentSession(db)).deviceName, session.deviceName);
  assert.equal((await signInHints(db)).deviceName, '', 'the next officer on this phone gets their own name');
  calls.length = 0;
  const named = await signIn(db, api, { username: 'pc.okafor', password: 'x', deviceName: 'Van 3 tablet' });
  assert.equal(named.deviceName, 'Van 3 tablet');
  assert.deepEqual(calls, [['signIn', 'Van 3 tablet']], 'a name typed is used as it is');
});
