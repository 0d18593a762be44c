import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, POLICY_ALGORITHMS, POLICY_SCHEMA, effectivePolicy, formatPolicyError, leaves } from '../../../src/core/policy/index.js';
import {
  checkUserDocument,
  controlFor,
  fieldOfError,
  keptUserValues,
  parseFormValue,
  sameValue,
  settingsForm,
  toFormValue,
  userDocument,
  type FormValue,
  type SettingField,
} from '../../../src/pages/status/settings-form.js';

/** The controls as the page would read them back unchanged. */
function untouched(fields: readonly SettingField[]): Map<string, FormValue> {
  return new Map(fields.filter((f) => f.editable).map((f) => [f.path, toFormValue(f.control, f.value)]));
}

const field = (fields: readonly SettingField[], path: string) => fields.find((f) => f.path === path)!;

describe('status page edit form model', () => {
  it('has one field per setting in definition order, editable exactly when userSettable and not locked', () => {
    const fields = settingsForm(DEFAULT_POLICY);
    const all = leaves(POLICY_SCHEMA);
    expect(fields.map((f) => f.path)).toEqual(all.map((l) => l.path));
    for (const { path, schema } of all) expect(field(fields, path).editable, path).toBe(schema.userSettable === true);
    // Spot checks of the schema's own flags (admin-only settings are never editable here).
    expect(field(fields, 'scanner.required').editable).toBe(true);
    expect(field(fields, 'keys.importAllowed').editable).toBe(false);
    expect(field(fields, 'algorithms.forbidden').editable).toBe(false);
  });

  it('picks the control from the schema type and its limits', () => {
    const fields = settingsForm(DEFAULT_POLICY);
    expect(field(fields, 'scanner.required').control).toEqual({ kind: 'checkbox' });
    expect(field(fields, 'onInfected.action').control).toEqual({ kind: 'select', options: ['block', 'quarantine', 'tag'] });
    expect(field(fields, 'scan.timeLimitSeconds').control).toEqual({ kind: 'number', min: 5, max: 3600 });
    expect(field(fields, 'onInfected.tag').control).toEqual({ kind: 'text', minLength: 1, maxLength: 60 });
    expect(field(fields, 'algorithms.warn').control).toEqual({ kind: 'checkbox-set', options: POLICY_ALGORITHMS, maxItems: POLICY_ALGORITHMS.length });
    expect(controlFor({ type: 'list', items: { type: 'string', minLength: 1, maxLength: 9 }, maxItems: 3, unique: true, default: [], description: 'x', userSettable: true })).toEqual({ kind: 'lines', maxItems: 3, maxLength: 9 });
  });

  it('an admin-set setting is locked and not editable; its value and source come from the policy', () => {
    const p = effectivePolicy({ managed: { scanner: { required: true } }, user: { scanner: { required: false }, scan: { timeLimitSeconds: 60 } } });
    const fields = settingsForm(p);
    expect(field(fields, 'scanner.required')).toMatchObject({ editable: false, locked: true, source: 'managed', value: true, userSettable: true });
    expect(field(fields, 'scan.timeLimitSeconds')).toMatchObject({ editable: true, locked: false, source: 'user', value: 60 });
    // An invalid admin value locks the safe default too.
    expect(field(settingsForm(effectivePolicy({ managed: { scanner: { required: 'no' } } })), 'scanner.required')).toMatchObject({ editable: false, locked: true, source: 'default' });
  });

  it('controls start from the effective value and read back as the same value', () => {
    const p = effectivePolicy({ user: { algorithms: { warn: ['DES', 'RC2-40'] }, scan: { timeLimitSeconds: 42 } } });
    for (const f of settingsForm(p)) expect(sameValue(parseFormValue(f.control, toFormValue(f.control, f.value)), f.value), f.path).toBe(true);
    const warn = field(settingsForm(p), 'algorithms.warn');
    // Checkbox sets follow the schema's order.
    expect(toFormValue(warn.control, warn.value)).toEqual(['RC2-40', 'DES']);
  });

  it('parses what a control holds without correcting it (the validator names what does not fit)', () => {
    const num = { kind: 'number', min: 5, max: 3600 } as const;
    expect(parseFormValue(num, '60')).toBe(60);
    expect(parseFormValue(num, ' 60 ')).toBe(60);
    expect(parseFormValue(num, '12.5')).toBe(12.5);
    expect(parseFormValue(num, 'abc')).toBe('abc');
    expect(parseFormValue(num, '')).toBe('');
    expect(parseFormValue({ kind: 'checkbox' }, false)).toBe(false);
    expect(parseFormValue({ kind: 'text', minLength: 0, maxLength: 9 }, ' a b ')).toBe(' a b ');
    expect(parseFormValue({ kind: 'checkbox-set', options: ['A', 'B', 'C'], maxItems: 3 }, ['C', 'A'])).toEqual(['A', 'C']);
    expect(parseFormValue({ kind: 'lines', maxItems: 3, maxLength: 9 }, ' one \r\n\ntwo\n')).toEqual(['one', 'two']);
  });
});

