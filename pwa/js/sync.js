// The sync loop: push the outbox in batches, then pull until `more` is false. Retries with
// exponential backoff and jitter; a 401/403 pauses until the officer signs in again.

import { ApiError } from './api.js';
import { STORES, withTx, getMeta, putMeta } from './db.js';
import { nextBatch, markSent, applyResults, countPending, observeServer } from './outbox.js';
import { applyPulled } from './records.js';
import { keepAlerts } from './alerts.js';

export const MAX_BATCH = 500;
const PULL_LIMIT = 500;
const MAX_ROUNDS = 10000; // a guard against a server that never says `more: false`

/**
 * @typedef {{userId: string, deviceId: string, needsSignIn?: boolean}} SyncSession
 *
 * @typedef {Object} SyncStatus
 * @property {'idle'|'syncing'|'offline'|'retrying'|'auth'|'error'|'signed-out'} state
 * @property {number} waiting records with a change not yet on the server
 * @property {number} rejected of which the server refused
 * @property {number} attention the officer's own records that wait for them (refused or returned)
 * @property {number} changes outbox entries (what a push reports as `pending`)
 * @property {boolean} busy the server said it is overloaded or down for a moment (503, 429)
 * @property {string|null} lastSuccess ISO time of the last complete sync
 * @property {string|null} lastError a sentence for the officer
 * @property {string|null} [lastCode] the protocol's code of the last error (e.g. token_revoked)
 * @property {number|null} nextRetryAt epoch ms
 * @property {number} failures consecutive transient failures
 */

/** A fresh id for a batch or a record. */
export function uuid() {
  if (globalThis.crypto?.randomUUID) return globalThis.crypto.randomUUID();
  const b = globalThis.crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Backoff for the n-th consecutive failure: doubling from `baseMs`, capped, with "equal jitter"
 * (half fixed, half random) so a team's phones coming back online together do not stampede.
 * @param {number} failures >= 1
 * @param {number} random 0..1
 */
export function backoffMs(failures, random, baseMs = 2000, maxMs = 5 * 60 * 1000) {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + (random * ceiling) / 2);
}

export class SyncEngine {
  /**
   * @param {Object} o
   * @param {IDBDatabase} o.db
   * @param {ReturnType<import('./api.js').createApi>} o.api
   * @param {() => SyncSession|null} o.session
   * @param {(error: ApiError) => Promise<void>|void} o.onAuthLost
   * @param {string} o.appVersion
   * @param {() => number} [o.now]
   * @param {() => number} [o.random]
   * @param {() => boolean} [o.isOnline]
   * @param {number} [o.periodMs] how often to sync while online
   * @param {{set: typeof setTimeout, clear: typeof clearTimeout}} [o.timers]
   * @param {(name: string, fn: () => Promise<void>) => Promise<void>} [o.lock] one sync at a time
   *   across tabs (Web Locks where the browser has them)
   */
  constructor(o) {
    this.db = o.db;
    this.api = o.api;
    this.session = o.session;
    this.onAuthLost = o.onAuthLost;
    this.appVersion = o.appVersion;
    this.now = o.now ?? (() => Date.now());
    this.random = o.random ?? Math.random;
    this.isOnline = o.isOnline ?? (() => globalThis.navigator?.onLine ?? true);
    this.periodMs = o.periodMs ?? 3 * 60 * 1000;
    this.timers = o.timers ?? { set: (fn, ms) => setTimeout(fn, ms), clear: (id) => clearTimeout(id) };
    const locks = globalThis.navigator?.locks;
    this.lock = o.lock ?? (locks ? (name, fn) => locks.request(name, fn) : (_name, fn) => fn());
    /** @type {SyncStatus} */
    this.status = { state: 'idle', waiting: 0, rejected: 0, attention: 0, changes: 0, busy: false, lastSuccess: null, lastError: null, nextRetryAt: null, failures: 0 };
    /** @type {Set<(s: SyncStatus) => void>} */
    this.listeners = new Set();
    /** @type {Promise<void>|null} */
    this.running = null;
    this.timer = null;
    this.again = false;
    this.resume = false;
  }

