// The priority loop on the phone (issue 15): concerns raised, local priorities and the records
// linked to them, as plain data. The form (ui/loopfields.js) draws these; the server's rules are
// in docs/sync-protocol.md ("The record") and schema/records.py.

export const PRIORITY = 'local_priority';
export const FEEDBACK = 'feedback';
/** Kinds a priority can be set at (the meeting it names). */
export const MEETING_KINDS = Object.freeze(['community_meeting', 'beat_surgery', 'priority_review']);
export const STATUSES = Object.freeze([
  { code: 'open', title: 'Open' },
  { code: 'in_progress', title: 'In progress' },
  { code: 'resolved', title: 'Resolved' },
  { code: 'closed', title: 'Closed without action' },
]);
/** Only a local_priority may carry these: the server refuses them on any other kind. */
export const PRIORITY_FIELDS = Object.freeze(['title', 'priority_status', 'closed_reason', 'closed_on', 'review_by', 'owner_id', 'meeting_id', 'concern_record_ids']);
export const MAX_CONCERNS = 20;
export const PHRASE_MAX = 120;
const ENDED = new Set(['resolved', 'closed']);

/** Form values of the loop's fields for a new record. */
export function blankLoop() {
  return { concerns: [], priority_id: '', title: '', priority_status: 'open', closed_reason: '', closed_on: '', review_by: '', owner_id: '', meeting_id: '', concern_record_ids: [] };
}

/** A stored record's loop fields as form values (strings as the inputs hold them). */
export function loopFromRecord(fields) {
  return {
    concerns: (fields.concerns ?? []).map((c) => ({ category: c.category ?? '', phrase: c.phrase ?? '' })),
    priority_id: fields.priority_id ?? '',
    title: fields.title ?? '',
    priority_status: fields.priority_status ?? 'open',
    closed_reason: fields.closed_reason ?? '',
    closed_on: fields.closed_on ?? '',
    review_by: fields.review_by ?? '',
    owner_id: fields.owner_id === null || fields.owner_id === undefined ? '' : String(fields.owner_id),
    meeting_id: fields.meeting_id ?? '',
    concern_record_ids: [...(fields.concern_record_ids ?? [])],
  };
}

/** The local day YYYY-MM-DD of a time. */
const localDay = (ms) => {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
};

/**
 * The loop's part of a record payload, and what the officer must fix. Priority fields travel
 * only with kind local_priority; a priority links to no other priority.
 * @param {ReturnType<typeof blankLoop>} v
 * @param {string} kind
 * @param {number} nowMs
 * @returns {{data: Object<string, any>, errors: Object<string, string>}}
 */
export function loopRecord(v, kind, nowMs = Date.now()) {
  const errors = {};
  // A concern with neither a category nor words is a row the officer added and left empty.
  const concerns = (v.concerns ?? [])
    .map((c) => ({ category: c.category ?? '', phrase: (c.phrase ?? '').trim() }))
    .filter((c) => c.category || c.phrase);
  if (concerns.some((c) => !c.category)) errors.concerns = 'Choose a category for each concern.';
  else if (concerns.some((c) => c.phrase.length > PHRASE_MAX)) errors.concerns = `Keep each concern under ${PHRASE_MAX} characters.`;
  else if (concerns.length > MAX_CONCERNS) errors.concerns = `At most ${MAX_CONCERNS} concerns.`;
  const data = { concerns, priority_id: kind === PRIORITY ? null : v.priority_id || null };
  if (kind !== PRIORITY) return { data, errors };
  const title = (v.title ?? '').trim();
  if (!title) errors.title = 'Write the priority as the public would read it.';
  else if (title.length > 200) errors.title = 'Keep it under 200 characters.';
  const status = v.priority_status || 'open';
  const ended = ENDED.has(status);
  if (ended && !v.closed_on) errors.closed_on = 'Enter the day it ended.';
  else if (ended && v.closed_on > localDay(nowMs)) errors.closed_on = 'This is in the future.';
  if (status === 'closed' && !(v.closed_reason ?? '').trim()) errors.closed_reason = 'Say why it was closed without action.';
  Object.assign(data, {
    title,
    priority_status: status,
    closed_on: ended ? v.closed_on || null : null,
    closed_reason: status === 'closed' ? v.closed_reason.trim() : '',
    review_by: v.review_by || null,
    owner_id: v.owner_id === '' || v.owner_id === null || v.owner_id === undefined ? null : Number(v.owner_id),
    meeting_id: v.meeting_id || null,
    concern_record_ids: [...(v.concern_record_ids ?? [])],
  });
  return { data, errors };
}

/** @typedef {import('./records.js').LocalRecord} LocalRecord */

const live = (/** @type {LocalRecord} */ r) => !r.deleted && !r.server?.restricted;
const byNewest = (a, b) => Date.parse(b.occurred_at) - Date.parse(a.occurred_at);

/** The phone's local priorities (its own and pulled ones), newest first. @param {LocalRecord[]} rows */
export function priorityChoices(rows) {
  return rows.filter((r) => live(r) && r.kind === PRIORITY).sort(byNewest);
}

/** The phone's meetings a priority may have been set at. @param {LocalRecord[]} rows */
export function meetingChoices(rows) {
  return rows.filter((r) => live(r) && MEETING_KINDS.includes(r.kind)).sort(byNewest);
}

/** The phone's records that carry concerns (what a priority can be set from). @param {LocalRecord[]} rows @param {string} [except] */
export function concernChoices(rows, except) {
  return rows.filter((r) => live(r) && r.id !== except && (r.fields?.concerns ?? []).length > 0).sort(byNewest);
}

/**
 * Who may own a priority: the team's officers the phone knows of (from its pulled records),
 * always with the officer signed in, by name.
 * @param {LocalRecord[]} rows
 * @param {{userId: string, displayName?: string, username?: string}} session
 * @returns {Array<{id: string, name: string}>}
 */
export function ownerChoices(rows, session) {
  const seen = new Map([[String(session.userId), session.displayName || session.username || 'Me']]);
  for (const r of rows) {
    const o = r.server?.officer;
    if (o?.id !== undefined && o?.id !== null && !seen.has(String(o.id))) seen.set(String(o.id), o.display_name || o.username || `Officer ${o.id}`);
  }
  return [...seen].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name));
}
