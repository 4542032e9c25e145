// The record form's part of the priority loop (issue 15): the concerns people raised, the
// priority a record is for, and a local priority's own fields. All choices come from the
// phone's own records, so the form works with no signal. form.js owns the values and saving.

import { h, mount, icon, fmtDay } from './dom.js';
import { PRIORITY, FEEDBACK, STATUSES, priorityChoices, meetingChoices, concernChoices, ownerChoices, PHRASE_MAX } from '../loop.js';

/**
 * @typedef {Object} Kit form.js's builders, passed in so this module does not import form.js
 * @property {(f: any, name: string, label: string, input: HTMLElement, hint: string|null, extra?: any) => HTMLElement} field
 * @property {(f: any, name: string, attrs?: Object<string, any>) => HTMLElement} textInput
 */

const CATEGORY_HINT = 'What people raised: a category and a few words. No names.';

/** "Beat surgery, 3 Dec: Surgery at the library" for a record in a list of choices. */
function recordWords(r, schema) {
  const kind = schema?.kinds.find((k) => k.code === r.kind)?.title ?? r.kind;
  const summary = String(r.fields?.summary ?? '');
  const short = summary.length > 60 ? `${summary.slice(0, 57)}…` : summary;
  return `${kind}, ${fmtDay(r.occurred_at)}${short ? `: ${short}` : ''}`;
}

/** Concerns: rows of category + phrase, added and removed by the officer. */
function concernsField(f) {
  const categories = f.schema.concern_categories ?? [];
  const rows = h('ol', { class: 'concern-rows' });
  const draw = (focusIndex) => {
    mount(rows, f.v.concerns.map((c, i) => {
      const n = i + 1;
      const category = h('select', { id: `f-concern-${i}-category`, name: `concern-${i}-category`, onchange: () => {
        f.v.concerns[i].category = category.value;
        f.drafts.keep();
      } }, h('option', { value: '' }, 'Choose a category'), categories.map((k) => h('option', { value: k.code }, k.title)));
      category.value = c.category;
      const phrase = h('input', { id: `f-concern-${i}-phrase`, name: `concern-${i}-phrase`, value: c.phrase, maxlength: PHRASE_MAX,
        autocomplete: 'off', oninput: () => { f.v.concerns[i].phrase = phrase.value; f.drafts.keep(); } });
      return h('li', { class: 'concern' },
        h('label', { for: category.id }, `Concern ${n}: category`), category,
        h('label', { for: phrase.id }, `Concern ${n} in a few words`), phrase,
        h('button', { type: 'button', class: 'btn ghost small', onclick: () => {
          f.v.concerns.splice(i, 1);
          f.drafts.keep();
          draw(Math.min(i, f.v.concerns.length - 1));
        } }, icon('trash'), `Remove concern ${n}`));
    }));
    if (focusIndex !== undefined && focusIndex >= 0) /** @type {HTMLElement|null} */ (rows.querySelector(`#f-concern-${focusIndex}-category`))?.focus();
    else if (focusIndex !== undefined) add.focus();
  };
  const add = h('button', { type: 'button', class: 'btn secondary small', id: 'f-concerns', onclick: () => {
    f.v.concerns.push({ category: '', phrase: '' });
    f.drafts.keep();
    draw(f.v.concerns.length - 1);
  } }, icon('plus'), 'Add a concern');
  draw();
  return h('fieldset', { class: 'concerns-field', id: 'wrap-concerns', 'aria-describedby': 'concerns-hint err-concerns' },
    h('legend', {}, 'Concerns raised'),
    h('p', { class: 'hint', id: 'concerns-hint' }, CATEGORY_HINT),
    rows, add, f.errors.slot('concerns'));
}

/** A select bound to `v[name]`, its options [value, words]. */
function select(f, name, options, onchange) {
  const el = h('select', { id: `f-${name}`, name, 'aria-describedby': `err-${name}`, onchange: () => {
    f.v[name] = el.value;
    f.drafts.keep();
    onchange?.();
  } }, options.map(([value, words]) => h('option', { value }, words)));
  // A saved link to a record the phone no longer has stays as it is, named as such.
  if (f.v[name] && !options.some(([value]) => value === f.v[name])) el.append(h('option', { value: f.v[name] }, 'A record not on this phone'));
  el.value = f.v[name];
  return el;
}

