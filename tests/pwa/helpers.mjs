// Test helpers: a fresh fake IndexedDB per test and a small in-memory sync server that speaks
// the push/pull protocol closely enough to drive the client's sync loop.
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { openDb } from '../../pwa/js/db.js';
import { setKey } from '../../pwa/js/sealed.js';
import { newDataKey } from '../../pwa/js/crypto.js';

// The queue is sealed under each officer's data key: the test officers' keys are open.
for (const user of ['7', 'u', 'A', 'B', 'someone-else']) setKey(user, await newDataKey());

export const NODE_A = 'a'.repeat(32);
export const NODE_B = 'b'.repeat(32);

/** A database in its own fresh factory, so tests never share state. */
export async function freshDb(options = {}) {
  const factory = new IDBFactory();
  const db = await openDb({ factory, ...options });
  return { db, factory };
}

/** A complete record payload as the form would make it. */
export function recordData(overrides = {}) {
  return {
    schema_version: 2,
    occurred_at: '2026-11-25T09:00:00.000Z',
    kind: 'face_to_face',
    standards: ['F2F'],
    place: 'Co-op, High Street',
    location: null,
    duration_minutes: null,
    people_count: 2,
    groups: [],
    summary: 'Talked with shop staff about shoplifting.',
    follow_up: '',
    publicised_at: null,
    contact_role: '',
    contact_org: '',
    public: false,
    ...overrides,
  };
}

/**
 * A fake server: per-field last-writer-wins by stamp, a sync counter for pull, (id, hlc)
 * idempotence and a validation hook. Good enough to test the client, not a second server.
 */
export class FakeServer {
  constructor({ serverNowMs = Date.parse('2026-11-25T10:00:00Z'), officer = { id: 7, username: 'pc1', display_name: 'PC One' } } = {}) {
    this.records = new Map();
    this.seen = new Map();
    this.seq = 0;
    this.serverNowMs = serverNowMs;
    this.officer = officer;
    this.pushes = [];
    this.pulls = 0;
    /** @type {(change: any) => Object<string,string[]>|null} */
    this.validate = () => null;
    /** @type {Array<(kind: string, body?: any) => any>} one-shot failures, first consulted first */
    this.failures = [];
  }

  #fail(kind, body) {
    const next = this.failures.shift();
    if (!next) return null;
    const r = next(kind, body);
    if (!r) this.failures.unshift(next); // not for this call: keep it for the next one
    return r;
  }

  push(body) {
    const f = this.#fail('push', body);
    if (f) return f;
    this.pushes.push(body);
    const results = body.changes.map((c) => {
      const key = `${c.id} ${c.hlc}`;
      if (this.seen.has(key)) return { ...this.seen.get(key), status: 'duplicate' };
      const errors = this.validate(c);
      let result;
      if (errors) {
        result = { id: c.id, hlc: c.hlc, status: 'rejected', rev: null, errors };
      } else {
        let rec = this.records.get(c.id);
        if (!rec) rec = { id: c.id, rev: 0, data: {}, hlc: {}, meta: {}, deleted: false, seq: 0 };
        rec.rev += 1;
        const conflicts = [];
        if (c.op === 'delete') rec.deleted = true;
        for (const [field, value] of Object.entries(c.data ?? {})) {
          const m = rec.meta[field];
          const concurrent = m && m.rev > (c.base_rev ?? 0);
          if (!m || !concurrent || c.hlc > m.hlc) {
            if (concurrent && JSON.stringify(rec.data[field]) !== JSON.stringify(value)) {
              conflicts.push({ field, winner: { value, hlc: c.hlc }, loser: { value: rec.data[field], hlc: m.hlc } });
            }
            rec.data[field] = value;
            rec.meta[field] = { hlc: c.hlc, rev: rec.rev };
          } else if (JSON.stringify(rec.data[field]) !== JSON.stringify(value)) {
            conflicts.push({ field, winner: { value: rec.data[field], hlc: m.hlc }, loser: { value, hlc: c.hlc } });
          }
        }
        rec.conflicts = [...(rec.conflicts ?? []), ...conflicts];
        rec.seq = ++this.seq;
        this.records.set(c.id, rec);
        result = { id: c.id, hlc: c.hlc, status: conflicts.length ? 'conflict' : 'applied', rev: rec.rev, ...(conflicts.length ? { conflicts } : {}) };
      }
      this.seen.set(key, result);
      return result;
    });
    return { status: 200, body: { batch_id: body.batch_id, results, server_time: new Date(this.serverNowMs).toISOString(), server_hlc: `${String(this.serverNowMs).padStart(15, '0')}-00000-server` } };
  }

  pull(since, limit) {
    const f = this.#fail('pull');
    if (f) return f;
    this.pulls += 1;
    const after = Number(since || 0);
    const changed = [...this.records.values()].filter((r) => r.seq > after).sort((a, b) => a.seq - b.seq);
    const page = changed.slice(0, limit);
    const cursor = page.length ? String(page[page.length - 1].seq) : String(after);
    return {
      status: 200,
      body: {
        changes: page.map((r) => ({
          id: r.id, rev: r.rev, deleted: r.deleted, data: { ...r.data },
          hlc: Object.fromEntries(Object.entries(r.meta).map(([k, v]) => [k, v.hlc])),
          officer: this.officer, team: 'T1', review: { state: 'pending' }, conflicts: r.conflicts ?? [],
          updated_at: new Date(this.serverNowMs).toISOString(),
        })),
        cursor,
        more: changed.length > page.length,
      },
    };
  }

  /** A fetch() bound to this server. */
  fetch = async (url, init = {}) => {
    const u = new URL(url, 'http://test');
    let out;
    if (u.pathname === '/api/v1/sync/push' && init.method === 'POST') out = this.push(JSON.parse(init.body));
    else if (u.pathname === '/api/v1/sync/pull') out = this.pull(u.searchParams.get('since') ?? '', Number(u.searchParams.get('limit')));
    else out = { status: 404, body: { error: { code: 'not_found', message: 'No such thing.' } } };
    if (out instanceof Error) throw out;
    return new Response(JSON.stringify(out.body), { status: out.status, headers: { 'Content-Type': 'application/json', ...(out.headers ?? {}) } });
  };
}
