// What the app must ask before it shows an officer's records: nothing (the key is open), their
// PIN, a new PIN (first sign-in, after a lock-out, or data from before 1.3.0), or a password
// sign-in (too many wrong PINs). And what to do once the key is open.

import { hasKey, keyFor } from './sealed.js';
import { readVault, createVault, recall, unlockWithServer, installId, serverCopyStale, MAX_PIN_TRIES } from './keyring.js';
import { openSession } from './session.js';

/**
 * @param {IDBDatabase} db
 * @param {import('./session.js').Session} session
 * @returns {Promise<'open'|'unlock'|'choose'|'signin'|'upgrade'>}
 */
export async function lockState(db, session) {
  const vault = await readVault(db, session.userId);
  if (!hasKey(session.userId)) await recall(session.userId);
  if (hasKey(session.userId)) return vault?.pin ? 'open' : 'choose';
  if (!vault) return 'upgrade'; // signed in before 1.3.0: the queue is still in clear
  if (vault.pin && vault.failures < MAX_PIN_TRIES) return 'unlock';
  return 'signin';
}

/**
 * An officer signed in before 1.3.0 protects their queue: a new key under their PIN, then what
 * is in clear is sealed under it.
 * @param {IDBDatabase} db @param {string} userId @param {string} pin
 */
export function protectOldQueue(db, userId, pin) {
  return createVault(db, userId, { pin });
}

/**
 * The key is open: the token unsealed, and the server's copy of the key made if it is missing or
 * a day old and the server answers (best effort; the next unlock tries again). Kept fresh, so a
 * changed server secret cannot leave a lock-out with no way back in.
 * @param {IDBDatabase} db
 * @param {ReturnType<import('./api.js').createApi>} api
 * @param {import('./session.js').Session} session
 */
export async function afterUnlock(db, api, session) {
  const opened = await openSession(db, session);
  const vault = await readVault(db, session.userId);
  if (vault && serverCopyStale(vault) && opened.token && !opened.needsSignIn && globalThis.navigator?.onLine !== false) {
    try {
      const { key } = await api.queueKey(await installId(db), opened.token);
      await unlockWithServer(db, session.userId, key, keyFor(session.userId));
    } catch {
      // offline or an older server: the PIN still opens the queue
    }
  }
  return opened;
}
