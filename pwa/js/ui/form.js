// The record form, built from the cached schema. A quick face-to-face contact is: New record,
// the kind, the summary, Save. Everything typed is kept as a draft on the phone.

import { h, mount, focusHeading, icon, toLocalInput, fromLocalInput, isoWithOffset, confirmDialog } from './dom.js';
import { fieldLabel } from './labels.js';
import { kindOf, isKeyContact, isMeeting, maxLength, APP_SCHEMA_VERSION } from '../schema.js';
import { getRecord, listRecords } from '../records.js';
import { loadDraft, saveDraft, dropDraft } from '../drafts.js';
import { jsonEqual } from '../merge.js';
import { detectRecord, describe } from '../pii.js';
import { blankLoop, loopFromRecord, loopRecord } from '../loop.js';
import { loopSections } from './loopfields.js';

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
 * @property {Array<{category: string, phrase: string}>} concerns what people raised (loop.js)
 * @property {string} priority_id and the priority fields of loop.js's blankLoop
 */

/** @returns {FormValues} */
export function blankValues(now = new Date()) {
  return {
    occurred_at: toLocalInput(now), occurred_exact: isoWithOffset(now), kind: '', standards: [], standardsTouched: false, place: '',
    location: null, duration_minutes: '', people_count: '', groups: [], summary: '', follow_up: '',
    publicised_at: '', contact_role: '', contact_org: '', public: false, ...blankLoop(),
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
    ...loopFromRecord(fields),
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
  // Concerns and the priority link; a local priority's own fields only with that kind.
  const loop = loopRecord(v, v.kind, nowMs);
  return { data: { ...data, ...loop.data }, errors: { ...loop.errors, ...errors } };
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
  if (!schema) return noticeScreen(root, h('p', { class: 'notice warn' }, 'The form needs one connection after sign-in to download the list of kinds. Connect and tap Sync now.'), 'New record');
  const editing = params.id ? await getRecord(ctx.db, ctx.session.userId, params.id) : null;
  if (params.id && (!editing || !editing.mine)) {
    return noticeScreen(root, [h('p', {}, 'It may have been deleted.'),
      h('button', { class: 'btn secondary', type: 'button', onclick: () => ctx.navigate('#/') }, 'Back to My log')], 'Record not found');
  }
  const draftKey = editing ? `edit:${editing.id}` : 'new';
  const draft = await loadDraft(ctx.db, ctx.session.userId, draftKey);
  /** @type {FormValues} */
  // A draft typed before the loop's fields existed gets their defaults.
  const v = draft?.values ? { ...blankLoop(), ...draft.values } : (editing ? valuesFromRecord(editing.fields) : blankValues());
  if (!editing && !draft && !v.owner_id) v.owner_id = String(ctx.session.userId); // a new priority is the officer's own
  // The phone's records: what a record can be linked to (priorities, meetings, concerns).
  const records = await listRecords(ctx.db, ctx.session.userId);
  const serverErrors = editing?.receipt.state === 'rejected' ? editing.receipt.errors ?? {} : {};
  const f = { ctx, schema, v, editing, draftKey, hadDraft: Boolean(draft), opened: JSON.stringify(v), records,
    drafts: draftKeeper(ctx, draftKey, v), errors: errorSlots(serverErrors) };

  const form = buildForm(f);
  for (const name of Object.keys(serverErrors)) form.querySelector(`[name="${name}"]`)?.setAttribute('aria-invalid', 'true');
  mount(root, formScreen(f, form, serverErrors));
  // A record the server refused opens at the first field it refused, not at the kind tiles.
  const [first] = inScreenOrder(Object.keys(serverErrors).filter((n) => f.errors.slots[n]), f.errors.slots);
  // After the router's scroll to the top of the new screen, hence the next frame.
  if (first) requestAnimationFrame(() => showError(form, f.errors.slots, first));
  else focusHeading(root);
  // Leaving mid-typing (another screen, a reload for an update, the phone locking): keep it.
  const onHide = () => f.drafts.flush();
  window.addEventListener('pagehide', onHide);
  document.addEventListener('visibilitychange', onHide);
  return () => {
    window.removeEventListener('pagehide', onHide);
    document.removeEventListener('visibilitychange', onHide);
    f.drafts.flush();
  };
}

/**
 * @typedef {Object} FormParts what the form's builders share
 * @property {import('../app.js').Context} ctx
 * @property {import('../schema.js').Schema} schema
 * @property {FormValues} v the values as typed (mutated by the inputs)
 * @property {import('../records.js').LocalRecord|null|undefined} editing
 * @property {string} draftKey
 * @property {boolean} hadDraft the form opened on a draft
 * @property {string} opened the values the form opened with (JSON), to know if anything was typed
 * @property {ReturnType<typeof draftKeeper>} drafts
 * @property {ReturnType<typeof errorSlots>} errors
 * @property {import('../records.js').LocalRecord[]} records the phone's records, for the loop's choices
 */

/** A screen with only a heading and a few words instead of the form. */
function noticeScreen(root, body, title) {
  mount(root, h('section', { class: 'screen' }, h('h1', {}, title), body));
  focusHeading(root);
  return () => {};
}

/** Everything typed is kept as a draft a moment after typing stops. */
function draftKeeper(ctx, draftKey, v) {
  let timer = null;
  const stop = () => {
    clearTimeout(timer);
    timer = null;
  };
  return {
    keep() {
      stop();
      timer = setTimeout(() => {
        timer = null;
        void saveDraft(ctx.db, ctx.session.userId, draftKey, v);
      }, 250);
    },
    stop,
    /** Write a pending draft now. */
    flush() {
      if (!timer) return;
      stop();
      void saveDraft(ctx.db, ctx.session.userId, draftKey, v);
    },
    /** Write the draft now, pending or not. */
    save: () => { stop(); return saveDraft(ctx.db, ctx.session.userId, draftKey, v); },
    drop: () => { stop(); return dropDraft(ctx.db, ctx.session.userId, draftKey); },
  };
}

/** Error slots by field, filled by the client check or the server's reasons. */
function errorSlots(serverErrors) {
  /** @type {Object<string, HTMLElement>} */
  const slots = {};
  const slot = (name) => {
    slots[name] = h('p', { class: 'field-error', id: `err-${name}` });
    const server = serverErrors[name];
    if (server) slots[name].textContent = `Server: ${[].concat(server).join(' ')}`;
    return slots[name];
  };
  return { slots, slot };
}

const describedBy = (name, hint) => [hint, `err-${name}`].filter(Boolean).join(' ');

/** Field names sorted as they stand on the screen, the first the nearest the top. */
function inScreenOrder(names, slots) {
  return [...names].sort((a, b) =>
    slots[a] && slots[b] && slots[a].compareDocumentPosition(slots[b]) & Node.DOCUMENT_POSITION_PRECEDING ? 1 : -1);
}

/**
 * Focus the field and bring its error into view: scroll-padding keeps both clear of the app bar
 * and the fixed Cancel/Save bar, which a plain focus() would leave the message hidden under.
 */
function showError(form, slots, name) {
  const slot = slots[name];
  const control = /** @type {HTMLElement|null} */ (form.querySelector(`[name="${name}"]`) ?? form.querySelector(`#f-${name}`));
  const details = slot?.closest('details');
  if (details) details.open = true;
  control?.focus({ preventScroll: true });
  slot?.closest('.field, fieldset, details')?.scrollIntoView({ block: 'nearest' });
  slot?.scrollIntoView({ block: 'nearest' });
}

/** A text, number or date input bound to `v[name]`. @param {FormParts} f */
function textInput(f, name, attrs = {}) {
  const el = h(attrs.multiline ? 'textarea' : 'input', {
    id: `f-${name}`, name, value: f.v[name], 'aria-describedby': describedBy(name, attrs.hint ? `f-${name}-hint` : null),
    maxlength: attrs.max, rows: attrs.multiline ? attrs.rows ?? 4 : undefined, type: attrs.type, inputmode: attrs.inputmode,
    autocomplete: 'off', required: attrs.required, min: attrs.min, max: attrs.maxValue,
    oninput: () => { f.v[name] = el.value; f.drafts.keep(); if (attrs.counter) attrs.counter(); },
  });
  return el;
}

/** A labelled field with its hint and error slot. @param {FormParts} f */
function field(f, name, label, input, hint, extra) {
  return h('div', { class: 'field', id: `wrap-${name}` },
    h('label', { for: `f-${name}` }, label),
    hint ? h('p', { class: 'hint', id: `f-${name}-hint` }, hint) : null,
    input, extra ?? null, f.errors.slot(name));
}

/** Kind: one tap, as big tiles. @param {FormParts} f @param {() => void} onKind */
function kindTiles(f, onKind) {
  const tiles = f.schema.kinds.map((k) => h('label', { class: 'tile' },
    h('input', { type: 'radio', name: 'kind', value: k.code, checked: f.v.kind === k.code, onchange: () => {
      f.v.kind = k.code;
      if (!f.v.standardsTouched) f.v.standards = [...(k.standards ?? [])];
      onKind();
      f.drafts.keep();
    } }),
    h('span', { class: 'tile-title' }, k.title)));
  return h('fieldset', { class: 'kinds', role: 'radiogroup', 'aria-labelledby': 'kind-legend', 'aria-describedby': describedBy('kind'), 'aria-required': 'true' },
    h('legend', { id: 'kind-legend' }, 'Kind'),
    h('div', { class: 'tiles' }, tiles),
    f.errors.slot('kind'));
}

/** The summary with a counter near its limit. @param {FormParts} f */
function summaryField(f) {
  const summaryMax = maxLength(f.schema, 'summary', 4000);
  const counter = h('p', { class: 'counter', 'aria-hidden': 'true' });
  const updateCounter = () => {
    const n = f.v.summary.length;
    counter.textContent = n > summaryMax * 0.8 ? `${n} / ${summaryMax}` : '';
  };
  const input = textInput(f, 'summary', { multiline: true, rows: 4, max: summaryMax, required: true, counter: updateCounter, hint: true });
  updateCounter();
  return field(f, 'summary', 'Summary', input, 'What happened and what was said. No names of members of the public.', counter);
}

/** People: a stepper, big buttons either side of a number field. @param {FormParts} f */
function peopleField(f) {
  const people = textInput(f, 'people_count', { type: 'number', inputmode: 'numeric', min: 0, maxValue: 100000 });
  const step = (d) => {
    const n = Math.max(0, Math.min(100000, (toInt(f.v.people_count) ?? 0) + d));
    f.v.people_count = String(n);
    people.value = f.v.people_count;
    f.drafts.keep();
  };
  return h('div', { class: 'field', id: 'wrap-people_count' }, h('label', { for: 'f-people_count' }, 'People'),
    h('div', { class: 'stepper' },
      h('button', { type: 'button', class: 'btn step', 'aria-label': 'Minus one', onclick: () => step(-1) }, icon('minus')),
      people,
      h('button', { type: 'button', class: 'btn step', 'aria-label': 'Plus one', onclick: () => step(1) }, icon('plus'))),
    f.errors.slot('people_count'));
}

/** Groups reached: chips. @param {FormParts} f */
function groupChips(f) {
  return h('fieldset', { class: 'chips-field' }, h('legend', {}, 'Groups reached'),
    h('div', { class: 'chips' }, f.schema.groups.map((g) => h('label', { class: 'chip' },
      h('input', { type: 'checkbox', value: g.code, checked: f.v.groups.includes(g.code), onchange: (e) => {
        f.v.groups = e.target.checked ? [...f.v.groups, g.code] : f.v.groups.filter((c) => c !== g.code);
        f.drafts.keep();
      } }),
      h('span', {}, g.title, g.seldom_heard ? h('span', { class: 'sr-only' }, ' (seldom heard)') : null),
      g.seldom_heard ? h('span', { class: 'dot', 'aria-hidden': 'true', title: 'Seldom heard' }) : null))),
    h('p', { class: 'hint' }, h('span', { class: 'dot', 'aria-hidden': 'true' }), ' seldom-heard group'),
    f.errors.slot('groups'));
}

/** Standards evidenced: defaulted from the kind, editable. @param {FormParts} f */
function standardsPicker(f) {
  const box = h('div', { class: 'checks' });
  const summary = h('summary', {});
  const count = () => { summary.textContent = `Standards evidenced (${f.v.standards.length})`; };
  const draw = () => {
    mount(box, f.schema.standards.standards.map((s) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', value: s.code, checked: f.v.standards.includes(s.code), onchange: (e) => {
        f.v.standards = e.target.checked ? [...f.v.standards, s.code] : f.v.standards.filter((c) => c !== s.code);
        f.v.standardsTouched = true;
        f.drafts.keep();
        count();
      } }),
      h('span', {}, h('strong', {}, s.code), ` ${s.title}`))));
    count();
  };
  const el = h('details', { class: 'standards' }, summary,
    h('p', { class: 'hint' }, 'Ticked from the kind you chose. Change them if this engagement evidences others.'),
    box, f.errors.slot('standards'));
  return { el, draw };
}

