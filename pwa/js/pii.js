// Free text that looks like it holds a member of the public's personal data: the same small
// pattern rules as the server's schema/pii.py (tests/vectors/pii.json holds both to one set of
// cases). A flag is a warning before saving, not a verdict: the officer edits or confirms.

export const FIELDS = Object.freeze(['summary', 'place', 'follow_up', 'title', 'closed_reason']);

/** What each flag is, as the warning says it. */
export const FLAG_WORDS = Object.freeze({
  dob: 'a date of birth',
  email: 'an email address',
  name: 'a name',
  ni_number: 'a National Insurance number',
  phone: 'a phone number',
  vehicle_reg: 'a vehicle registration',
});

const MONTH = '(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*';
const NUMERIC_DATE = '\\d{1,2}[/.-]\\d{1,2}[/.-](?:\\d{4}|\\d{2})';
const DATE = `(?:${NUMERIC_DATE}|\\d{1,2}(?:st|nd|rd|th)? ${MONTH},? \\d{4})`;

/** [flag, pattern, case-insensitive], in schema/pii.py's order and words. */
const RULES = [
  ['phone', String.raw`(?<![\w+])(?:(?:\+|00)44 ?(?:\(0\) ?)?|\(?0)[1237](?:[ -]?\)?[ -]?\d){8,9}(?!\d)`, false],
  ['email', String.raw`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`, false],
  ['dob', String.raw`\b(?:d\.?o\.?b\b\.?|date of birth|born(?: on)?)[ :.-]*` + DATE, true],
  ['dob', String.raw`(?<!\d)\d{1,2}[/.-]\d{1,2}[/.-]19\d{2}(?!\d)`, false],
  ['vehicle_reg', String.raw`(?<![A-Za-z0-9])[A-Za-z]{2}\d{2} ?[A-Za-z]{3}(?![A-Za-z0-9])`, false],
  ['vehicle_reg', String.raw`(?<![A-Za-z0-9])[A-Z]\d{1,3} ?[A-Z]{3}(?![A-Za-z0-9])`, false],
  ['vehicle_reg', String.raw`(?<![A-Za-z0-9])[A-Z]{3} ?\d{1,3}[A-Z](?![A-Za-z0-9])`, false],
  ['ni_number', String.raw`(?<![A-Za-z0-9])(?!bg|gb|kn|nk|nt|tn|zz)[a-ceghj-prstw-z][a-ceghj-nprstw-z] ?\d{2} ?\d{2} ?\d{2} ?[a-d](?![A-Za-z0-9])`, true],
  ['name', String.raw`\b(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.? [A-Z][A-Za-z'-]+`, false],
  ['name', String.raw`\b(?:called|named|name is|known as|aka) [A-Z][a-z'-]+`, false],
  ['name', String.raw`\b[A-Z][a-z'-]+ [A-Z][a-z'-]+,? (?:\(\d{1,3}\)|\(?aged? \d{1,3}\)?)`, false],
].map(([flag, pattern, i]) => [flag, new RegExp(pattern, i ? 'i' : '')]);

/** The flags `text` raises, sorted, each once. @param {string} text @returns {string[]} */
export function detect(text) {
  if (!text) return [];
  const found = new Set();
  for (const [flag, re] of RULES) if (re.test(text)) found.add(flag);
  return [...found].sort();
}

/**
 * Per free-text field of a record, the flags it raises (fields raising none left out).
 * @param {Object<string, any>} fields
 * @returns {Object<string, string[]>}
 */
export function detectRecord(fields) {
  const out = {};
  for (const name of FIELDS) {
    const flags = typeof fields[name] === 'string' ? detect(fields[name]) : [];
    if (flags.length) out[name] = flags;
  }
  // Each concern's phrase is free text too (as schema/pii.py reads it).
  if (Array.isArray(fields.concerns)) {
    const flags = new Set(fields.concerns.flatMap((c) => (typeof c?.phrase === 'string' ? detect(c.phrase) : [])));
    if (flags.size) out.concerns = [...flags].sort();
  }
  return out;
}

/** "a phone number and a name" @param {string[]} flags */
export function describe(flags) {
  const words = flags.map((f) => FLAG_WORDS[f] ?? f);
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}
