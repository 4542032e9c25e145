// The encrypted queue: the crypto wrapper, the PIN and server copies of the data key, the
// wrong-PIN limit, and sealing data kept in clear by 1.2 without losing any of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IDBFactory } from 'fake-indexeddb';
import { freshDb, NODE_A, recordData } from './helpers.mjs';
import { openDb, UPGRADE_STEPS, STORES, withTx, req } from '../../pwa/js/db.js';
import { sealJson, openJson, newDataKey, pinKey, wrapDataKey, unwrapDataKey, randomBytes, toBase64Url, fromBase64Url, CryptoFailure } from '../../pwa/js/crypto.js';
import { setKey, dropKey, hasKey, openRow, LockedError } from '../../pwa/js/sealed.js';
import { createVault, setPin, unlockWithPin, unlockWithServer, readVault, pinProblem, MAX_PIN_TRIES } from '../../pwa/js/keyring.js';
import { writeChange, nextBatch } from '../../pwa/js/outbox.js';
import { listRecords } from '../../pwa/js/records.js';
import { saveDraft, loadDraft } from '../../pwa/js/drafts.js';

const FAST = { iterations: 1000 }; // PBKDF2 at full cost is for phones, not for each test
const SERVER_KEY = toBase64Url(randomBytes(32));
const OTHER_KEY = toBase64Url(randomBytes(32));
const ID = '33333333-3333-4333-8333-333333333333';
const TEXT = 'Spoke with the shopkeeper about the broken bike racks';

const raw = (db, store) => withTx(db, [store], 'readonly', (tx) => req(tx.objectStore(store).getAll()));
const bytes = (v) => JSON.stringify(v, (_k, x) => (x instanceof ArrayBuffer || x instanceof Uint8Array ? Buffer.from(x).toString('latin1') : x));

test('sealJson opens only with its key and its place (AAD); a changed byte fails', async () => {
  const key = await newDataKey();
  const sealed = await sealJson(key, { summary: TEXT }, 'records|7|x');
  assert.ok(!Buffer.from(sealed.ct).toString('latin1').includes('bike'));
  assert.deepEqual(await openJson(key, sealed, 'records|7|x'), { summary: TEXT });
  await assert.rejects(openJson(key, sealed, 'records|7|y'), CryptoFailure);
  await assert.rejects(openJson(await newDataKey(), sealed, 'records|7|x'), CryptoFailure);
  const tampered = new Uint8Array(sealed.ct.slice(0));
  tampered[0] ^= 1;
  await assert.rejects(openJson(key, { iv: sealed.iv, ct: tampered.buffer }, 'records|7|x'), CryptoFailure);
  assert.deepEqual([...fromBase64Url(toBase64Url(new Uint8Array([0, 250, 255])))], [0, 250, 255]);
});

test('a wrapped data key opens with the PIN that wrapped it, not another', async () => {
  const key = await newDataKey();
  const salt = randomBytes(16);
  const wrapped = await wrapDataKey(key, await pinKey('482915', salt, 1000));
  const back = await unwrapDataKey(wrapped, await pinKey('482915', salt, 1000));
  const probe = await sealJson(key, 1, 'a');
  assert.equal(await openJson(back, probe, 'a'), 1);
  await assert.rejects(unwrapDataKey(wrapped, await pinKey('482916', salt, 1000)), CryptoFailure);
  await assert.rejects(unwrapDataKey(wrapped, await pinKey('482915', randomBytes(16), 1000)), CryptoFailure, 'the salt is part of it');
});

test('PIN rules: six digits or more, no repeats or runs', () => {
  assert.match(pinProblem('12345'), /at least 6/);
  assert.match(pinProblem('111111'), /repeat/);
  assert.match(pinProblem('123456'), /run/);
  assert.match(pinProblem('987654'), /run/);
  assert.equal(pinProblem('482915'), '');
  assert.equal(pinProblem('correct horse'), '');
});

test('the stores hold no record text, outbox data or draft in clear', async () => {
  const { db } = await freshDb();
  await writeChange(db, { user: '7', node: NODE_A, nowMs: Date.now(), recordId: ID, op: 'upsert', data: recordData({ summary: TEXT, place: 'Mill Lane' }) });
  await saveDraft(db, '7', 'new', { summary: `Draft: ${TEXT}` });
  for (const store of [STORES.records, STORES.outbox, STORES.drafts]) {
    const dump = bytes(await raw(db, store));
    assert.ok(!dump.includes('bike') && !dump.includes('Mill Lane') && !dump.includes('face_to_face'), store);
  }
  const [row] = await raw(db, STORES.records);
  assert.deepEqual(Object.keys(row).sort(), ['id', 'sealed', 'user']);
  assert.equal((await listRecords(db, '7'))[0].fields.summary, TEXT);
  assert.equal((await loadDraft(db, '7', 'new')).values.summary, `Draft: ${TEXT}`);
});