/** Location: only when the officer asks, with its accuracy. @param {FormParts} f */
function locationPicker(f) {
  const v = f.v;
  const status = h('p', { class: 'loc-status', role: 'status' });
  const add = h('button', { type: 'button', class: 'btn secondary', onclick: () => locate() }, icon('pin'), 'Add my location');
  const remove = h('button', { type: 'button', class: 'btn ghost small', onclick: () => { v.location = null; f.drafts.keep(); draw(); } }, 'Remove location');
  const draw = (message) => {
    if (v.location) {
      const acc = v.location.accuracy_m;
      status.textContent = `Location added${acc ? `, accurate to ±${Math.round(acc)} m` : ''}${acc > 100 ? ' (low accuracy)' : ''}.`;
    } else {
      status.textContent = message ?? '';
    }
    add.hidden = Boolean(v.location);
    remove.hidden = !v.location;
  };
  const locate = () => {
    if (!navigator.geolocation) return draw('This phone cannot share its location.');
    status.textContent = 'Finding your location…';
    navigator.geolocation.getCurrentPosition((pos) => {
      v.location = { lat: +pos.coords.latitude.toFixed(6), lon: +pos.coords.longitude.toFixed(6), accuracy_m: Math.round(pos.coords.accuracy) };
      f.drafts.keep();
      draw();
    }, (err) => draw(err.code === 1 ? 'Location permission was refused. You can type the place instead.' : 'Could not find your location. Type the place instead.'),
    { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  };
  draw();
  return h('div', { class: 'loc' }, add, remove, status);
}

/** The fields in screen order, with the kind-specific ones shown for their kinds. @param {FormParts} f */
function formFields(f) {
  const { schema, v } = f;
  const standards = standardsPicker(f);
  const meetingWrap = field(f, 'publicised_at', 'Publicised on', textInput(f, 'publicised_at', { type: 'date' }), null);
  const contactWrap = h('div', { class: 'group' },
    field(f, 'contact_role', 'Contact’s role', textInput(f, 'contact_role', { max: maxLength(schema, 'contact_role', 120), hint: true }), 'For example “Head teacher”. No names.'),
    field(f, 'contact_org', 'Organisation', textInput(f, 'contact_org', { max: maxLength(schema, 'contact_org', 120) }), null));
  const loop = loopSections(f, { field, textInput }, f.records);
  const syncKind = () => {
    const kind = kindOf(schema, v.kind);
    meetingWrap.hidden = !isMeeting(kind);
    contactWrap.hidden = !isKeyContact(kind);
    loop.sync();
    standards.draw();
  };
  const kinds = kindTiles(f, syncKind);
  syncKind();
  const publicBox = h('label', { class: 'check' },
    h('input', { type: 'checkbox', id: 'f-public', checked: v.public, onchange: (e) => { v.public = e.target.checked; f.drafts.keep(); } }),
    h('span', {}, 'Share on the team’s public page (“you said, we did”)'));
  return [
    kinds,
    field(f, 'occurred_at', 'When', textInput(f, 'occurred_at', { type: 'datetime-local' }), null),
    meetingWrap,
    contactWrap,
    loop.priority,
    summaryField(f),
    loop.concerns,
    peopleField(f),
    groupChips(f),
    field(f, 'place', 'Place', textInput(f, 'place', { max: maxLength(schema, 'place', 200), hint: true }), 'For example “Co-op, High Street”.', locationPicker(f)),
    field(f, 'follow_up', 'Follow-up', textInput(f, 'follow_up', { multiline: true, rows: 2, max: maxLength(schema, 'follow_up', 4000) }), null),
    standards.el,
    field(f, 'duration_minutes', 'Duration (minutes)', textInput(f, 'duration_minutes', { type: 'number', inputmode: 'numeric', min: 0, maxValue: 1440 }), null),
    loop.link,
    publicBox,
  ];
}

/** The form with its Cancel/Save bar. @param {FormParts} f */
function buildForm(f) {
  const save = h('button', { type: 'submit', class: 'btn primary' }, 'Save');
  const formError = h('p', { class: 'form-error', role: 'alert' });
  const form = h('form', { class: 'record-form', novalidate: true, onsubmit: (event) => {
    event.preventDefault();
    void submit(f, form, save, formError);
  } },
  formFields(f),
  formError,
  h('div', { class: 'form-actions' },
    h('button', { type: 'button', class: 'btn secondary', onclick: () => void cancel(f) }, 'Cancel'),
    save));
  if (reviewNote(f.editing)?.tone === 'approved') save.setAttribute('aria-describedby', 'review-note'); // heard on Save too
  return form;
}

/** Check, then save what changed (or say nothing changed). @param {FormParts} f */
async function submit(f, form, save, formError) {
  const { ctx, editing } = f;
  const { data, errors } = toRecord(f.v, f.schema);
  for (const [name, slot] of Object.entries(f.errors.slots)) slot.textContent = errors[name] ?? '';
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const names = inScreenOrder(Object.keys(errors), f.errors.slots);
  if (names.length) {
    for (const n of names) form.querySelector(`[name="${n}"]`)?.setAttribute('aria-invalid', 'true');
    announce(formError, names.length === 1
      ? errors[names[0]]
      : `${names.length} things to fix. ${names.map((n) => `${fieldLabel(n)}: ${errors[n]}`).join(' ')}`);
    showError(form, f.errors.slots, names[0]);
    return;
  }
  const pii = await piiCheck(f, data);
  if (pii === null) {
    save.disabled = false;
    return;
  }
  // Sent where the server knows the field (it puts such records in the supervisor's queue).
  if (f.schema.record?.pii_confirmed) data.pii_confirmed = pii;
  const payload = editing ? changedFields(editing.fields, data) : data;
  save.disabled = true;
  f.drafts.stop();
  const unchangedRejected = editing?.receipt.state === 'rejected' && !Object.keys(payload).length;
  if (editing && !Object.keys(payload).length && !unchangedRejected) {
    await f.drafts.drop();
    ctx.toast('No changes to save.');
    ctx.navigate('#/');
    return;
  }
  try {
    // The draft first: a tab killed before the record's transaction commits keeps the typing.
    await f.drafts.save();
    await ctx.saveRecord(editing?.id ?? null, payload);
  } catch (error) {
    // Nothing was written (the record and its outbox entry are one transaction), and the draft
    // of what was typed is kept: say why, and let the officer tap Save again.
    save.disabled = false;
    announce(formError, notSavedText(error));
    return;
  }
  await f.drafts.drop();
  ctx.navigate('#/');
}

/**
 * Before saving: warn when the summary, place or follow-up looks like it holds a member of the
 * public's personal data (pii.js). Text the officer already kept once is not asked about again.
 * @param {FormParts} f
 * @param {Object<string, any>} data
 * @returns {Promise<boolean|null>} whether flagged text is kept (confirmed), null: the officer edits
 */
export async function piiCheck(f, data) {
  const flagged = detectRecord(data);
  const kept = f.editing?.fields?.pii_confirmed === true;
  const fresh = Object.keys(flagged).filter((n) => !(kept && jsonEqual(f.editing?.fields?.[n] ?? null, data[n])));
  if (!fresh.length) return Object.keys(flagged).length > 0 && kept;
  const where = fresh.map((n) => `${fieldLabel(n)}: ${describe(flagged[n])}`).join('. ');
  const choice = await confirmDialog({
    title: 'Personal data?',
    body: `This looks like it holds a member of the public’s personal data. ${where}. Records are evidence of engagement: leave out names, numbers and registrations unless they are needed. If you keep it, your supervisor sees the record marked so.`,
    actions: [
      { label: 'Edit the text', value: 'edit', kind: 'primary' },
      { label: 'Keep it and save', value: 'keep' },
    ],
  });
  if (choice === 'keep') return true;
  const first = /** @type {HTMLElement|null} */ (document.querySelector(`[name="${fresh[0]}"]`));
  first?.focus();
  return null;
}

/** @param {unknown} error */
const storageFull = (error) => error instanceof DOMException && error.name === 'QuotaExceededError';
/** @param {unknown} error */
const why = (error) => (error instanceof Error ? error.message : String(error));

/** Why a save failed on the phone itself, in the officer's words. @param {unknown} error */
export function notSavedText(error) {
  return storageFull(error)
    ? "Not saved: this phone's storage is full. Free some space on the phone, then tap Save again. What you typed is still here."
    : `Not saved on this phone (${why(error)}). What you typed is still here: tap Save again.`;
}

/** Why a delete failed on the phone itself: the record is still in the log. @param {unknown} error */
export function notDeletedText(error) {
  return storageFull(error)
    ? "Not deleted: this phone's storage is full. Free some space on the phone, then delete it again. The record is still in your log."
    : `Not deleted on this phone (${why(error)}). The record is still in your log: delete it again.`;
}

/** Say it even when it is the same words as last time (a live region ignores no change). */
function announce(el, message) {
  el.textContent = '';
  requestAnimationFrame(() => { el.textContent = message; });
}

/**
 * Cancel: nothing typed leaves at once; typed work is never thrown away without asking (it can
 * be kept as a draft, which the log lists at the top). @param {FormParts} f
 */
async function cancel(f) {
  const { ctx } = f;
  const typed = f.hadDraft || JSON.stringify(f.v) !== f.opened;
  if (typed) {
    f.drafts.stop();
    const choice = await confirmDialog({
      title: f.editing ? 'Discard your changes?' : 'Discard this record?',
      body: f.editing ? 'Your changes to this record are not saved yet.' : 'What you typed is not saved yet.',
      actions: [
        { label: 'Keep editing', value: null },
        { label: 'Keep as draft', value: 'draft' },
        { label: f.editing ? 'Discard changes' : 'Discard record', value: 'discard', kind: 'danger' },
      ],
    });
    if (choice === null) return;
    if (choice === 'draft') await f.drafts.save();
    else await f.drafts.drop();
    if (choice === 'draft') ctx.toast('Kept as a draft: it is at the top of your log.');
  } else {
    await f.drafts.drop();
  }
  ctx.navigate('#/');
}

/** The screen around the form: heading, draft note, the supervisor's review, the server's refusal. @param {FormParts} f */
function formScreen(f, form, serverErrors) {
  const note = reviewNote(f.editing);
  return h('section', { class: 'screen form-screen' },
    h('div', { class: 'screen-head' },
      h('button', { type: 'button', class: 'btn icon-only', 'aria-label': 'Back to My log', onclick: () => f.ctx.navigate('#/') }, icon('back')),
      h('h1', {}, f.editing ? 'Edit record' : 'New record')),
    f.hadDraft ? h('p', { class: 'notice info' }, 'Your unsaved draft is back, as you left it.') : null,
    note?.tone === 'returned' ? h('div', { class: 'notice review' }, icon('comment'), h('div', {},
      h('strong', {}, note.title), note.comment ? h('blockquote', { class: 'review-comment' }, note.comment) : null)) : null,
    note?.tone === 'approved' ? h('div', { class: 'notice info', id: 'review-note' }, icon('check'), h('div', {},
      h('strong', {}, note.title), h('p', {}, note.text))) : null,
    Object.keys(serverErrors).length ? h('div', { class: 'notice bad' }, icon('alert'),
      h('p', {}, 'The server did not accept this record. Its reasons are shown next to the fields. Fix them and save.')) : null,
    form);
}
