// Tiny DOM helpers shared by the screens: no framework, no innerHTML with data.

/**
 * Make an element. Attributes starting with "on" become listeners; `class`, `for`, boolean
 * attributes and `dataset` behave as expected; children may be strings, nodes or arrays.
 * @param {string} tag
 * @param {Object<string, any>} [attrs]
 * @param {...any} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'style') el.style.cssText = String(value); // CSSOM: allowed by the strict CSP
    else if (key === 'value') /** @type {any} */ (el).value = value;
    else if (key === 'checked') /** @type {any} */ (el).checked = Boolean(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** An inline SVG icon from the sprite-free set below, hidden from assistive tech. */
export function icon(name) {
  const paths = ICONS[name] ?? '';
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', 'icon');
  svg.innerHTML = paths; // constant markup from this module only
  return svg;
}

const ICONS = {
  plus: '<path d="M12 5v14M5 12h14" stroke="currentColor" stroke-width="2.5" stroke-linecap="round" fill="none"/>',
  minus: '<path d="M5 12h14" stroke="currentColor" stroke-width="2.5" stroke-linecap="round" fill="none"/>',
  sync: '<path d="M20 11a8 8 0 0 0-14.3-4.9M4 13a8 8 0 0 0 14.3 4.9M5 3v4h4M19 21v-4h-4" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round" fill="none"/>',
  check: '<path d="M5 12.5l4.5 4.5L19 7.5" stroke="currentColor" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round" fill="none"/>',
  clock: '<circle cx="12" cy="12" r="8.5" stroke="currentColor" stroke-width="2.2" fill="none"/><path d="M12 7.5V12l3 2" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" fill="none"/>',
  alert: '<path d="M12 3.5 2.8 19.5h18.4z" stroke="currentColor" stroke-width="2.2" stroke-linejoin="round" fill="none"/><path d="M12 10v4.5M12 17.3v.2" stroke="currentColor" stroke-width="2.4" stroke-linecap="round"/>',
  split: '<path d="M6 4v5a6 6 0 0 0 6 6 6 6 0 0 0 6-6V4M12 15v5" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" fill="none"/>',
  pin: '<path d="M12 21s-6.5-6-6.5-11a6.5 6.5 0 0 1 13 0c0 5-6.5 11-6.5 11z" stroke="currentColor" stroke-width="2.2" fill="none"/><circle cx="12" cy="10" r="2.3" fill="currentColor"/>',
  phone: '<rect x="6.5" y="2.8" width="11" height="18.4" rx="2.4" stroke="currentColor" stroke-width="2.2" fill="none"/><path d="M10.5 18h3" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"/>',
  offline: '<path d="M3 3l18 18M8.5 16.5a5 5 0 0 1 7 0M5 12.5a10 10 0 0 1 4-2.3M14.8 10.3A10 10 0 0 1 19 12.5M2 8.8a15 15 0 0 1 4.3-2.6M10.5 5.1A15 15 0 0 1 22 8.8" stroke="currentColor" stroke-width="2.1" stroke-linecap="round" fill="none"/><circle cx="12" cy="20" r="1.3" fill="currentColor"/>',
  edit: '<path d="M4 20h4L19 9l-4-4L4 16z" stroke="currentColor" stroke-width="2.1" stroke-linejoin="round" fill="none"/>',
  trash: '<path d="M4 7h16M9 7V4h6v3M6.5 7l1 13h9l1-13" stroke="currentColor" stroke-width="2.1" stroke-linejoin="round" fill="none"/>',
  back: '<path d="M15 5l-7 7 7 7" stroke="currentColor" stroke-width="2.5" stroke-linecap="round" stroke-linejoin="round" fill="none"/>',
  comment: '<path d="M4 5.5h16v10.5H10l-4.5 4v-4H4z" stroke="currentColor" stroke-width="2.1" stroke-linejoin="round" fill="none"/><path d="M8 9.5h8M8 12.5h5" stroke="currentColor" stroke-width="2" stroke-linecap="round"/>',
  search: '<circle cx="10.5" cy="10.5" r="6.5" stroke="currentColor" stroke-width="2.2" fill="none"/><path d="M15.5 15.5 20 20" stroke="currentColor" stroke-width="2.4" stroke-linecap="round"/>',
  user: '<circle cx="12" cy="8.5" r="4" stroke="currentColor" stroke-width="2.2" fill="none"/><path d="M4.5 20a7.5 7.5 0 0 1 15 0" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" fill="none"/>',
};

/** Replace all children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** Move focus to the screen's heading so screen readers announce the new screen. */
export function focusHeading(root) {
  const heading = root.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: false });
  }
}

