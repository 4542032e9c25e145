// Hybrid logical clock: the twin of sync/hlc.py. String order is clock order, so stamps
// compare as plain strings: `<millis 15 digits>-<counter 5 digits>-<node>`.

const MILLIS_DIGITS = 15;
const COUNTER_DIGITS = 5;
export const MAX_COUNTER = 99999;
const MAX_MILLIS = 10 ** MILLIS_DIGITS - 1;
const PATTERN = /^([0-9]{15})-([0-9]{5})-([a-z0-9]{1,64})$/;
const NODE = /^[a-z0-9]{1,64}$/;

export class HLCFormatError extends Error {
  name = 'HLCFormatError';
}
export class CounterOverflowError extends Error {
  name = 'CounterOverflowError';
}
export class ClockDriftError extends Error {
  name = 'ClockDriftError';
}
export class DuplicateNodeError extends Error {
  name = 'DuplicateNodeError';
}

/** An immutable stamp (millis, counter, node). */
export class HLC {
  /**
   * @param {number} millis milliseconds since the epoch
   * @param {number} counter logical counter, 0..99999
   * @param {string} node device id (32 lowercase hex) or "server": 1..64 of [a-z0-9]
   */
  constructor(millis, counter, node) {
    if (!Number.isInteger(millis) || millis < 0 || millis > MAX_MILLIS) {
      throw new HLCFormatError(`millis out of range: ${millis}`);
    }
    if (!Number.isInteger(counter) || counter < 0 || counter > MAX_COUNTER) {
      throw new HLCFormatError(`counter out of range: ${counter}`);
    }
    if (typeof node !== 'string' || !NODE.test(node)) {
      throw new HLCFormatError(`bad node: ${node}`);
    }
    this.millis = millis;
    this.counter = counter;
    this.node = node;
    Object.freeze(this);
  }

  /** @param {string} text */
  static parse(text) {
    const m = typeof text === 'string' ? PATTERN.exec(text) : null;
    if (!m) throw new HLCFormatError(`not an HLC stamp: ${JSON.stringify(text)}`);
    return new HLC(Number(m[1]), Number(m[2]), m[3]);
  }

  /** The zero clock of a node: what a device starts from. */
  static zero(node) {
    return new HLC(0, 0, node);
  }

  toString() {
    return `${String(this.millis).padStart(MILLIS_DIGITS, '0')}-${String(this.counter).padStart(COUNTER_DIGITS, '0')}-${this.node}`;
  }

  /** @param {HLC} other @returns {-1|0|1} */
  compare(other) {
    const a = this.toString();
    const b = other.toString();
    return a < b ? -1 : a > b ? 1 : 0;
  }

  /**
   * The next local stamp.
   * @param {number} nowMs the (offset-corrected) wall clock
   */
  send(nowMs) {
    const now = Math.floor(nowMs);
    if (now > this.millis) return new HLC(now, 0, this.node);
    return this.#bump(this.millis, this.counter + 1);
  }

  /**
   * Merge a remote stamp into this clock.
   * @param {HLC} remote
   * @param {number} nowMs
   * @param {number} maxDriftMs refuse remote stamps further than this ahead of now
   */
  receive(remote, nowMs, maxDriftMs) {
    const now = Math.floor(nowMs);
    if (remote.node === this.node) {
      throw new DuplicateNodeError(`remote stamp has our node ${this.node}`);
    }
    if (remote.millis - now > maxDriftMs) {
      throw new ClockDriftError(`remote clock ${remote.millis - now} ms ahead`);
    }
    const millis = Math.max(this.millis, remote.millis, now);
    let counter;
    if (millis === this.millis && millis === remote.millis) {
      counter = Math.max(this.counter, remote.counter) + 1;
    } else if (millis === this.millis) {
      counter = this.counter + 1;
    } else if (millis === remote.millis) {
      counter = remote.counter + 1;
    } else {
      counter = 0;
    }
    return this.#bump(millis, counter);
  }

  #bump(millis, counter) {
    if (counter > MAX_COUNTER) throw new CounterOverflowError(`counter past ${MAX_COUNTER}`);
    return new HLC(millis, counter, this.node);
  }
}

/**
 * The stamp the server merges with: shifted back by the device's skew, never past the server's now.
 * @param {HLC} stamp
 * @param {number} skewMs device_now - server_now
 * @param {number} nowMs server now
 */
export function correct(stamp, skewMs, nowMs) {
  const millis = Math.max(0, Math.min(stamp.millis - skewMs, Math.floor(nowMs)));
  return new HLC(millis, stamp.counter, stamp.node);
}
