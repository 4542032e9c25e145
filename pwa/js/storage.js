// Will the phone keep our data? Persistent storage, usage, and nudges for officers.

const DAY = 24 * 60 * 60 * 1000;

/**
 * @typedef {{persisted: boolean|null, usage: number|null, quota: number|null}} StorageState
 */

/** @returns {Promise<StorageState>} */
export async function storageState() {
  const s = globalThis.navigator?.storage;
  const persisted = s?.persisted ? await s.persisted().catch(() => null) : null;
  const est = s?.estimate ? await s.estimate().catch(() => null) : null;
  return { persisted, usage: est?.usage ?? null, quota: est?.quota ?? null };
}

/** Ask the browser to keep our data under storage pressure. @returns {Promise<boolean|null>} */
export async function askPersist() {
  const s = globalThis.navigator?.storage;
  if (!s?.persist) return null;
  return s.persist().catch(() => false);
}

/**
 * What to tell the officer about keeping their data.
 * @param {{persisted: boolean|null, usage: number|null, quota: number|null, lastSync: string|null,
 *          waiting: number, nowMs: number, standalone: boolean}} s
 * @returns {Array<{level: 'warn'|'info', text: string}>}
 */
export function storageAdvice(s) {
  const out = [];
  if (s.usage !== null && s.quota) {
    const share = s.usage / s.quota;
    if (share >= 0.8) out.push({ level: 'warn', text: `This phone's storage for Beatbook is ${Math.round(share * 100)}% full. Sync now and free some space.` });
  }
  const since = s.lastSync ? s.nowMs - Date.parse(s.lastSync) : null;
  if (s.waiting > 0 && (since === null || since > 2 * DAY)) {
    const days = since === null ? null : Math.floor(since / DAY);
    out.push({
      level: 'warn',
      text: `${s.waiting} ${s.waiting === 1 ? 'change has' : 'changes have'} not synced${days ? ` for ${days} days` : ' yet'}. Connect to sync them soon.`,
    });
  }
  if (s.persisted === false && !s.standalone) {
    out.push({ level: 'info', text: 'Add Beatbook to your home screen: some browsers (Safari) erase data of sites not opened for 7 days.' });
  }
  return out;
}

/** @param {number|null} bytes */
export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return 'unknown';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(0)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
}
