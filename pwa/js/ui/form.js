// The record form, built from the cached schema. A quick face-to-face contact is: New record,
// the kind, the summary, Save. Everything typed is kept as a draft on the phone.

import { h, mount, focusHeading, icon, toLocalInput, fromLocalInput, isoWithOffset } from './dom.js';
import { fieldLabel } from './labels.js';
import { kindOf, isKeyContact, isMeeting, maxLength, APP_SCHEMA_VERSION } from '../schema.js';
import { getRecord } from '../records.js';
import { loadDraft, saveDraft, dropDraft } from '../drafts.js';
import { jsonEqual } from '../merge.js';

const FUTURE_TOLERANCE_MS = 10 * 60 * 1000;

/**
 * @typedef {Object} FormValues what the inputs hold (strings as typed)
 * @property {string} occurred_at datetime-local
 * @property {string} [occurred_exact] the full time the form opened at, used if the officer kept it
 * @property {string} kind
 * @property {string[]} standards
 * @property {boolean} standardsTouched the officer changed the kind's defaults
 * @property {string} place
 * @property {{lat: number, lon: number, accuracy_m: number|null}|null} location
 * @property {string} duration_minutes
 * @property {string} people_count
 * @property {string[]} groups
 * @property {string} summary
 * @property {string} follow_up
 * @property {string} publicised_at YYYY-MM-DD
 * @property {string} contact_role
 * @property {string} contact_org
 * @property {boolean} public
 */

/** @returns {FormValues} */
export function blankValues(now = new Date()) {
  return {
    occurred_at: toLocalInput(now), occurred_exact: isoWithOffset(now), kind: '', standards: [], standardsTouched: false, place: '',
    location: null, duration_minutes: '', people_count: '', groups: [], summary: '', follow_up: '',
    publicised_at: '', contact_role: '', contact_org: '', public: false,
  };
}

/** A stored record's fields as form values. @returns {FormValues} */
export function valuesFromRecord(fields) {
  const at = fields.occurred_at ? new Date(fields.occurred_at) : new Date();
  const pub = fields.publicised_at ? new Date(fields.publicised_at) : null;
  return {
    occurred_at: toLocalInput(at),
    kind: fields.kind ?? '',
    standards: [...(fields.standards ?? [])],
    standardsTouched: true,
    place: fields.place ?? '',
    location: fields.location ?? null,
    duration_minutes: fields.duration_minutes === null || fields.duration_minutes === undefined ? '' : String(fields.duration_minutes),
    people_count: fields.people_count === null || fields.people_count === undefined ? '' : String(fields.people_count),
    groups: [...(fields.groups ?? [])],
    summary: fields.summary ?? '',
    follow_up: fields.follow_up ?? '',
    publicised_at: pub && !Number.isNaN(pub.getTime()) ? toLocalInput(pub).slice(0, 10) : '',
    contact_role: fields.contact_role ?? '',
    contact_org: fields.contact_org ?? '',
    public: Boolean(fields.public),
  };
}

const toInt = (s) => (String(s).trim() === '' ? null : Number(s));

/**
 * Form values as a record payload, and the problems the officer can fix before saving.
 * @param {FormValues} v
 * @param {import('../schema.js').Schema} schema
 * @param {number} nowMs
 * @returns {{data: Object<string, any>, errors: Object<string, string>}}
 */
export function toRecord(v, schema, nowMs = Date.now()) {
  const kind = kindOf(schema, v.kind);
  const errors = {};
  // Kept at "now": use the seconds too, so records made in one minute keep their order.
  const exact = v.occurred_exact && toLocalInput(new Date(v.occurred_exact)) === v.occurred_at ? v.occurred_exact : null;
  const occurred = exact ?? fromLocalInput(v.occurred_at);
  if (!occurred) errors.occurred_at = 'Enter the date and time.';
  else if (Date.parse(occurred) > nowMs + FUTURE_TOLERANCE_MS) errors.occurred_at = 'This is in the future. Check the date and time.';
  if (!kind) errors.kind = 'Choose what kind of engagement this was.';
  const summary = v.summary.trim();
  const textMax = maxLength(schema, 'summary', 4000);
  if (!summary) errors.summary = 'Write what happened (no names of members of the public).';
  else if (summary.length > textMax) errors.summary = `Keep it under ${textMax} characters.`;
  if (v.follow_up.trim().length > maxLength(schema, 'follow_up', 4000)) errors.follow_up = 'Too long.';
  const people = toInt(v.people_count);
  if (people !== null && (!Number.isInteger(people) || people < 0 || people > 100000)) errors.people_count = 'A whole number from 0 to 100,000.';
  const duration = toInt(v.duration_minutes);
  if (duration !== null && (!Number.isInteger(duration) || duration < 0 || duration > 1440)) errors.duration_minutes = 'Minutes, from 0 to 1,440.';
  const meeting = isMeeting(kind);
  const contact = isKeyContact(kind);
  const publicised = meeting && v.publicised_at ? fromLocalInput(`${v.publicised_at}T00:00`) : null;
  if (publicised && Date.parse(publicised) > nowMs + FUTURE_TOLERANCE_MS) errors.publicised_at = 'This is in the future.';
  const data = {
    schema_version: schema.schema_version ?? APP_SCHEMA_VERSION,
    occurred_at: occurred,
    kind: v.kind,
    standards: [...v.standards],
    place: v.place.trim(),
    location: v.location,
    duration_minutes: duration,
    people_count: people,
    groups: [...v.groups],
    summary,
    follow_up: v.follow_up.trim(),
    publicised_at: publicised,
    contact_role: contact ? v.contact_role.trim() : '',
    contact_org: contact ? v.contact_org.trim() : '',
    public: v.public,
  };
  return { data, errors };
}

