import { describe, expect, it } from 'vitest';
import { isProtocolError, parseRequest, parseResponse } from '../../../src/protocol/native.js';

/** keys.list / keys.unwrap: both directions refuse anything beyond the documented shape. */
const KID = 'ab'.repeat(32);
const RI = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]).toString('base64');

describe('managed-key requests', () => {
  it('accepts keys.list and keys.unwrap (KTRI with CEK lengths, KARI with an index)', () => {
    for (const r of [
      { id: 'k1', type: 'keys.list' },
      { id: 'k2', type: 'keys.unwrap', keyId: KID, recipientInfo: RI, cekLengths: [32] },
      { id: 'k3', type: 'keys.unwrap', keyId: KID, recipientInfo: RI, rekIndex: 2 },
      { id: 'k4', type: 'keys.unwrap', keyId: KID, recipientInfo: RI },
    ]) {
      expect(parseRequest(r)).toEqual(r);
    }
  });

  it.each([
    [{ id: 'r', type: 'keys.list', dir: '/etc' }, "keys.list: unexpected field 'dir'"],
    [{ id: 'r', type: 'keys.unwrap', keyId: 'AB'.repeat(32), recipientInfo: RI }, 'keyId has an invalid format'],
    [{ id: 'r', type: 'keys.unwrap', keyId: KID, recipientInfo: 'not base64!' }, 'recipientInfo must be padded standard base64'],
    [{ id: 'r', type: 'keys.unwrap', keyId: KID, recipientInfo: 'A'.repeat(70_000) }, 'recipientInfo is longer than 65536 characters'],
    [{ id: 'r', type: 'keys.unwrap', keyId: KID, recipientInfo: RI, cekLengths: [] }, 'cekLengths must be an array of 1 to 4 lengths'],
    [{ id: 'r', type: 'keys.unwrap', keyId: KID, recipientInfo: RI, cekLengths: [65] }, 'cekLengths[0] must be an integer between 1 and 64'],
    [{ id: 'r', type: 'keys.unwrap', keyId: KID, recipientInfo: RI, cekLengths: ['16'] }, 'cekLengths[0] must be an integer between 1 and 64'],
    [{ id: 'r', type: 'keys.unwrap', keyId: KID, recipientInfo: RI, rekIndex: -1 }, 'rekIndex must be between 0 and 1023'],
    [{ id: 'r', type: 'keys.unwrap', keyId: KID, recipientInfo: RI, rekIndex: 0, cekLengths: [16] }, 'rekIndex (key agreement) and cekLengths (key transport) exclude each other'],
    [{ id: 'r', type: 'keys.unwrap', keyId: KID, recipientInfo: RI, privateKey: 'x' }, "keys.unwrap: unexpected field 'privateKey'"],
  ])('rejects %j', (input, message) => {
    const e = parseRequest(input);
    expect(isProtocolError(e)).toBe(true);
    expect(e).toMatchObject({ kind: 'bad_request', message, id: 'r' });
  });
});

describe('managed-key replies', () => {
  const key = { id: KID, label: 'Shared mailbox 2019', certificate: 'MIIB' };
  it('accepts keys.managed, keys.cek and keys.unwrap_failed', () => {
    for (const r of [
      { id: 'a', type: 'keys.managed', keys: [key], problems: ['old.p12: wrong password in the passwords file'] },
      { id: 'b', type: 'keys.managed', keys: [], problems: [] },
      { id: 'c', type: 'keys.cek', cek: Buffer.alloc(32, 7).toString('base64') },
      { id: 'd', type: 'keys.unwrap_failed', error: { kind: 'no_matching_recipient', message: 'not addressed to this key' } },
    ]) {
      expect(parseResponse(r)).toEqual(r);
    }
  });

  it.each([
    [{ id: 'a', type: 'keys.managed', keys: [{ ...key, privateKey: 'MIIE' }], problems: [] }, "key: unexpected field 'privateKey'"],
    [{ id: 'a', type: 'keys.managed', keys: [{ ...key, label: '-----BEGIN PRIVATE KEY-----' }], problems: [] }, 'label looks like key material'],
    [{ id: 'a', type: 'keys.managed', keys: Array(51).fill(key), problems: [] }, 'keys must be an array of at most 50'],
    [{ id: 'a', type: 'keys.managed', keys: [{ ...key, certificate: 'A'.repeat(16_004) }], problems: [] }, 'certificate is longer than 16000 characters'],
    [{ id: 'a', type: 'keys.managed', keys: [] }, 'problems must be an array'],
    [{ id: 'c', type: 'keys.cek', cek: Buffer.alloc(65).toString('base64') }, 'cek must be 1 to 64 bytes of padded standard base64'],
    [{ id: 'c', type: 'keys.cek', cek: Buffer.alloc(70).toString('base64') }, 'cek is longer than 88 characters'],
    [{ id: 'c', type: 'keys.cek', cek: 'AAA=AAA=' }, 'cek must be 1 to 64 bytes of padded standard base64'],
    [{ id: 'd', type: 'keys.unwrap_failed', error: { kind: 'internal', message: 'x' } }, 'kind must be one of no_matching_recipient, decryption_failed, unsupported_algorithm, malformed_cms'],
  ])('refuses %j', (input, message) => {
    const r = parseResponse(input);
    expect(isProtocolError(r)).toBe(true);
    expect(r).toMatchObject({ kind: 'bad_request', message });
  });
});
