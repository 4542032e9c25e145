// Human names for record fields and values, shared by the log and the form.

export const FIELD_LABELS = {
  occurred_at: 'When',
  kind: 'Kind',
  standards: 'Standards evidenced',
  place: 'Place',
  location: 'Location',
  duration_minutes: 'Duration (minutes)',
  people_count: 'People',
  groups: 'Groups reached',
  summary: 'Summary',
  follow_up: 'Follow-up',
  publicised_at: 'Publicised on',
  contact_role: "Contact's role",
  contact_org: 'Organisation',
  public: 'Share on public page',
  pii_confirmed: 'Kept despite a personal data warning',
  concerns: 'Concerns raised',
  priority_id: 'For local priority',
  title: 'Priority (as the public reads it)',
  priority_status: 'Priority status',
  closed_reason: 'Why closed without action',
  closed_on: 'Ended on',
  review_by: 'Review by',
  owner_id: 'Owner',
  meeting_id: 'Set at meeting',
  concern_record_ids: 'Records whose concerns are behind it',
  schema_version: 'App version',
  _deleted: 'Deleted',
  _: 'Record',
};

/** @param {string} field */
export function fieldLabel(field) {
  return FIELD_LABELS[field] ?? field.replace(/_/g, ' ');
}

/**
 * A value as an officer reads it.
 * @param {string} field
 * @param {any} value
 * @param {import('../schema.js').Schema|null} schema
 */
export function formatValue(field, value, schema) {
  if (value === null || value === undefined || value === '') return '(empty)';
  if (field === '_deleted') return value ? 'deleted' : 'kept, with edits';
  if (field === 'kind') return schema?.kinds.find((k) => k.code === value)?.title ?? value;
  if (field === 'groups' && Array.isArray(value)) {
    return value.map((c) => schema?.groups.find((g) => g.code === c)?.title ?? c).join(', ') || '(none)';
  }
  if (Array.isArray(value)) return value.join(', ') || '(none)';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (field === 'location' && typeof value === 'object') {
    return `${Number(value.lat).toFixed(5)}, ${Number(value.lon).toFixed(5)}${value.accuracy_m ? ` (±${Math.round(value.accuracy_m)} m)` : ''}`;
  }
  if ((field === 'occurred_at' || field === 'publicised_at') && typeof value === 'string') {
    const d = new Date(value);
    if (!Number.isNaN(d.getTime())) {
      return new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' }).format(d);
    }
  }
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