  /** @param {(s: SyncStatus) => void} fn */
  subscribe(fn) {
    this.listeners.add(fn);
    fn(this.status);
    return () => this.listeners.delete(fn);
  }

  /** @param {Partial<SyncStatus>} patch */
  #set(patch) {
    this.status = { ...this.status, ...patch };
    for (const fn of this.listeners) fn(this.status);
  }

  /** Reload counts and the last sync time (after a local change or a change of officer). */
  async refresh() {
    const s = this.session();
    if (!s) {
      this.#set({ state: 'signed-out', waiting: 0, rejected: 0, attention: 0, changes: 0, lastSuccess: null });
      return;
    }
    const counts = await countPending(this.db, s.userId);
    const lastSuccess = await withTx(this.db, [STORES.meta], 'readonly', (tx) => getMeta(tx, s.userId, 'lastSync'));
    const patch = { ...counts, lastSuccess: lastSuccess ?? null };
    if (s.needsSignIn) patch.state = 'auth';
    else if (this.status.state === 'auth' || this.status.state === 'signed-out') patch.state = 'idle';
    this.#set(patch);
  }

  /**
   * Sync now. Concurrent calls share one run; a call during a run asks for one more run after it,
   * so a change made mid-sync is not left waiting for the timer. With `resume` (the browser came
   * back online) that extra run happens even if the current run fails.
   * @param {{resume?: boolean}} [options]
   * @returns {Promise<void>}
   */
  sync({ resume = false } = {}) {
    if (this.running) {
      this.again = true;
      // The network came back while a run was failing: run again at once, not after the backoff.
      this.resume ||= resume;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          this.resume = false;
          const s = this.session();
          await this.lock(`beatbook-sync-${s?.userId ?? ''}`, () => this.#run());
        } while (this.again && (this.status.state === 'idle' || this.resume));
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  stop() {
    if (this.timer !== null) this.timers.clear(this.timer);
    this.timer = null;
  }

  /** @param {number} delayMs */
  #schedule(delayMs) {
    this.stop();
    this.#set({ nextRetryAt: this.now() + delayMs });
    this.timer = this.timers.set(() => {
      this.timer = null;
      void this.sync();
    }, delayMs);
  }

  async #run() {
    const s = this.session();
    if (!s) return this.refresh();
    if (s.needsSignIn) {
      this.stop();
      return this.refresh();
    }
    this.stop();
    this.#set({ state: 'syncing', nextRetryAt: null });
    try {
      await this.#push(s);
      await this.#pull(s);
      const at = new Date(this.now()).toISOString();
      await withTx(this.db, [STORES.meta], 'readwrite', (tx) => putMeta(tx, s.userId, 'lastSync', at));
      this.#set({ state: 'idle', lastError: null, failures: 0, busy: false, lastSuccess: at });
      this.#schedule(this.periodMs);
    } catch (error) {
      await this.#failed(error);
    } finally {
      await this.refresh();
    }
  }

  /** @param {unknown} error */
  async #failed(error) {
    if (error instanceof ApiError && error.needsSignIn) {
      this.stop();
      this.#set({ state: 'auth', lastError: error.message, lastCode: error.code, busy: false, nextRetryAt: null });
      await this.onAuthLost(error);
      return;
    }
    if (error instanceof ApiError && error.transient) {
      const failures = this.status.failures + 1;
      // Overloaded or down for a moment (503 `unavailable`, 429): the server says when to come
      // back (capped at an hour, so a bad header cannot park the queue for days).
      const busy = error.status === 503 || error.status === 429;
      const wait = busy && error.retryAfterS !== null
        ? Math.min(error.retryAfterS, 3600) * 1000
        : backoffMs(failures, this.random());
      const offline = error.status === 0 && !this.isOnline();
      this.#set({ state: offline ? 'offline' : 'retrying', failures, busy, lastError: error.message, lastCode: error.code });
      this.#schedule(wait);
      return;
    }
    // A 4xx the client caused: keep the queue, say so, and do not send the same body in a loop.
    const message = error instanceof Error ? error.message : String(error);
    this.#set({ state: 'error', lastError: message });
    this.#schedule(30 * 60 * 1000);
  }

  /** @param {SyncSession} s */
  async #push(s) {
    let limit = MAX_BATCH;
    let driftRetried = false;
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      // Offline nothing leaves the phone: do not mark the batch sent, so a record made and
      // deleted with no signal is forgotten with nothing sent (only sent entries are frozen).
      // Asked first, so an offline phone does not open its whole queue for nothing.
      if (!this.isOnline()) throw new ApiError(0, 'network', 'No connection.');
      const batch = await nextBatch(this.db, s.userId, limit);
      if (!batch.length) return;
      await markSent(this.db, batch);
      // `pending` is what stays queued once this batch is taken, so a sync's last batch says 0.
      const { changes: waiting } = await countPending(this.db, s.userId);
      const offset = await withTx(this.db, [STORES.meta], 'readonly', (tx) => getMeta(tx, s.userId, 'offset'));
      const sentAt = this.now();
      const body = {
        device_id: s.deviceId,
        batch_id: uuid(),
        device_now: new Date(sentAt + (offset ?? 0)).toISOString(),
        pending: Math.max(0, waiting - batch.length),
        app_version: this.appVersion,
        changes: batch.map((e) => ({ id: e.recordId, op: e.op, hlc: e.hlc, base_rev: e.baseRev, data: e.data })),
      };
      let response;
      try {
        response = await this.api.push(body);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        if (error.status === 413 && batch.length > 1) {
          limit = Math.ceil(batch.length / 2);
          continue;
        }
        if (error.status === 413) {
          // One change alone is too big: it needs the officer, like a rejection.
          const results = [{ id: batch[0].recordId, hlc: batch[0].hlc, status: 'rejected', errors: { _: [error.message] } }];
          await applyResults(this.db, s.userId, batch, { results });
          continue;
        }
        if (error.status === 422 && error.code === 'clock_drift' && !driftRetried && error.serverTime) {
          driftRetried = true;
          await this.#observe(s, { serverTime: error.serverTime, localNowMs: this.now() });
          continue;
        }
        throw error;
      }
      await this.#observe(s, { serverTime: response.server_time, serverHlc: response.server_hlc, localNowMs: this.now(), rttMs: response.rttMs });
      const { taken, rejected } = await applyResults(this.db, s.userId, batch, response);
      if (taken + rejected === 0) throw new ApiError(0, 'no_progress', 'The server answered without results.');
    }
  }

  /** @param {SyncSession} s */
  async #pull(s) {
    let since = (await withTx(this.db, [STORES.meta], 'readonly', (tx) => getMeta(tx, s.userId, 'cursor'))) ?? '';
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      const page = await this.api.pull(since, PULL_LIMIT);
      await withTx(this.db, [STORES.records, STORES.outbox, STORES.meta], 'readwrite', async (tx) => {
        for (const change of page.changes ?? []) await applyPulled(tx, s.userId, change);
        if (page.cursor) await putMeta(tx, s.userId, 'cursor', page.cursor);
        // The last page carries the officer's alerts; a page without them keeps the old list.
        await keepAlerts(tx, s.userId, page, new Date(this.now()).toISOString());
      });
      since = page.cursor ?? since;
      if (!page.more) return;
    }
  }

  /** @param {SyncSession} s @param {Parameters<typeof observeServer>[3]} seen */
  #observe(s, seen) {
    return withTx(this.db, [STORES.meta], 'readwrite', (tx) => observeServer(tx, s.userId, s.deviceId, seen));
  }
}