const timeFmt = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' });
const dayFmt = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short' });
const fullFmt = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });

/** @param {string|null} iso */
export function fmtTime(iso) {
  const t = iso ? new Date(iso) : null;
  return t && !Number.isNaN(t.getTime()) ? timeFmt.format(t) : '';
}

/** A moment in a badge: "11:48" today, "3 Dec, 11:48" another day (with the year if not this one). */
export function fmtStamp(/** @type {string|null|undefined} */ iso, nowMs = Date.now()) {
  const t = iso ? new Date(iso) : null;
  if (!t || Number.isNaN(t.getTime())) return '';
  const now = new Date(nowMs);
  if (t.toDateString() === now.toDateString()) return timeFmt.format(t);
  const text = fullFmt.format(t);
  return t.getFullYear() === now.getFullYear() ? text : `${text} ${t.getFullYear()}`;
}

/** "Today", "Yesterday" or a short date, for day headings. @param {string} iso */
export function fmtDay(iso, nowMs = Date.now()) {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return 'Unknown date';
  const day = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const diff = Math.round((day(new Date(nowMs)) - day(t)) / 86400000);
  if (diff === 0) return 'Today';
  if (diff === 1) return 'Yesterday';
  const text = dayFmt.format(t);
  return t.getFullYear() === new Date(nowMs).getFullYear() ? text : `${text} ${t.getFullYear()}`;
}

/** A time relative to now for "last synced". @param {string|null} iso */
export function fmtAgo(iso, nowMs = Date.now()) {
  if (!iso) return 'never';
  const ms = nowMs - Date.parse(iso);
  if (ms < 60_000) return 'just now';
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ago`;
  if (ms < 86_400_000) return `at ${fmtTime(iso)}`;
  return fullFmt.format(new Date(iso));
}

/** Local "YYYY-MM-DDTHH:MM" for a datetime-local input. @param {Date} d */
export function toLocalInput(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** ISO 8601 with the phone's offset, from a datetime-local value. @param {string} value */
export function fromLocalInput(value) {
  const d = new Date(value);
  if (!value || Number.isNaN(d.getTime())) return null;
  return `${value.length === 16 ? `${value}:00` : value}${offsetOf(d)}`;
}

/** A moment as local ISO 8601 with the phone's offset, to the second. @param {Date} d */
export function isoWithOffset(d) {
  return `${toLocalInput(d)}:${String(d.getSeconds()).padStart(2, '0')}${offsetOf(d)}`;
}

function offsetOf(d) {
  const off = -d.getTimezoneOffset();
  const p = (n) => String(Math.abs(n)).padStart(2, '0');
  return `${off >= 0 ? '+' : '-'}${p(Math.trunc(off / 60))}:${p(off % 60)}`;
}

/** A modal confirmation using <dialog>. Resolves with the chosen action's value. */
export function confirmDialog({ title, body, actions }) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'dlg-title' },
      h('h2', { id: 'dlg-title' }, title),
      h('p', {}, body),
      h('div', { class: 'dialog-actions' }, actions.map((a) =>
        h('button', { type: 'button', class: `btn ${a.kind ?? 'secondary'}`, onclick: () => { dialog.close(); resolve(a.value); } }, a.label))),
    );
    dialog.addEventListener('cancel', () => resolve(null));
    dialog.addEventListener('close', () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
  });
}
