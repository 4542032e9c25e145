// The priority loop on the phone (issue 15): the alerts a pull brings, kept sealed and offline;
// concerns, a priority's own fields and links as the form sends them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDb } from './helpers.mjs';
import { SyncEngine } from '../../pwa/js/sync.js';
import { readAlerts } from '../../pwa/js/alerts.js';
import { STORES, withTx, getMeta } from '../../pwa/js/db.js';
import { blankValues, toRecord, changedFields, valuesFromRecord } from '../../pwa/js/ui/form.js';
import { loopRecord, priorityChoices, meetingChoices, concernChoices, ownerChoices, PRIORITY_FIELDS } from '../../pwa/js/loop.js';
import { detectRecord } from '../../pwa/js/pii.js';

const U = '7';
const NOW = new Date('2026-11-25T09:30:20Z');
const ALERT = { id: 'a1', rule: 'review_overdue', standard: 'PRI', team: 'NPT-A', title: 'Priority past its review date',
  detail: 'Speeding on Dorchester Road was due for review on 20 Nov.', officer_id: 7, record_ids: ['r1'], due: '2026-11-20' };

/** An engine whose server answers pulls with the given pages, in turn. */
async function engineWith(pagesPerSync) {
  const { db } = await freshDb();
  let at = Date.parse('2026-11-25T09:00:00Z');
  const queue = [...pagesPerSync];
  let pages = [];
  const api = { push: async () => { throw new Error('nothing to push'); }, pull: async () => pages.shift() };
  const engine = new SyncEngine({ db, api, session: () => ({ userId: U, deviceId: 'd'.repeat(32) }), appVersion: 'test',
    now: () => at, random: () => 0.5, timers: { set: () => 0, clear: () => {} }, isOnline: () => true, onAuthLost: () => {} });
  const sync = async () => {
    pages = [...queue.shift()];
    at += 60_000;
    await engine.sync();
    assert.equal(engine.status.state, 'idle', engine.status.lastError ?? '');
  };
  return { db, sync };
}

test('alerts: the last page of a pull replaces the list; a pull without the key keeps it', async () => {
  const second = { ...ALERT, id: 'a2', title: 'No feedback on a priority' };
  const { db, sync } = await engineWith([
    [{ changes: [], cursor: '1', more: true }, { changes: [], cursor: '2', more: false, alerts: [ALERT, { ...second, extra: 'dropped' }] }],
    [{ changes: [], cursor: '3', more: false }],
    [{ changes: [], cursor: '4', more: false, alerts: [second] }],
    [{ changes: [], cursor: '5', more: false, alerts: [] }],
  ]);
  assert.equal(await readAlerts(db, U), null, 'nothing before the first sync');
  await sync();
  let stored = await readAlerts(db, U);
  assert.deepEqual(stored.alerts.map((a) => a.id), ['a1', 'a2']);
  assert.deepEqual(stored.alerts[0], ALERT);
  assert.equal('extra' in stored.alerts[1], false, 'only the documented keys are kept');
  assert.equal(stored.at, '2026-11-25T09:01:00.000Z', 'the time it was received');
  await sync();
  assert.deepEqual(await readAlerts(db, U), stored, 'a pull without alerts keeps the previous list and its time');
  await sync();
  stored = await readAlerts(db, U);
  assert.deepEqual(stored.alerts.map((a) => a.id), ['a2']);
  assert.equal(stored.at, '2026-11-25T09:03:00.000Z');
  await sync();
  assert.deepEqual((await readAlerts(db, U)).alerts, [], 'an empty list clears them');
});

test('alerts are sealed under the officer’s key: no title in clear in IndexedDB', async () => {
  const { db, sync } = await engineWith([[{ changes: [], cursor: '1', more: false, alerts: [ALERT] }]]);
  await sync();
  const raw = await withTx(db, [STORES.meta], 'readonly', (tx) => getMeta(tx, U, 'alerts'));
  assert.ok(raw.ct && raw.iv);
  assert.ok(!JSON.stringify(raw).includes('Dorchester'));
});

const SCHEMA = {
  version: '2', schema_version: 2, record: {},
  kinds: [
    { code: 'face_to_face', title: 'Face-to-face contact', standards: ['F2F'], meeting: false },
    { code: 'feedback', title: 'Feedback to the public', standards: ['YSWD'], meeting: false },
    { code: 'local_priority', title: 'Local priority', standards: ['PRI'], meeting: false },
  ],
  groups: [], standards: { catalogue: 'x', version: '1', standards: [] },
  concern_categories: [{ code: 'speeding', title: 'Speeding' }, { code: 'parking', title: 'Parking' }],
};
const base = (over) => ({ ...blankValues(NOW), summary: 'Talked about cars', ...over });

test('concerns travel on any kind, trimmed; an empty row is dropped; a row needs a category', () => {
  const { data, errors } = toRecord(base({ kind: 'face_to_face', concerns: [{ category: 'speeding', phrase: ' cars at 50 ' }, { category: '', phrase: '' }] }), SCHEMA, NOW.getTime());
  assert.deepEqual(errors, {});
  assert.deepEqual(data.concerns, [{ category: 'speeding', phrase: 'cars at 50' }]);
  assert.equal(data.priority_id, null);
  for (const name of PRIORITY_FIELDS) assert.equal(name in data, false, `${name} only on a local priority`);
  assert.ok(toRecord(base({ kind: 'face_to_face', concerns: [{ category: '', phrase: 'no category' }] }), SCHEMA, NOW.getTime()).errors.concerns);
  assert.ok(toRecord(base({ kind: 'face_to_face', concerns: [{ category: 'parking', phrase: 'x'.repeat(121) }] }), SCHEMA, NOW.getTime()).errors.concerns);
});

