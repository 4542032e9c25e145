// "My log": the screen the app opens on. The officer's own records by default, the team's on
// request, newest first, each with its sync receipt and review state. Records that wait for the
// officer (returned by a supervisor, refused by the server) are counted in a banner at the top.

import { h, mount, focusHeading, icon, fmtTime, fmtDay, confirmDialog } from './dom.js';
import { fieldLabel, formatValue } from './labels.js';
import { listRecords, filterRecords, displayState, needsAttention } from '../records.js';

/** @type {Required<import('../records.js').LogFilter>} kept while the app runs */
const filter = { kind: '', from: '', to: '', scope: 'mine', attention: false };
const PAGE = 50; // cards drawn at once: a team's year of records stays quick on a phone

/**
 * @param {HTMLElement} root
 * @param {import('../app.js').Context} ctx
 * @returns {Promise<() => void>} cleanup
 */
export async function renderLog(root, ctx) {
  const list = h('div', { class: 'log-list', id: 'log-list' });
  const countNote = h('p', { class: 'count-note', 'aria-live': 'polite' });
  const kinds = ctx.schema?.kinds ?? [];

  const kindSelect = h('select', { id: 'f-kind', onchange: () => { filter.kind = kindSelect.value; shown = PAGE; void draw(); } },
    h('option', { value: '' }, 'All kinds'),
    kinds.map((k) => h('option', { value: k.code }, k.title)));
  kindSelect.value = filter.kind;
  const from = h('input', { id: 'f-from', type: 'date', value: filter.from, onchange: () => { filter.from = from.value; void draw(); } });
  const to = h('input', { id: 'f-to', type: 'date', value: filter.to, onchange: () => { filter.to = to.value; void draw(); } });
  const active = () => [filter.kind, filter.from, filter.to].filter(Boolean).length;
  const summary = h('summary', {}, 'Filter');
  const filters = h('details', { class: 'filters', open: active() > 0 },
    summary,
    h('div', { class: 'filter-grid' },
      h('div', { class: 'field' }, h('label', { for: 'f-from' }, 'From'), from),
      h('div', { class: 'field' }, h('label', { for: 'f-to' }, 'To'), to),
      h('div', { class: 'field wide' }, h('label', { for: 'f-kind' }, 'Filter by kind'), kindSelect),
      h('button', { type: 'button', class: 'btn secondary', onclick: () => {
        filter.kind = ''; filter.from = ''; filter.to = ''; shown = PAGE;
        kindSelect.value = ''; from.value = ''; to.value = '';
        void draw();
      } }, 'Clear filter')));

  // Whose records: the heading says "My log", so the officer's own by default.
  const scopeRadio = (value, label) => h('label', { class: 'seg-option' },
    h('input', { type: 'radio', name: 'scope', value, checked: filter.scope === value, onchange: () => {
      filter.scope = /** @type {'mine'|'team'} */ (value);
      shown = PAGE;
      void draw();
    } }),
    h('span', {}, label));
  const scope = h('fieldset', { class: 'scope' },
    h('legend', { class: 'sr-only' }, 'Show records'),
    h('div', { class: 'seg' }, scopeRadio('mine', 'Mine'), scopeRadio('team', 'Whole team')));
  const attention = h('div', { class: 'attention-slot' });

  const screen = h('section', { class: 'screen log' },
      h('div', { class: 'screen-head' },
        h('h1', {}, 'My log'),
        h('button', { type: 'button', class: 'btn primary new-record', onclick: () => ctx.navigate('#/new') }, icon('plus'), 'New record')),
      attention,
      scope,
      filters,
      countNote,
      list);

  /** @param {number} count own records waiting for the officer */
  function drawAttention(count) {
    const records = `${count} ${count === 1 ? 'record needs' : 'records need'} your attention`;
    if (filter.attention) {
      mount(attention, h('div', { class: 'attention on' }, icon('alert'),
        h('p', {}, `Showing only your ${count === 1 ? 'record that needs' : `${count} records that need`} your attention.`),
        h('button', { type: 'button', class: 'btn secondary small', onclick: () => {
          filter.attention = false;
          shown = PAGE;
          void draw();
        } }, 'Show all')));
    } else if (count) {
      mount(attention, h('button', { type: 'button', class: 'attention', onclick: () => {
        filter.attention = true;
        shown = PAGE;
        void draw();
      } }, icon('alert'),
      h('span', { class: 'attention-text' }, h('strong', {}, records),
        h('span', {}, 'Returned by your supervisor or not accepted by the server. Show them.'))));
    } else {
      mount(attention);
    }
  }

  let shown = PAGE;
  let drawing = Promise.resolve();
  async function draw() {
    drawing = drawing.then(async () => {
      const all = await listRecords(ctx.db, ctx.session.userId);
      const waiting = all.filter(needsAttention).length;
      if (!waiting) filter.attention = false; // all fixed: back to the whole list
      drawAttention(waiting);
      for (const input of scope.querySelectorAll('input')) input.checked = input.value === filter.scope;
      scope.hidden = filter.attention; // the attention view is the officer's own records
      const rows = filterRecords(all, filter);
      summary.textContent = active() ? `Filter (${active()} on)` : 'Filter';
      countNote.textContent = active() ? `${rows.length} ${rows.length === 1 ? 'record matches' : 'records match'}` : '';
      if (!rows.length) {
        const teamHas = filter.scope === 'mine' && !active() && all.length > 0;
        mount(list, h('div', { class: 'empty' },
          h('p', { class: 'empty-title' }, active() ? 'No records match this filter.' : teamHas ? 'No records of yours yet.' : 'No records yet.'),
          active() ? null : h('p', {}, 'Tap “New record” to log an engagement. It is saved on this phone at once, with or without a signal.'),
          teamHas ? h('p', {}, 'Your team’s records are under “Whole team”.') : null));
        return;
      }
      const groups = [];
      let day = null;
      for (const r of rows.slice(0, shown)) {
        const label = fmtDay(r.occurred_at);
        if (label !== day) {
          day = label;
          groups.push(h('h2', { class: 'day' }, label));
          groups.push(h('ol', { class: 'cards' }));
        }
        groups[groups.length - 1].append(card(r, ctx));
      }
      if (rows.length > shown) {
        groups.push(h('button', { type: 'button', class: 'btn secondary block', onclick: () => { shown += PAGE; void draw(); } },
          `Show older records (${rows.length - shown} more)`));
      }
      mount(list, groups);
    });
    return drawing;
  }

  // The screen appears with its first records and banner in place, so nothing jumps down.
  await draw();
  mount(root, screen);
  focusHeading(root);
  return ctx.onData(() => void draw());
}