describe('form values to the user document', () => {
  it('nothing edited and nothing stored: an empty document', () => {
    const fields = settingsForm(DEFAULT_POLICY);
    expect(userDocument(fields, untouched(fields), undefined)).toEqual({});
  });

  it('an edited value is stored; untouched settings are not added', () => {
    const fields = settingsForm(DEFAULT_POLICY);
    const values = untouched(fields);
    values.set('scanner.required', false);
    values.set('scan.timeLimitSeconds', '30');
    values.set('algorithms.warn', ['DES']);
    const doc = userDocument(fields, values, undefined);
    expect(doc).toEqual({ scanner: { required: false }, scan: { timeLimitSeconds: 30 }, algorithms: { warn: ['DES'] } });
    expect(checkUserDocument(doc)).toEqual([]);
    const p = effectivePolicy({ user: doc });
    expect(p.scanner.required).toBe(false);
    expect(p.origin['scanner.required']).toEqual({ source: 'user', locked: false, userMayChange: true });
  });

  it('keeps the stored values not edited, removes one set back to the default', () => {
    const stored = { scanner: { required: false }, onInfected: { action: 'tag', tag: 'Bad' } };
    const fields = settingsForm(effectivePolicy({ user: stored }));
    const values = untouched(fields);
    values.set('scanner.required', true); // the default again
    expect(userDocument(fields, values, stored)).toEqual({ onInfected: { action: 'tag', tag: 'Bad' } });
    values.set('onInfected.action', 'block');
    values.set('onInfected.tag', 'Infected (Unseal)');
    expect(userDocument(fields, values, stored)).toEqual({});
  });

  it('keeps a stored value the admin currently locks (it applies again without the policy), but it does not apply now', () => {
    const stored = { scanner: { required: false } };
    const locked = effectivePolicy({ managed: { scanner: { required: true } }, user: stored });
    const fields = settingsForm(locked);
    const values = untouched(fields);
    values.set('scanner.required', true); // ignored: not editable
    values.set('rescan.everyHours', '24');
    const doc = userDocument(fields, values, stored);
    expect(doc).toEqual({ scanner: { required: false }, rescan: { everyHours: 24 } });
    const after = effectivePolicy({ managed: { scanner: { required: true } }, user: doc });
    expect(after.scanner.required).toBe(true);
    expect(after.origin['scanner.required'].source).toBe('managed');
  });

  it('drops stored entries that are invalid or admin-only instead of carrying them into every save', () => {
    const stored = { scanner: { required: 'no' }, keys: { exportAllowed: false }, colour: 'red', scan: { timeLimitSeconds: 90 } };
    expect(keptUserValues(stored)).toEqual({ scan: { timeLimitSeconds: 90 } });
    const fields = settingsForm(effectivePolicy({ user: stored }));
    expect(userDocument(fields, untouched(fields), stored)).toEqual({ scan: { timeLimitSeconds: 90 } });
  });

  it('an invalid value is reported by the core validator with path, expected and got, and mapped to its field', () => {
    const fields = settingsForm(DEFAULT_POLICY);
    const values = untouched(fields);
    values.set('scan.timeLimitSeconds', '2');
    values.set('message.maxSizeMB', 'abc');
    values.set('onInfected.quarantineFolder', 'a/b');
    values.set('onInfected.action', 'delete');
    const doc = userDocument(fields, values, undefined);
    const lines = checkUserDocument(doc).map(formatPolicyError);
    expect(lines).toContain('$.scan.timeLimitSeconds: expected an integer from 5 to 3600, got 2');
    expect(lines).toContain('$.message.maxSizeMB: expected an integer from 1 to 2048, got "abc"');
    expect(lines).toContain('$.onInfected.action: expected one of "block", "quarantine", "tag", got "delete"');
    expect(lines.some((l) => l.startsWith('$.onInfected.quarantineFolder: expected a string of 1–100 characters matching'))).toBe(true);
    expect(fieldOfError(fields, '$.scan.timeLimitSeconds')).toBe('scan.timeLimitSeconds');
    expect(fieldOfError(fields, '$.algorithms.warn[2]')).toBe('algorithms.warn');
    expect(fieldOfError(fields, '$.colour')).toBeUndefined();
  });

  it('the core also refuses admin-only settings in a user document', () => {
    expect(checkUserDocument({ keys: { importAllowed: false } }).map(formatPolicyError)).toEqual([
      '$.keys.importAllowed: expected a setting users may change (only an administrator can set this one), got a user setting',
    ]);
  });
});