test('a concern’s phrase is checked for personal data like other free text', () => {
  assert.deepEqual(detectRecord({ concerns: [{ category: 'parking', phrase: 'Van AB12 CDE on the pavement' }] }), { concerns: ['vehicle_reg'] });
  assert.deepEqual(detectRecord({ concerns: [{ category: 'parking', phrase: 'vans on the pavement' }] }), {});
});

test('a priority sends its own fields; other kinds never do, whatever the form holds', () => {
  const typed = { title: ' Speeding on Dorchester Road ', priority_status: 'in_progress', review_by: '2027-01-31', owner_id: '7',
    meeting_id: 'm1', concern_record_ids: ['c1', 'c2'], priority_id: 'p0' };
  const { data, errors } = toRecord(base({ kind: 'local_priority', ...typed }), SCHEMA, NOW.getTime());
  assert.deepEqual(errors, {});
  assert.deepEqual({ title: data.title, status: data.priority_status, review: data.review_by, owner: data.owner_id, meeting: data.meeting_id, behind: data.concern_record_ids, closed: data.closed_on, link: data.priority_id },
    { title: 'Speeding on Dorchester Road', status: 'in_progress', review: '2027-01-31', owner: 7, meeting: 'm1', behind: ['c1', 'c2'], closed: null, link: null });
  const action = toRecord(base({ kind: 'face_to_face', ...typed }), SCHEMA, NOW.getTime()).data;
  for (const name of PRIORITY_FIELDS) assert.equal(name in action, false, `${name} not on an action`);
  assert.equal(action.priority_id, 'p0', 'an action links to its priority');
});

test('a priority needs a title; an ended one its day (not in the future); a closed one its reason', () => {
  const err = (over) => Object.keys(loopRecord({ ...blankValues(NOW), ...over }, 'local_priority', NOW.getTime()).errors).sort();
  assert.deepEqual(err({ title: '' }), ['title']);
  assert.deepEqual(err({ title: 't', priority_status: 'resolved' }), ['closed_on']);
  assert.deepEqual(err({ title: 't', priority_status: 'resolved', closed_on: '2027-01-01' }), ['closed_on']);
  assert.deepEqual(err({ title: 't', priority_status: 'closed', closed_on: '2026-11-24' }), ['closed_reason']);
  const done = loopRecord({ ...blankValues(NOW), title: 't', priority_status: 'closed', closed_on: '2026-11-24', closed_reason: ' moved away ' }, 'local_priority', NOW.getTime()).data;
  assert.deepEqual([done.closed_on, done.closed_reason], ['2026-11-24', 'moved away']);
  const open = loopRecord({ ...blankValues(NOW), title: 't', priority_status: 'open', closed_on: '2026-11-24', closed_reason: 'x' }, 'local_priority', NOW.getTime()).data;
  assert.deepEqual([open.closed_on, open.closed_reason], [null, ''], 'an open priority has not ended');
});

test('an edit sends a changed link or concern only; an old record opens and saves unchanged', () => {
  const stored = { occurred_at: '2026-11-25T09:00:41+00:00', kind: 'feedback', standards: [], place: '', location: null, duration_minutes: null,
    people_count: null, groups: [], summary: 'We did', follow_up: '', publicised_at: null, contact_role: '', contact_org: '', public: false };
  const v = valuesFromRecord(stored);
  assert.deepEqual(changedFields(stored, toRecord(v, SCHEMA, NOW.getTime()).data), {});
  v.priority_id = 'p1';
  v.public = true;
  assert.deepEqual(changedFields(stored, toRecord(v, SCHEMA, NOW.getTime()).data), { priority_id: 'p1', public: true });
  const linked = { ...stored, priority_id: 'p1', concerns: [{ category: 'speeding', phrase: 'fast cars' }] };
  const w = valuesFromRecord(linked);
  w.concerns = [];
  w.priority_id = '';
  assert.deepEqual(changedFields(linked, toRecord(w, SCHEMA, NOW.getTime()).data), { concerns: [], priority_id: null }, 'removing sends the empty value');
});

test('the form’s choices come from the phone’s records: priorities, meetings, concern records, owners', () => {
  const rec = (id, kind, fields = {}, extra = {}) => ({ id, kind, occurred_at: `2026-11-2${id.length}T10:00:00Z`, deleted: false, mine: true, fields: { kind, ...fields }, server: null, ...extra });
  const rows = [
    rec('p', 'local_priority', { title: 'Speeding' }),
    rec('pp', 'local_priority', { title: 'Gone' }, { deleted: true }),
    rec('m', 'beat_surgery'), rec('mm', 'community_meeting'), rec('mmm', 'priority_review'), rec('f', 'face_to_face', { concerns: [{ category: 'speeding', phrase: '' }] }),
    rec('t', 'face_to_face', {}, { mine: false, server: { officer: { id: 9, display_name: 'PC Two' } } }),
  ];
  assert.deepEqual(priorityChoices(rows).map((r) => r.id), ['p']);
  assert.deepEqual(meetingChoices(rows).map((r) => r.id), ['mmm', 'mm', 'm']);
  assert.deepEqual(concernChoices(rows).map((r) => r.id), ['f']);
  assert.deepEqual(concernChoices(rows, 'f'), [], 'a record is not behind itself');
  assert.deepEqual(ownerChoices(rows, { userId: '7', displayName: 'PC One' }), [{ id: '7', name: 'PC One' }, { id: '9', name: 'PC Two' }]);
  assert.deepEqual(ownerChoices([], { userId: '7', displayName: 'PC One' }), [{ id: '7', name: 'PC One' }], 'at least the officer signed in');
});
