// The phone's personal-data warnings, held to the vectors the server's rules (schema/pii.py) pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { detect, detectRecord, describe, FLAG_WORDS } from '../../pwa/js/pii.js';

const vectors = JSON.parse(readFileSync(new URL('../vectors/pii.json', import.meta.url), 'utf8'));

test('every shared vector raises exactly its flags', () => {
  assert.ok(vectors.length >= 30);
  const wrong = vectors.filter((v) => JSON.stringify(detect(v.text)) !== JSON.stringify([...v.flags].sort()))
    .map((v) => ({ text: v.text, want: v.flags, got: detect(v.text) }));
  assert.deepEqual(wrong, []);
});

test('the vectors cover every flag, and clean text', () => {
  const seen = new Set(vectors.flatMap((v) => v.flags));
  assert.deepEqual([...seen].sort(), Object.keys(FLAG_WORDS).sort());
  assert.ok(vectors.some((v) => v.flags.length === 0 && v.text));
});

test('a record is checked in its summary, place and follow-up only', () => {
  assert.deepEqual(detectRecord({ summary: 'Spoke to Mr Jones.', place: 'Outside 4 High St', follow_up: 'Ring 07700 900123', contact_org: 'Mr Big Ltd' }),
    { summary: ['name'], follow_up: ['phone'] });
  assert.deepEqual(detectRecord({ summary: 'Talked about parking.', place: null }), {});
  assert.equal(describe(['name', 'phone']), 'a name and a phone number');
  assert.equal(describe(['email', 'name', 'phone']), 'an email address, a name and a phone number');
});