/** "For priority": the local priorities the phone has. */
function priorityLink(f, kit, records) {
  const priorities = priorityChoices(records);
  const options = [['', 'None'], ...priorities.map((r) => [r.id, r.fields.title || recordWords(r, f.schema)])];
  const hint = h('p', { class: 'hint', id: 'f-priority_id-hint' });
  const wrap = kit.field(f, 'priority_id', 'For priority', select(f, 'priority_id', options, () => sync()), null, hint);
  const sync = () => {
    hint.textContent = !priorities.length
      ? 'No local priority is on this phone yet: record one (kind “Local priority”) or sync to get the team’s.'
      : f.v.kind === FEEDBACK
      ? (f.v.priority_id ? 'Shown under the priority on the team’s public page if you share it (below) and your supervisor approves it.' : 'Choose the priority this tells the public about.')
      : 'An action taken for one of the team’s local priorities.';
  };
  wrap.querySelector('select')?.setAttribute('aria-describedby', 'f-priority_id-hint err-priority_id');
  return { el: wrap, sync };
}

/** A local priority's own fields. */
function priorityFields(f, kit, records) {
  const { v, schema } = f;
  const status = select(f, 'priority_status', STATUSES.map((s) => [s.code, s.title]), () => sync());
  const closedOn = kit.field(f, 'closed_on', 'Ended on', kit.textInput(f, 'closed_on', { type: 'date' }), null);
  const reason = kit.field(f, 'closed_reason', 'Why closed without action', kit.textInput(f, 'closed_reason', { multiline: true, rows: 2, max: 4000 }), null);
  const owners = ownerChoices(records, f.ctx.session);
  const owner = select(f, 'owner_id', [['', 'No owner yet'], ...owners.map((o) => [o.id, o.name])]);
  const meeting = select(f, 'meeting_id', [['', 'Not set at a meeting'], ...meetingChoices(records).map((r) => [r.id, recordWords(r, schema)])]);
  const behind = concernChoices(records, f.editing?.id);
  const concernBoxes = h('fieldset', { class: 'checks-field', id: 'wrap-concern_record_ids' },
    h('legend', {}, 'Records whose concerns are behind it'),
    behind.length
      ? h('div', { class: 'checks' }, behind.map((r) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', value: r.id, name: 'concern_record_ids', checked: v.concern_record_ids.includes(r.id), onchange: (e) => {
          v.concern_record_ids = e.target.checked ? [...v.concern_record_ids, r.id] : v.concern_record_ids.filter((id) => id !== r.id);
          f.drafts.keep();
        } }),
        h('span', {}, recordWords(r, schema), h('span', { class: 'concern-tags' }, ` (${concernWords(r, schema)})`)))))
      : h('p', { class: 'hint' }, 'No record on this phone has concerns yet. Add concerns to the records where people raised them.'),
    f.errors.slot('concern_record_ids'));
  const el = h('div', { class: 'group priority-fields' },
    kit.field(f, 'title', 'Priority (as the public reads it)', kit.textInput(f, 'title', { max: 200, hint: true }), 'For example “Speeding on Dorchester Road”. No names.'),
    kit.field(f, 'priority_status', 'Status', status, null),
    closedOn, reason,
    kit.field(f, 'review_by', 'Review by', kit.textInput(f, 'review_by', { type: 'date' }), null),
    kit.field(f, 'owner_id', 'Owner', owner, null),
    kit.field(f, 'meeting_id', 'Set at meeting', meeting, null),
    concernBoxes);
  const sync = () => {
    closedOn.hidden = !(v.priority_status === 'resolved' || v.priority_status === 'closed');
    reason.hidden = v.priority_status !== 'closed';
  };
  sync();
  return { el, sync };
}

/** "Speeding, Parking" */
function concernWords(r, schema) {
  const title = (code) => schema?.concern_categories?.find((c) => c.code === code)?.title ?? code;
  return [...new Set((r.fields?.concerns ?? []).map((c) => title(c.category)))].join(', ');
}

/**
 * The loop's sections of the form, and a `sync` the form calls when the kind changes.
 * @param {any} f form.js's FormParts
 * @param {Kit} kit
 * @param {import('../records.js').LocalRecord[]} records the phone's records, for the choices
 */
export function loopSections(f, kit, records) {
  const concerns = concernsField(f);
  const link = priorityLink(f, kit, records);
  const priority = priorityFields(f, kit, records);
  const sync = () => {
    const isPriority = f.v.kind === PRIORITY;
    priority.el.hidden = !isPriority;
    link.el.hidden = isPriority;
    link.sync();
    priority.sync();
  };
  sync();
  return { concerns, link: link.el, priority: priority.el, sync };
}