/**
 * The fields an edit changed: only these go to the server (with base_rev).
 * @param {Object<string, any>} before the record's current fields
 * @param {Object<string, any>} after the payload from toRecord
 */
export function changedFields(before, after) {
  const out = {};
  for (const [name, value] of Object.entries(after)) {
    if (name === 'schema_version') continue;
    const old = before[name] ?? (Array.isArray(value) ? [] : typeof value === 'string' ? '' : null);
    if ((name === 'occurred_at' || name === 'publicised_at') && value && old) {
      // The form keeps minutes: an unchanged time must not count as an edit.
      if (toLocalInput(new Date(value)) === toLocalInput(new Date(old))) continue;
    }
    if (!jsonEqual(old, value)) out[name] = value;
  }
  return out;
}

/**
 * What the edit form says about the supervisor's review of the record, if anything. Saving a
 * change to an approved record sends it back for review, so the officer is told before saving.
 * @param {{server?: {review?: {state: string, comment?: string}|null}|null, receipt?: {state: string}}|null} record
 * @returns {{tone: 'returned', title: string, comment: string}|{tone: 'approved', title: string, text: string}|null}
 */
export function reviewNote(record) {
  const review = record?.server?.review;
  if (review?.state === 'returned') return { tone: 'returned', title: 'Returned by your supervisor', comment: review.comment ?? '' };
  if (review?.state === 'approved') {
    // An edit already waiting to sync has sent it back; another one only joins it.
    const queued = record?.receipt?.state === 'pending';
    return { tone: 'approved', title: 'Approved by your supervisor',
      text: queued ? 'Your change syncs and goes back for review.' : 'Saving a change sends it back for review.' };
  }
  return null;
}

/**
 * @param {HTMLElement} root
 * @param {import('../app.js').Context} ctx
 * @param {{id?: string}} params
 */
