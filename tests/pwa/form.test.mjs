import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blankValues, toRecord, changedFields, valuesFromRecord, reviewNote } from '../../pwa/js/ui/form.js';

const SCHEMA = {
  version: '2.1.x', schema_version: 2,
  record: { summary: { type: 'string', required: true, min: 1, max: 4000 }, place: { type: 'string', required: false, max: 200 } },
  kinds: [
    { code: 'face_to_face', title: 'Face-to-face contact', standards: ['F2F'], meeting: false, key_contact: false },
    { code: 'key_contact', title: 'Key community leader contact', standards: ['KCL', 'F2F'], meeting: false, key_contact: true },
    { code: 'beat_surgery', title: 'Beat surgery', standards: ['MEET'], meeting: true, key_contact: false },
  ],
  groups: [{ code: 'young_people', title: 'Young people', seldom_heard: true }],
  standards: { catalogue: 'x', version: '1', standards: [{ code: 'F2F', title: 'Face to face' }] },
};
const NOW = new Date('2026-11-25T09:30:20Z');

test('a quick contact: kind and summary are enough, time is now to the second', () => {
  const v = { ...blankValues(NOW), kind: 'face_to_face', standards: ['F2F'], summary: '  Talked about bikes  ' };
  const { data, errors } = toRecord(v, SCHEMA, NOW.getTime());
  assert.deepEqual(errors, {});
  assert.equal(Date.parse(data.occurred_at), NOW.getTime());
  assert.equal(data.summary, 'Talked about bikes');
  assert.equal(data.schema_version, 2);
  assert.equal(data.people_count, null);
  assert.equal(data.publicised_at, null);
  assert.equal(data.contact_role, '');
});

test('missing kind or summary, future times and bad numbers are caught before saving', () => {
  const v = { ...blankValues(NOW), summary: '', people_count: '-2', duration_minutes: '2000' };
  v.occurred_at = '2027-01-01T10:00';
  const { errors } = toRecord(v, SCHEMA, NOW.getTime());
  assert.deepEqual(Object.keys(errors).sort(), ['duration_minutes', 'kind', 'occurred_at', 'people_count', 'summary']);
  const long = toRecord({ ...blankValues(NOW), kind: 'face_to_face', summary: 'x'.repeat(4001) }, SCHEMA, NOW.getTime());
  assert.ok(long.errors.summary);
});

test('meeting and key-contact fields only travel with their kinds', () => {
  const base = { ...blankValues(NOW), summary: 's', publicised_at: '2026-11-20', contact_role: 'Head teacher', contact_org: "St Mary's" };
  const meeting = toRecord({ ...base, kind: 'beat_surgery' }, SCHEMA, NOW.getTime()).data;
  assert.match(meeting.publicised_at, /^2026-11-20T00:00:00[+-]\d\d:\d\d$/);
  assert.equal(meeting.contact_role, '');
  const contact = toRecord({ ...base, kind: 'key_contact' }, SCHEMA, NOW.getTime()).data;
  assert.equal(contact.publicised_at, null);
  assert.equal(contact.contact_role, 'Head teacher');
  assert.equal(contact.contact_org, "St Mary's");
});

test('an edit sends only the fields that changed', () => {
  const stored = {
    occurred_at: '2026-11-25T09:00:41+00:00', kind: 'face_to_face', standards: ['F2F'], place: 'Co-op',
    location: null, duration_minutes: null, people_count: 2, groups: [], summary: 'Before', follow_up: '',
    publicised_at: null, contact_role: '', contact_org: '', public: false, schema_version: 2,
  };
  const v = valuesFromRecord(stored);
  assert.deepEqual(changedFields(stored, toRecord(v, SCHEMA, NOW.getTime()).data), {}, 'opening and saving changes nothing');
  v.summary = 'After';
  v.people_count = '5';
  assert.deepEqual(changedFields(stored, toRecord(v, SCHEMA, NOW.getTime()).data), { summary: 'After', people_count: 5 });
});

test('the edit form warns before an approved record goes back for review, and shows a return\'s comment', () => {
  const record = (review, receipt = 'synced') => ({ server: { review }, receipt: { state: receipt } });
  assert.deepEqual(reviewNote(record({ state: 'approved' })),
    { tone: 'approved', title: 'Approved by your supervisor', text: 'Saving a change sends it back for review.' });
  assert.equal(reviewNote(record({ state: 'approved' }, 'pending')).text, 'Your change syncs and goes back for review.',
    'an edit already queued has sent it back');
  assert.deepEqual(reviewNote(record({ state: 'returned', comment: 'Which street?' })),
    { tone: 'returned', title: 'Returned by your supervisor', comment: 'Which street?' });
  assert.equal(reviewNote(record({ state: 'returned' })).comment, '');
  assert.equal(reviewNote(record({ state: 'pending' })), null, 'waiting for review: nothing to warn about');
  assert.equal(reviewNote(record(null)), null);
  assert.equal(reviewNote({ server: null, receipt: { state: 'pending' } }), null, 'never synced');
  assert.equal(reviewNote(null), null, 'a new record');
});