/**
 * @param {import('../records.js').LocalRecord} r
 * @param {import('../app.js').Context} ctx
 */
function card(r, ctx) {
  const f = r.fields;
  const kind = ctx.schema?.kinds.find((k) => k.code === f.kind);
  const titleId = `rec-${r.id}`;
  const metaBits = [
    fmtTime(f.occurred_at),
    f.place,
    typeof f.people_count === 'number' ? `${f.people_count} ${f.people_count === 1 ? 'person' : 'people'}` : null,
    f.location ? 'location added' : null,
    r.mine ? null : (r.server?.officer?.display_name ?? 'Team member'),
  ].filter(Boolean);
  const review = r.server?.review;
  const state = displayState(r);
  const fixable = r.mine && (state === 'returned' || state === 'rejected');
  return h('li', { class: `card state-${state}`, dataset: { id: r.id } },
    h('article', { 'aria-labelledby': titleId },
      h('div', { class: 'card-top' },
        h('h3', { id: titleId }, kind?.title ?? f.kind ?? 'Record'),
        badge(r, state)),
      // The supervisor's words come first: they are what the officer has to act on.
      review && review.state === 'returned' ? h('div', { class: 'notice review' }, icon('comment'),
        h('div', {}, h('strong', {}, r.mine ? 'Returned by your supervisor' : 'Returned to the officer by a supervisor'),
          review.comment ? h('blockquote', { class: 'review-comment' }, review.comment) : null,
          r.mine ? h('p', {}, state === 'pending' ? 'Your fix syncs and goes back for review.' : 'Edit the record and it goes back for review.') : null)) : null,
      h('p', { class: 'card-meta' }, metaBits.join(' · ')),
      h('p', { class: 'card-summary' }, f.summary ?? ''),
      review && review.state === 'approved' ? h('p', { class: 'review-ok' }, icon('check'), 'Approved') : null,
      r.receipt.state === 'rejected' ? h('div', { class: 'notice bad', role: 'group', 'aria-label': 'Server’s reasons' }, icon('alert'),
        h('div', {}, h('strong', {}, 'Not accepted by the server — fix and save again'),
          h('ul', { class: 'errors' }, Object.entries(r.receipt.errors ?? {}).map(([field, msgs]) =>
            h('li', {}, h('span', { class: 'err-field' }, `${fieldLabel(field)}: `), [].concat(msgs).join(' ')))))) : null,
      r.receipt.conflicts.length ? h('div', { class: 'notice conflict' }, icon('split'),
        h('div', {}, h('strong', {}, 'Edited on two devices at once — both values kept for your supervisor'),
          h('ul', { class: 'conflicts' }, r.receipt.conflicts.map((c) =>
            h('li', {}, h('span', { class: 'err-field' }, `${fieldLabel(c.field)}: `),
              'shown ', h('q', { class: 'val' }, formatValue(c.field, c.winner.value, ctx.schema)),
              ', also recorded ', h('q', { class: 'val' }, formatValue(c.field, c.loser.value, ctx.schema))))))) : null,
      r.mine ? h('div', { class: 'card-actions' },
        h('button', { type: 'button', class: `btn ${fixable ? 'primary' : 'secondary'} small`, 'aria-describedby': titleId, onclick: () => ctx.navigate(`#/edit/${r.id}`) }, icon('edit'), 'Edit'),
        h('button', { type: 'button', class: 'btn ghost small', 'aria-describedby': titleId, onclick: async () => {
          const ok = await confirmDialog({
            title: 'Delete this record?',
            body: 'It leaves your log now and is deleted on the server when this phone next syncs. A supervisor can still see that it existed.',
            actions: [{ label: 'Cancel', value: false }, { label: 'Delete', value: true, kind: 'danger' }],
          });
          if (ok) await ctx.deleteRecord(r.id);
        } }, icon('trash'), 'Delete')) : null));
}

/**
 * @param {import('../records.js').LocalRecord} r
 * @param {ReturnType<typeof displayState>} s
 */
function badge(r, s) {
  if (s === 'synced') return h('span', { class: 'badge synced' }, icon('check'), r.receipt.at ? `Synced ${fmtTime(r.receipt.at)}` : 'Synced');
  if (s === 'pending') return h('span', { class: 'badge pending' }, icon('clock'), 'Pending');
  if (s === 'rejected') return h('span', { class: 'badge rejected' }, icon('alert'), 'Needs attention');
  if (s === 'returned') return h('span', { class: 'badge returned' }, icon('comment'), r.mine ? 'Returned — needs your fix' : 'Returned');
  return h('span', { class: 'badge conflict' }, icon('split'), 'Conflict');
}
