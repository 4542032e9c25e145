// "My log": the screen the app opens on. Own and own-team records, newest first, each with its
// sync receipt and review state.

import { h, mount, focusHeading, icon, fmtTime, fmtDay, confirmDialog } from './dom.js';
import { fieldLabel, formatValue } from './labels.js';
import { listRecords } from '../records.js';

/** @type {{kind: string, from: string, to: string}} kept while the app runs */
const filter = { kind: '', from: '', to: '' };
const PAGE = 50; // cards drawn at once: a team's year of records stays quick on a phone

/**
 * @param {HTMLElement} root
 * @param {import('../app.js').Context} ctx
 * @returns {() => void} cleanup
 */
export function renderLog(root, ctx) {
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

  mount(root,
    h('section', { class: 'screen log' },
      h('div', { class: 'screen-head' },
        h('h1', {}, 'My log'),
        h('button', { type: 'button', class: 'btn primary new-record', onclick: () => ctx.navigate('#/new') }, icon('plus'), 'New record')),
      filters,
      countNote,
      list));

  let shown = PAGE;
  let drawing = Promise.resolve();
  async function draw() {
    drawing = drawing.then(async () => {
      const rows = await listRecords(ctx.db, ctx.session.userId, filter);
      summary.textContent = active() ? `Filter (${active()} on)` : 'Filter';
      countNote.textContent = active() ? `${rows.length} ${rows.length === 1 ? 'record matches' : 'records match'}` : '';
      if (!rows.length) {
        mount(list, h('div', { class: 'empty' },
          h('p', { class: 'empty-title' }, active() ? 'No records match this filter.' : 'No records yet.'),
          active() ? null : h('p', {}, 'Tap “New record” to log an engagement. It is saved on this phone at once, with or without a signal.')));
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

  void draw();
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
  return h('li', { class: `card state-${r.receipt.state}`, dataset: { id: r.id } },
    h('article', { 'aria-labelledby': titleId },
      h('div', { class: 'card-top' },
        h('h3', { id: titleId }, kind?.title ?? f.kind ?? 'Record'),
        receiptBadge(r)),
      h('p', { class: 'card-meta' }, metaBits.join(' · ')),
      h('p', { class: 'card-summary' }, f.summary ?? ''),
      review && review.state === 'returned' ? h('div', { class: 'notice review' }, icon('back'),
        h('div', {}, h('strong', {}, 'Returned by your supervisor'),
          review.comment ? h('p', { class: 'quote' }, `“${review.comment}”`) : null,
          h('p', {}, r.mine ? 'Edit the record and it goes back for review.' : ''))) : null,
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
        h('button', { type: 'button', class: 'btn secondary small', 'aria-describedby': titleId, onclick: () => ctx.navigate(`#/edit/${r.id}`) }, icon('edit'), 'Edit'),
        h('button', { type: 'button', class: 'btn ghost small', 'aria-describedby': titleId, onclick: async () => {
          const ok = await confirmDialog({
            title: 'Delete this record?',
            body: 'It leaves your log now and is deleted on the server when this phone next syncs. A supervisor can still see that it existed.',
            actions: [{ label: 'Cancel', value: false }, { label: 'Delete', value: true, kind: 'danger' }],
          });
          if (ok) await ctx.deleteRecord(r.id);
        } }, icon('trash'), 'Delete')) : null));
}

/** @param {import('../records.js').LocalRecord} r */
function receiptBadge(r) {
  const s = r.receipt.state;
  if (s === 'synced') return h('span', { class: 'badge synced' }, icon('check'), r.receipt.at ? `Synced ${fmtTime(r.receipt.at)}` : 'Synced');
  if (s === 'pending') return h('span', { class: 'badge pending' }, icon('clock'), 'Pending');
  if (s === 'rejected') return h('span', { class: 'badge rejected' }, icon('alert'), 'Needs attention');
  return h('span', { class: 'badge conflict' }, icon('split'), 'Conflict');
}
