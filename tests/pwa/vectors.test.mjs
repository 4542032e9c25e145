// Replays the shared vectors (generated from sync/*.py) against the app's twins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { HLC, correct } from '../../pwa/js/hlc.js';
import { merge, jsonEqual } from '../../pwa/js/merge.js';

const load = (name) => JSON.parse(readFileSync(new URL(`../vectors/${name}`, import.meta.url), 'utf8'));
const hlc = load('hlc.json');
const mergeVectors = load('merge.json');

test('vector files are the format this twin understands', () => {
  assert.equal(hlc.format_version, 1);
  assert.equal(mergeVectors.format_version, 1);
});

test('hlc: format and parse', () => {
  for (const v of hlc.format) {
    assert.equal(new HLC(v.millis, v.counter, v.node).toString(), v.string);
    const p = HLC.parse(v.string);
    assert.deepEqual([p.millis, p.counter, p.node], [v.millis, v.counter, v.node]);
  }
});

test('hlc: invalid strings and values throw HLCFormatError', () => {
  for (const v of hlc.invalid_strings) {
    assert.throws(() => HLC.parse(v.string), { name: 'HLCFormatError' }, v.reason);
  }
  for (const v of hlc.invalid_values) {
    assert.throws(() => new HLC(v.millis, v.counter, v.node), { name: 'HLCFormatError' }, v.reason);
  }
});

test('hlc: send sequences', () => {
  for (const seq of hlc.send) {
    let clock = HLC.parse(seq.start);
    for (const step of seq.steps) {
      if (step.error) {
        assert.throws(() => clock.send(step.now), { name: step.error }, seq.name);
      } else {
        clock = clock.send(step.now);
        assert.equal(clock.toString(), step.expect, seq.name);
      }
    }
  }
});

test('hlc: receive', () => {
  for (const v of hlc.receive) {
    const run = () => HLC.parse(v.local).receive(HLC.parse(v.remote), v.now, v.max_drift);
    if (v.error) assert.throws(run, { name: v.error }, v.name);
    else assert.equal(run().toString(), v.expect, v.name);
  }
});

test('hlc: correct', () => {
  for (const v of hlc.correct) {
    assert.equal(correct(HLC.parse(v.stamp), v.skew, v.now).toString(), v.expect, v.name);
  }
});

test('hlc: string order is clock order', () => {
  for (const v of hlc.order) {
    assert.equal(HLC.parse(v.a).compare(HLC.parse(v.b)), v.cmp, `${v.a} vs ${v.b}`);
    const strCmp = v.a < v.b ? -1 : v.a > v.b ? 1 : 0;
    assert.equal(strCmp, v.cmp);
  }
});

test('merge: every case', () => {
  for (const c of mergeVectors.cases) {
    const input = c.state === null ? null : structuredClone(c.state);
    const out = merge(input, c.change, c.effective_hlc, c.new_rev);
    assert.ok(jsonEqual(out.state, c.expect.state), `${c.name}: state ${JSON.stringify(out.state)}`);
    assert.equal(out.status, c.expect.status, c.name);
    assert.ok(jsonEqual(out.conflicts, c.expect.conflicts), `${c.name}: conflicts ${JSON.stringify(out.conflicts)}`);
    assert.deepEqual(out.changed_fields, c.expect.changed_fields, c.name);
    assert.deepEqual(input, c.state, `${c.name}: input not mutated`);
  }
});

test('merge: json_equal', () => {
  for (const v of mergeVectors.json_equal) {
    assert.equal(jsonEqual(v.a, v.b), v.equal, JSON.stringify(v));
    assert.equal(jsonEqual(v.b, v.a), v.equal, JSON.stringify(v));
  }
});