test('locked, nothing reads or writes; the rows are kept', async () => {
  const { db } = await freshDb();
  const key = await newDataKey();
  setKey('locked-one', key);
  await writeChange(db, { user: 'locked-one', node: NODE_A, nowMs: Date.now(), recordId: ID, op: 'upsert', data: recordData() });
  dropKey('locked-one');
  await assert.rejects(listRecords(db, 'locked-one'), LockedError);
  await assert.rejects(writeChange(db, { user: 'locked-one', node: NODE_A, nowMs: Date.now(), recordId: ID, op: 'upsert', data: { summary: 'x' } }), LockedError);
  setKey('locked-one', key);
  assert.equal((await listRecords(db, 'locked-one'))[0].fields.summary, recordData().summary);
  dropKey('locked-one');
});

test('wrong PINs are counted across reloads; at the limit only the server copy opens the key', async () => {
  const { db } = await freshDb();
  const user = 'pin-user';
  const key = await createVault(db, user, { serverKeyB64: SERVER_KEY, ...FAST });
  await setPin(db, user, key, '482915', FAST);
  await writeChange(db, { user, node: NODE_A, nowMs: Date.now(), recordId: ID, op: 'upsert', data: recordData({ summary: TEXT }) });
  dropKey(user);
  assert.equal((await unlockWithPin(db, user, '000001')).left, MAX_PIN_TRIES - 1);
  const ok = await unlockWithPin(db, user, '482915');
  assert.equal(ok.ok, true, 'a right PIN resets the count');
  assert.equal((await readVault(db, user)).failures, 0);
  dropKey(user);
  for (let i = 1; i <= MAX_PIN_TRIES; i += 1) assert.equal((await unlockWithPin(db, user, `00000${i}`)).left, MAX_PIN_TRIES - i);
  const spent = await readVault(db, user);
  assert.equal(spent.pin, null, 'the PIN copy is gone: a copied database cannot be tried further');
  assert.equal((await unlockWithPin(db, user, '482915')).ok, false, 'not even the right PIN');
  assert.equal(hasKey(user), false);
  assert.equal(await unlockWithServer(db, user, OTHER_KEY), null, 'another phone’s (or an old secret’s) key opens nothing');
  assert.ok(await unlockWithServer(db, user, SERVER_KEY));
  const [entry] = await nextBatch(db, user, 10);
  assert.equal(entry.data.summary, TEXT, 'the queue is kept and opens again');
  assert.equal((await readVault(db, user)).pin, null, 'the officer chooses a new PIN next');
  dropKey(user);
});

test('an upgrade from 1.2 seals the clear queue without losing a row', async () => {
  const factory = new IDBFactory();
  const old = await openDb({ factory, steps: UPGRADE_STEPS.slice(0, 2) });
  const user = 'old-user';
  // Rows as 1.2 wrote them: in clear.
  await withTx(old, [STORES.records, STORES.outbox, STORES.drafts, STORES.auth], 'readwrite', async (tx) => {
    await req(tx.objectStore(STORES.records).put({ user, id: ID, rev: null, server: null, fields: recordData({ summary: TEXT }), deleted: false, occurred_at: '2026-11-25T09:00:00.000Z', kind: 'face_to_face', mine: true, lastResult: null, receipt: { state: 'pending', at: null, errors: null, conflicts: [] } }));
    await req(tx.objectStore(STORES.outbox).add({ user, recordId: ID, op: 'upsert', hlc: '001764061200000-00000-' + NODE_A, baseRev: null, awaitRev: false, data: recordData({ summary: TEXT }), attempts: 0, state: 'queued', errors: null, createdAt: 1, updatedAt: 1 }));
    await req(tx.objectStore(STORES.drafts).put({ user, key: 'new', values: { summary: 'half typed' }, savedAt: '2026-11-25T09:00:00Z' }));
  });
  old.close();
  const db = await openDb({ factory });
  // Before the PIN, the clear rows still read (nothing is lost while the officer chooses one).
  await createVault(db, user, { pin: '482915', ...FAST });
  for (const store of [STORES.records, STORES.outbox, STORES.drafts]) {
    const rows = await raw(db, store);
    assert.equal(rows.length, 1, store);
    assert.ok(rows[0].sealed && !bytes(rows).includes('bike') && !bytes(rows).includes('half typed'), store);
  }
  assert.equal((await listRecords(db, user))[0].fields.summary, TEXT);
  const [entry] = await nextBatch(db, user, 10);
  assert.equal(entry.data.summary, TEXT);
  assert.equal(entry.seq, 1);
  assert.equal((await loadDraft(db, user, 'new')).values.summary, 'half typed');
  dropKey(user);
  assert.equal((await unlockWithPin(db, user, '482915')).ok, true, 'and the PIN opens it');
  const [row] = await raw(db, STORES.outbox);
  assert.deepEqual(await openRow(STORES.outbox, row).then((e) => e.data.summary), TEXT);
  dropKey(user);
});
