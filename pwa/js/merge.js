// Per-field merge of one change into one record: the twin of sync/merge.py, pinned by
// tests/vectors/merge.json. The app uses it to foresee what the server will do and tests use it
// to check convergence; the server's result is always what the phone finally shows.

export const DELETED = '_deleted';

/**
 * @typedef {{hlc: string, rev: number}} FieldMeta
 * @typedef {{id: string, rev: number, fields: Object<string, any>, meta: Object<string, FieldMeta>, deleted: boolean}} RecordState
 * @typedef {{id: string, op: 'upsert'|'delete', hlc: string, base_rev: number|null, data: Object<string, any>}} Change
 * @typedef {{field: string, winner: {value: any, hlc: string}, loser: {value: any, hlc: string}}} Conflict
 * @typedef {{state: RecordState, status: 'applied'|'merged'|'conflict', conflicts: Conflict[], changed_fields: string[]}} MergeOutcome
 */

/**
 * Equality of JSON values: booleans are not numbers, objects ignore key order.
 * @param {any} a
 * @param {any} b
 * @returns {boolean}
 */
export function jsonEqual(a, b) {
  if (typeof a === 'boolean' || typeof b === 'boolean') return a === b;
  if (a === null || b === null) return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && jsonEqual(a[k], b[k]));
  }
  return typeof a === typeof b && a === b;
}

const side = (value, hlc) => ({ value, hlc });
const maxStamp = (a, b) => (a > b ? a : b);
const byCode = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Merge `change`, stamped `effectiveHlc`, into `state`. Pure: inputs are never mutated.
 * @param {RecordState|null} state
 * @param {Change} change
 * @param {string} effectiveHlc the (skew-corrected) stamp that decides
 * @param {number} newRev the rev the caller proposes
 * @returns {MergeOutcome}
 */
export function merge(state, change, effectiveHlc, newRev) {
  if (change.op !== 'upsert' && change.op !== 'delete') throw new Error(`unknown op ${change.op}`);
  const data = change.data ?? {};
  if (state === null) return create(change, data, effectiveHlc, newRev);

  const base = change.base_rev ?? 0;
  const fields = { ...state.fields };
  /** @type {Object<string, FieldMeta>} */
  const meta = Object.fromEntries(Object.entries(state.meta).map(([k, m]) => [k, { ...m }]));
  // Anything written at a rev the device had not seen makes this change concurrent.
  const concurrent = Object.values(state.meta).some((m) => m.rev > base);
  /** @type {Conflict[]} */
  const conflicts = [];
  /** @type {string[]} */
  const changed = [];
  let deleted = state.deleted;

  if (change.op === 'delete') {
    const unseen = Object.entries(state.meta).filter(([name, m]) => name !== DELETED && m.rev > base).map(([, m]) => m.hlc);
    if (!state.deleted && unseen.length) {
      // Field edits the deleter never saw: the tombstone wins, the edits are the loser.
      conflicts.push({ field: DELETED, winner: side(true, effectiveHlc), loser: side(false, unseen.reduce(maxStamp)) });
    }
    // Always a write, even on a tombstone: an upsert that did not see this delete must find it
    // concurrent, or a restore could win in one delivery order and lose in another.
    const old = meta[DELETED];
    meta[DELETED] = { hlc: old ? maxStamp(old.hlc, effectiveHlc) : effectiveHlc, rev: newRev };
    changed.push(DELETED);
    deleted = true;
  } else {
    if (state.deleted) {
      const deletedMeta = meta[DELETED] ?? { hlc: effectiveHlc, rev: 0 };
      if (base >= deletedMeta.rev) {
        // The device saw the deletion and edits anyway: a restore.
        meta[DELETED] = { hlc: maxStamp(deletedMeta.hlc, effectiveHlc), rev: newRev };
        changed.push(DELETED);
        deleted = false;
      } else if (Object.keys(data).length) {
        // The edit never saw the deletion: keep its values in the tombstone for a supervisor.
        conflicts.push({ field: DELETED, winner: side(true, deletedMeta.hlc), loser: side(false, effectiveHlc) });
      }
    }
    for (const name of Object.keys(data).sort(byCode)) {
      if (mergeField(name, data[name], fields, meta, base, effectiveHlc, newRev, conflicts)) changed.push(name);
    }
  }

  if (!changed.length && !conflicts.length) {
    return { state, status: concurrent ? 'merged' : 'applied', conflicts: [], changed_fields: [] };
  }
  conflicts.sort((a, b) => byCode(a.field, b.field));
  return {
    state: { id: state.id, rev: newRev, fields, meta, deleted },
    status: conflicts.length ? 'conflict' : concurrent ? 'merged' : 'applied',
    conflicts,
    changed_fields: changed.sort(byCode),
  };
}

/** @param {Change} change @param {Object<string, any>} data @param {string} hlc @param {number} rev */
function create(change, data, hlc, rev) {
  if (change.op === 'delete') {
    return {
      state: { id: change.id, rev, fields: {}, meta: { [DELETED]: { hlc, rev } }, deleted: true },
      status: 'applied', conflicts: [], changed_fields: [DELETED],
    };
  }
  const names = Object.keys(data).sort(byCode);
  return {
    state: {
      id: change.id, rev,
      fields: Object.fromEntries(names.map((n) => [n, data[n]])),
      meta: Object.fromEntries(names.map((n) => [n, { hlc, rev }])),
      deleted: false,
    },
    status: 'applied', conflicts: [], changed_fields: names,
  };
}

/** Merge one field into the working copies; return whether its value or stamp changed. */
function mergeField(name, value, fields, meta, base, hlc, newRev, conflicts) {
  const old = meta[name];
  if (!old || !(name in fields)) {
    fields[name] = value;
    meta[name] = { hlc, rev: newRev };
    return true;
  }
  const stored = fields[name];
  if (old.rev <= base) {
    // Sequential: the device saw the stored value, so its write wins whatever the clocks say.
    const stamp = maxStamp(old.hlc, hlc);
    if (jsonEqual(stored, value) && stamp === old.hlc) return false;
    fields[name] = value;
    meta[name] = { hlc: stamp, rev: newRev };
    return true;
  }
  // Concurrent: last writer wins by stamp, and a differing loser is kept in a conflict.
  const same = jsonEqual(stored, value);
  if (hlc > old.hlc) {
    if (!same) conflicts.push({ field: name, winner: side(value, hlc), loser: side(stored, old.hlc) });
    fields[name] = value;
    meta[name] = { hlc, rev: newRev };
    return true;
  }
  if (!same) conflicts.push({ field: name, winner: side(stored, old.hlc), loser: side(value, hlc) });
  return false;
}