export async function renderForm(root, ctx, params) {
  const schema = ctx.schema;
  if (!schema) {
    mount(root, h('section', { class: 'screen' }, h('h1', {}, 'New record'),
      h('p', { class: 'notice warn' }, 'The form needs one connection after sign-in to download the list of kinds. Connect and tap Sync now.')));
    focusHeading(root);
    return () => {};
  }
  const editing = params.id ? await getRecord(ctx.db, ctx.session.userId, params.id) : null;
  if (params.id && (!editing || !editing.mine)) {
    mount(root, h('section', { class: 'screen' }, h('h1', {}, 'Record not found'),
      h('p', {}, 'It may have been deleted.'), h('button', { class: 'btn secondary', type: 'button', onclick: () => ctx.navigate('#/') }, 'Back to My log')));
    focusHeading(root);
    return () => {};
  }
  const draftKey = editing ? `edit:${editing.id}` : 'new';
  const draft = await loadDraft(ctx.db, ctx.session.userId, draftKey);
  /** @type {FormValues} */
  const v = draft?.values ?? (editing ? valuesFromRecord(editing.fields) : blankValues());
  const serverErrors = editing?.receipt.state === 'rejected' ? editing.receipt.errors ?? {} : {};

  let draftTimer = null;
  const stopDraft = () => {
    clearTimeout(draftTimer);
    draftTimer = null;
  };
  const keepDraft = () => {
    stopDraft();
    draftTimer = setTimeout(() => {
      draftTimer = null;
      void saveDraft(ctx.db, ctx.session.userId, draftKey, v);
    }, 250);
  };

  /** Error slots by field, filled by the client check or the server's reasons. */
  const slots = {};
  const errorSlot = (name) => {
    slots[name] = h('p', { class: 'field-error', id: `err-${name}` });
    const server = serverErrors[name];
    if (server) slots[name].textContent = `Server: ${[].concat(server).join(' ')}`;
    return slots[name];
  };
  const describedBy = (name, hint) => [hint, `err-${name}`].filter(Boolean).join(' ');

  // Kind: one tap, as big tiles.
  const kindTiles = schema.kinds.map((k) => h('label', { class: 'tile' },
    h('input', { type: 'radio', name: 'kind', value: k.code, checked: v.kind === k.code, onchange: () => {
      v.kind = k.code;
      if (!v.standardsTouched) v.standards = [...(k.standards ?? [])];
      syncKind();
      keepDraft();
    } }),
    h('span', { class: 'tile-title' }, k.title)));
  const kindGroup = h('fieldset', { class: 'kinds', role: 'radiogroup', 'aria-labelledby': 'kind-legend', 'aria-describedby': describedBy('kind'), 'aria-required': 'true' },
    h('legend', { id: 'kind-legend' }, 'Kind'),
    h('div', { class: 'tiles' }, kindTiles),
    errorSlot('kind'));

  const text = (name, attrs = {}) => {
    const el = h(attrs.multiline ? 'textarea' : 'input', {
      id: `f-${name}`, name, value: v[name], 'aria-describedby': describedBy(name, attrs.hint ? `f-${name}-hint` : null),
      maxlength: attrs.max, rows: attrs.multiline ? attrs.rows ?? 4 : undefined, type: attrs.type, inputmode: attrs.inputmode,
      autocomplete: 'off', required: attrs.required,
      oninput: () => { v[name] = el.value; keepDraft(); if (attrs.counter) attrs.counter(); },
    });
    return el;
  };
  const field = (name, label, input, hint, extra) => h('div', { class: 'field', id: `wrap-${name}` },
    h('label', { for: `f-${name}` }, label),
    hint ? h('p', { class: 'hint', id: `f-${name}-hint` }, hint) : null,
    input, extra ?? null, errorSlot(name));

  const when = text('occurred_at', { type: 'datetime-local' });
  const summaryMax = maxLength(schema, 'summary', 4000);
  const counter = h('p', { class: 'counter', 'aria-hidden': 'true' });
  const updateCounter = () => {
    const n = v.summary.length;
    counter.textContent = n > summaryMax * 0.8 ? `${n} / ${summaryMax}` : '';
  };
  const summary = text('summary', { multiline: true, rows: 4, max: summaryMax, required: true, counter: updateCounter, hint: true });
  const follow = text('follow_up', { multiline: true, rows: 2, max: maxLength(schema, 'follow_up', 4000) });
  const place = text('place', { max: maxLength(schema, 'place', 200), hint: true });
  const role = text('contact_role', { max: maxLength(schema, 'contact_role', 120), hint: true });
  const org = text('contact_org', { max: maxLength(schema, 'contact_org', 120) });
  const publicised = text('publicised_at', { type: 'date' });
  const duration = text('duration_minutes', { type: 'number', inputmode: 'numeric' });
  duration.setAttribute('min', '0');
  duration.setAttribute('max', '1440');

  // People: a stepper, big buttons either side of a number field.
  const people = text('people_count', { type: 'number', inputmode: 'numeric' });
  people.setAttribute('min', '0');
  people.setAttribute('max', '100000');
  const step = (d) => {
    const n = Math.max(0, Math.min(100000, (toInt(v.people_count) ?? 0) + d));
    v.people_count = String(n);
    people.value = v.people_count;
    keepDraft();
  };
  const stepper = h('div', { class: 'stepper' },
    h('button', { type: 'button', class: 'btn step', 'aria-label': 'Minus one', onclick: () => step(-1) }, icon('minus')),
    people,
    h('button', { type: 'button', class: 'btn step', 'aria-label': 'Plus one', onclick: () => step(1) }, icon('plus')));

  // Groups reached: chips.
  const chips = h('fieldset', { class: 'chips-field' }, h('legend', {}, 'Groups reached'),
    h('div', { class: 'chips' }, schema.groups.map((g) => h('label', { class: 'chip' },
      h('input', { type: 'checkbox', value: g.code, checked: v.groups.includes(g.code), onchange: (e) => {
        v.groups = e.target.checked ? [...v.groups, g.code] : v.groups.filter((c) => c !== g.code);
        keepDraft();
      } }),
      h('span', {}, g.title, g.seldom_heard ? h('span', { class: 'sr-only' }, ' (seldom heard)') : null),
      g.seldom_heard ? h('span', { class: 'dot', 'aria-hidden': 'true', title: 'Seldom heard' }) : null))),
    h('p', { class: 'hint' }, h('span', { class: 'dot', 'aria-hidden': 'true' }), ' seldom-heard group'),
    errorSlot('groups'));

  // Standards evidenced: defaulted from the kind, editable.
  const standardsBox = h('div', { class: 'checks' });
  const drawStandards = () => mount(standardsBox, schema.standards.standards.map((s) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', value: s.code, checked: v.standards.includes(s.code), onchange: (e) => {
      v.standards = e.target.checked ? [...v.standards, s.code] : v.standards.filter((c) => c !== s.code);
      v.standardsTouched = true;
      keepDraft();
      standardsCount();
    } }),
    h('span', {}, h('strong', {}, s.code), ` ${s.title}`))));
  const standardsSummary = h('summary', {});
  const standardsCount = () => { standardsSummary.textContent = `Standards evidenced (${v.standards.length})`; };
  const standards = h('details', { class: 'standards' }, standardsSummary,
    h('p', { class: 'hint' }, 'Ticked from the kind you chose. Change them if this engagement evidences others.'),
    standardsBox, errorSlot('standards'));

  // Location: only when the officer asks, with its accuracy.
  const locStatus = h('p', { class: 'loc-status', role: 'status' });
  const locButton = h('button', { type: 'button', class: 'btn secondary', onclick: () => locate() }, icon('pin'), 'Add my location');
  const locRemove = h('button', { type: 'button', class: 'btn ghost small', onclick: () => { v.location = null; keepDraft(); drawLocation(); } }, 'Remove location');
  const drawLocation = (message) => {
    if (v.location) {
      const acc = v.location.accuracy_m;
      locStatus.textContent = `Location added${acc ? `, accurate to ±${Math.round(acc)} m` : ''}${acc > 100 ? ' (low accuracy)' : ''}.`;
      locButton.hidden = true;
      locRemove.hidden = false;
    } else {
      locStatus.textContent = message ?? '';
      locButton.hidden = false;
      locRemove.hidden = true;
    }
  };
  const locate = () => {
    if (!navigator.geolocation) return drawLocation('This phone cannot share its location.');
    locStatus.textContent = 'Finding your location…';
    navigator.geolocation.getCurrentPosition((pos) => {
      v.location = { lat: +pos.coords.latitude.toFixed(6), lon: +pos.coords.longitude.toFixed(6), accuracy_m: Math.round(pos.coords.accuracy) };
      keepDraft();
      drawLocation();
    }, (err) => drawLocation(err.code === 1 ? 'Location permission was refused. You can type the place instead.' : 'Could not find your location. Type the place instead.'),
    { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  };
  drawLocation();

  const publicBox = h('label', { class: 'check' },
    h('input', { type: 'checkbox', id: 'f-public', checked: v.public, onchange: (e) => { v.public = e.target.checked; keepDraft(); } }),
    h('span', {}, 'Share on the team’s public page (“you said, we did”)'));

  const meetingWrap = field('publicised_at', 'Publicised on', publicised, null);
  const contactWrap = h('div', { class: 'group' },
    field('contact_role', 'Contact’s role', role, 'For example “Head teacher”. No names.'),
    field('contact_org', 'Organisation', org, null));

  function syncKind() {
    const kind = kindOf(schema, v.kind);
    meetingWrap.hidden = !isMeeting(kind);
    contactWrap.hidden = !isKeyContact(kind);
    drawStandards();
    standardsCount();
  }
  syncKind();
  updateCounter();

  const save = h('button', { type: 'submit', class: 'btn primary' }, 'Save');
  const formError = h('p', { class: 'form-error', role: 'alert' });
  /** Say it even when it is the same words as last time (a live region ignores no change). */
  const announce = (message) => {
    formError.textContent = '';
    requestAnimationFrame(() => { formError.textContent = message; });
  };
  /**
   * Focus the field and bring its error into view: scroll-padding keeps both clear of the app bar
   * and the fixed Cancel/Save bar, which a plain focus() would leave the message hidden under.
   * @param {string} name
   */
  const showError = (name) => {
    const slot = slots[name];
    const control = /** @type {HTMLElement|null} */ (form.querySelector(`[name="${name}"]`) ?? form.querySelector(`#f-${name}`));
    const details = slot?.closest('details');
    if (details) details.open = true;
    control?.focus({ preventScroll: true });
    slot?.closest('.field, fieldset, details')?.scrollIntoView({ block: 'nearest' });
    slot?.scrollIntoView({ block: 'nearest' });
  };
  const form = h('form', { class: 'record-form', novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    const { data, errors } = toRecord(v, schema);
    for (const [name, slot] of Object.entries(slots)) slot.textContent = errors[name] ?? '';
    for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    // In screen order, so "first" is the one nearest the top.
    const names = Object.keys(errors).sort((a, b) =>
      slots[a] && slots[b] && slots[a].compareDocumentPosition(slots[b]) & Node.DOCUMENT_POSITION_PRECEDING ? 1 : -1);
    if (names.length) {
      for (const n of names) form.querySelector(`[name="${n}"]`)?.setAttribute('aria-invalid', 'true');
      announce(names.length === 1
        ? errors[names[0]]
        : `${names.length} things to fix. ${names.map((n) => `${fieldLabel(n)}: ${errors[n]}`).join(' ')}`);
      showError(names[0]);
      return;
    }
    const payload = editing ? changedFields(editing.fields, data) : data;
    save.disabled = true;
    stopDraft();
    const unchangedRejected = editing?.receipt.state === 'rejected' && !Object.keys(payload).length;
    if (editing && !Object.keys(payload).length && !unchangedRejected) {
      await dropDraft(ctx.db, ctx.session.userId, draftKey);
      ctx.toast('No changes to save.');
      ctx.navigate('#/');
      return;
    }
    await ctx.saveRecord(editing?.id ?? null, payload);
    await dropDraft(ctx.db, ctx.session.userId, draftKey);
    ctx.navigate('#/');
  } },
  kindGroup,
  field('occurred_at', 'When', when, null),
  meetingWrap,
  contactWrap,
  field('summary', 'Summary', summary, 'What happened and what was said. No names of members of the public.', counter),
  h('div', { class: 'field', id: 'wrap-people_count' }, h('label', { for: 'f-people_count' }, 'People'), stepper, errorSlot('people_count')),
  chips,
  field('place', 'Place', place, 'For example “Co-op, High Street”.', h('div', { class: 'loc' }, locButton, locRemove, locStatus)),
  field('follow_up', 'Follow-up', follow, null),
  standards,
  field('duration_minutes', 'Duration (minutes)', duration, null),
  publicBox,
  formError,
  h('div', { class: 'form-actions' },
    h('button', { type: 'button', class: 'btn secondary', onclick: async () => {
      stopDraft();
      await dropDraft(ctx.db, ctx.session.userId, draftKey);
      ctx.navigate('#/');
    } }, 'Cancel'),
    save));
  for (const name of Object.keys(serverErrors)) form.querySelector(`[name="${name}"]`)?.setAttribute('aria-invalid', 'true');

  const note = reviewNote(editing);
  if (note?.tone === 'approved') save.setAttribute('aria-describedby', 'review-note'); // heard on Save too
  mount(root, h('section', { class: 'screen form-screen' },
    h('div', { class: 'screen-head' },
      h('button', { type: 'button', class: 'btn icon-only', 'aria-label': 'Back to My log', onclick: () => ctx.navigate('#/') }, icon('back')),
      h('h1', {}, editing ? 'Edit record' : 'New record')),
    draft ? h('p', { class: 'notice info' }, 'Your unsaved draft is back, as you left it.') : null,
    note?.tone === 'returned' ? h('div', { class: 'notice review' }, icon('comment'), h('div', {},
      h('strong', {}, note.title), note.comment ? h('blockquote', { class: 'review-comment' }, note.comment) : null)) : null,
    note?.tone === 'approved' ? h('div', { class: 'notice info', id: 'review-note' }, icon('check'), h('div', {},
      h('strong', {}, note.title), h('p', {}, note.text))) : null,
    Object.keys(serverErrors).length ? h('div', { class: 'notice bad' }, icon('alert'),
      h('p', {}, 'The server did not accept this record. Its reasons are shown next to the fields. Fix them and save.')) : null,
    form));
  focusHeading(root);
  // Leaving mid-typing (another screen, a reload for an update, the phone locking): keep it.
  const flush = () => {
    if (draftTimer) {
      stopDraft();
      void saveDraft(ctx.db, ctx.session.userId, draftKey, v);
    }
  };
  const onHide = () => flush();
  window.addEventListener('pagehide', onHide);
  document.addEventListener('visibilitychange', onHide);
  return () => {
    window.removeEventListener('pagehide', onHide);
    document.removeEventListener('visibilitychange', onHide);
    flush();
  };
}
