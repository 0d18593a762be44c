import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, algorithmToken, effectivePolicy, extractPolicy, formatPolicyError, validate, POLICY_SCHEMA, type EffectivePolicy } from '../../../src/core/policy/index.js';

describe('policy validation', () => {
  it('defaults are the safe choices', () => {
    expect(DEFAULT_POLICY.scanner.required).toBe(true);
    expect(DEFAULT_POLICY.onInfected.action).toBe('block');
    expect(DEFAULT_POLICY.decryptedCopies.mode).toBe('never');
    expect(DEFAULT_POLICY.errors).toEqual([]);
    expect(DEFAULT_POLICY.origin['scanner.required']).toEqual({ source: 'default', locked: false, userMayChange: true });
    // The key-lifecycle code reads these names.
    const k: EffectivePolicy['keys'] = DEFAULT_POLICY.keys;
    expect(Object.keys(k).sort()).toEqual(['exportAllowed', 'idleLockMinutes', 'importAllowed', 'managedSource', 'passphraseRequired', 'retainRetiredKeys']);
  });

  it('reports path, expected and got; unknown keys are errors', () => {
    const r = validate(POLICY_SCHEMA, { onInfected: { action: 'delete' }, scan: { timeLimitSeconds: '60' }, bogus: 1, algorithms: { forbidden: ['DES', 'ROT13'] } });
    const lines = r.errors.map(formatPolicyError);
    expect(lines).toContain('$.onInfected.action: expected one of "block", "quarantine", "tag", got "delete"');
    expect(lines).toContain('$.scan.timeLimitSeconds: expected an integer from 5 to 3600, got "60"');
    expect(lines.some((l) => l.startsWith('$.bogus: expected one of the known settings'))).toBe(true);
    expect(lines.some((l) => l.startsWith('$.algorithms.forbidden[1]: expected one of "RC2-40"'))).toBe(true);
    expect(r.invalid.has('algorithms.forbidden')).toBe(true);
  });

  it('merge: defaults < user < managed; a bad admin value locks the safe default and is shown', () => {
    const p = effectivePolicy({
      managed: { scanner: { required: 'no' }, onInfected: { action: 'quarantine', quarantineFolder: 'Q' } },
      user: { scanner: { required: false }, onInfected: { action: 'tag' }, scan: { timeLimitSeconds: 30 }, keys: { exportAllowed: false } },
    });
    expect(p.scanner.required).toBe(true);
    expect(p.origin['scanner.required']).toEqual({ source: 'default', locked: true, userMayChange: false, invalidFrom: 'managed' });
    expect(p.onInfected.action).toBe('quarantine');
    expect(p.origin['onInfected.action'].locked).toBe(true);
    expect(p.scan.timeLimitSeconds).toBe(30);
    expect(p.origin['scan.timeLimitSeconds'].source).toBe('user');
    // Admin-only settings are not taken from user settings.
    expect(p.keys.exportAllowed).toBe(true);
    expect(p.errors.map((e) => `${e.source} ${e.path}`)).toEqual(['managed $.scanner.required', 'user $.keys.exportAllowed']);
  });

  it('a non-object policy is one error and everything falls back', () => {
    const p = effectivePolicy({ managed: 'yes' });
    expect(p.errors).toEqual([{ source: 'managed', path: '$', expected: 'an object', got: '"yes"' }]);
    expect(p.scanner.required).toBe(true);
  });

  it('registry booleans (REG_DWORD 0/1) are accepted', () => {
    expect(effectivePolicy({ managed: { scanner: { required: 0 } } }).scanner.required).toBe(false);
  });

  it('policies.json and bare forms', () => {
    const full = extractPolicy({ policies: { '3rdparty': { Extensions: { 'unseal@unseal.example': { scanner: { required: true } } } }, Preferences: { 'mailnews.p7m_external': { Value: true, Status: 'locked' } } } });
    expect(full.form).toBe('policies.json');
    expect(full.p7mExternalLocked).toBe(true);
    expect(full.settings).toEqual({ scanner: { required: true } });
    expect(extractPolicy({ policies: {} }).errors).toHaveLength(1);
    expect(extractPolicy({ scanner: {} }).form).toBe('settings');
  });

  it('algorithm names map to policy tokens', () => {
    expect(algorithmToken('RC2-40-CBC')).toBe('RC2-40');
    expect(algorithmToken('3DES-CBC')).toBe('3DES');
    expect(algorithmToken('DES-CBC')).toBe('DES');
    expect(algorithmToken('AES-256-GCM')).toBe('AES-256-GCM');
  });

  it('docs/examples/policies.json is valid', () => {
    const ex = extractPolicy(JSON.parse(readFileSync('docs/examples/policies.json', 'utf8')));
    expect(ex.errors).toEqual([]);
    expect(validate(POLICY_SCHEMA, ex.settings).errors).toEqual([]);
    expect(ex.p7mExternalLocked).toBe(true);
  });
});
