// WebCrypto, wrapped for the phone's encrypted queue: one random AES-GCM data key per officer,
// wrapped by a key derived from their PIN (PBKDF2-SHA-256, random per-device salt) and by a key
// the server hands this phone's sign-in. Rows are sealed as JSON under the data key, bound to
// where they are stored (the AAD), so a row moved to another key or store does not open.

const subtle = () => globalThis.crypto.subtle;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** OWASP's 2023 figure for PBKDF2-HMAC-SHA-256; tests pass a smaller one. */
export const PIN_ITERATIONS = 600_000;

/** The PIN, a key wrapping, or a row did not open: wrong key, or the bytes were changed. */
export class CryptoFailure extends Error {
  constructor(message = 'Could not decrypt.') {
    super(message);
    this.name = 'CryptoFailure';
  }
}

/** @param {number} n */
export function randomBytes(n) {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

/** A fresh data key. Extractable, only so it can be wrapped (never stored unwrapped). */
export function newDataKey() {
  return subtle().generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
}

/**
 * The key a PIN unlocks: PBKDF2-SHA-256 over the PIN with this phone's salt.
 * @param {string} pin
 * @param {Uint8Array} salt
 * @param {number} iterations
 */
export async function pinKey(pin, salt, iterations) {
  const base = await subtle().importKey('raw', enc.encode(pin.normalize('NFC')), 'PBKDF2', false, ['deriveKey']);
  return subtle().deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, base,
    { name: 'AES-GCM', length: 256 }, false, ['wrapKey', 'unwrapKey']);
}

/** The server's key for this phone (32 bytes, base64url) as a wrapping key. @param {string} b64 */
export function serverKey(b64) {
  const raw = fromBase64Url(b64);
  if (raw.length !== 32) throw new CryptoFailure('The server key is not 32 bytes.');
  return subtle().importKey('raw', raw, { name: 'AES-GCM' }, false, ['wrapKey', 'unwrapKey']);
}

/**
 * @typedef {{iv: Uint8Array, ct: ArrayBuffer}} Sealed
 */

/** @param {CryptoKey} dataKey @param {CryptoKey} wrapping @returns {Promise<Sealed>} */
export async function wrapDataKey(dataKey, wrapping) {
  const iv = randomBytes(12);
  const ct = await subtle().wrapKey('raw', dataKey, wrapping, { name: 'AES-GCM', iv });
  return { iv, ct };
}

/** @param {Sealed} wrapped @param {CryptoKey} wrapping @returns {Promise<CryptoKey>} */
export async function unwrapDataKey(wrapped, wrapping) {
  try {
    return await subtle().unwrapKey('raw', wrapped.ct, wrapping, { name: 'AES-GCM', iv: wrapped.iv },
      { name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
  } catch {
    throw new CryptoFailure('Wrong key.');
  }
}

/** @param {CryptoKey} key @param {any} value @param {string} aad @returns {Promise<Sealed>} */
export async function sealJson(key, value, aad) {
  const iv = randomBytes(12);
  const ct = await subtle().encrypt({ name: 'AES-GCM', iv, additionalData: enc.encode(aad) }, key,
    enc.encode(JSON.stringify(value)));
  return { iv, ct };
}

/** @param {CryptoKey} key @param {Sealed} sealed @param {string} aad */
export async function openJson(key, sealed, aad) {
  let plain;
  try {
    plain = await subtle().decrypt({ name: 'AES-GCM', iv: sealed.iv, additionalData: enc.encode(aad) }, key, sealed.ct);
  } catch {
    throw new CryptoFailure();
  }
  return JSON.parse(dec.decode(plain));
}

/** The raw bytes of a data key, for the idle grace in sessionStorage. @param {CryptoKey} key */
export async function exportKey(key) {
  return toBase64Url(new Uint8Array(await subtle().exportKey('raw', key)));
}

/** @param {string} b64 */
export function importDataKey(b64) {
  return subtle().importKey('raw', fromBase64Url(b64), { name: 'AES-GCM' }, true, ['encrypt', 'decrypt']);
}

/** @param {Uint8Array} bytes */
export function toBase64Url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** @param {string} text */
export function fromBase64Url(text) {
  const s = atob(String(text).replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}
