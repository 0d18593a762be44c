import { describe, expect, it } from 'vitest';
import { children, octets, oid, readTlv, smallInt } from '../../../src/core/asn1/ber.js';
import { hexDecode, hexEncode } from '../../../src/core/bytes.js';
import { UnsealError } from '../../../src/core/errors.js';

const h = hexDecode;

describe('BER reader', () => {
  it('reads definite short and long lengths', () => {
    const b = h('0403616263');
    const t = readTlv(b, 0);
    expect(t).toMatchObject({ cls: 0, tag: 4, constructed: false, contentStart: 2, contentEnd: 5, end: 5, indefinite: false });
    const long = new Uint8Array([0x04, 0x82, 0x01, 0x00, ...new Uint8Array(256)]);
    expect(readTlv(long, 0)).toMatchObject({ contentStart: 4, contentEnd: 260 });
  });

  it('reads indefinite lengths and finds the end-of-contents', () => {
    // SEQUENCE (indef) { INTEGER 5, OCTET STRING (indef, constructed) { "ab", "c" } }
    const b = h('3080020105' + '2480' + '04026162' + '040163' + '0000' + '0000');
    const t = readTlv(b, 0);
    expect(t.indefinite).toBe(true);
    expect(t.end).toBe(b.length);
    const [i, os] = children(b, t);
    expect(smallInt(b, i!)).toBe(5);
    expect(new TextDecoder().decode(octets(b, os!))).toBe('abc');
  });

  it('concatenates constructed OCTET STRINGs of any nesting', () => {
    const b = h('2480' + '2480' + '040141' + '0000' + '040142' + '2403' + '040143' + '0000');
    expect(new TextDecoder().decode(octets(b, readTlv(b, 0)))).toBe('ABC');
  });

  it('primitive content is a view, not a copy', () => {
    const b = h('0403616263');
    const v = octets(b, readTlv(b, 0));
    expect(v.buffer).toBe(b.buffer);
  });

  it('decodes OIDs', () => {
    const b = h('06092a864886f70d010703');
    expect(oid(b, readTlv(b, 0))).toBe('1.2.840.113549.1.7.3');
    const c = h('0603551d0e');
    expect(oid(c, readTlv(c, 0))).toBe('2.5.29.14');
  });

  it('a declared length beyond the input fails at once (torture 33 class)', () => {
    const b = h('04847ffffff0' + '00'.repeat(64));
    const t0 = performance.now();
    expect(() => readTlv(b, 0)).toThrow(UnsealError);
    expect(performance.now() - t0).toBeLessThan(50);
    try {
      readTlv(b, 0);
    } catch (e) {
      expect((e as UnsealError).kind).toBe('malformed_cms');
    }
  });

  it('truncated indefinite data and missing end-of-contents are malformed', () => {
    expect(() => readTlv(h('3080020105'), 0)).toThrow(/end-of-contents|truncated|end of data/);
    expect(() => readTlv(h('30'), 0)).toThrow(UnsealError);
  });

  it('nesting deeper than the bound is refused, not a stack overflow', () => {
    const deep = h('3080'.repeat(200) + '0000'.repeat(200));
    expect(() => readTlv(deep, 0)).toThrow(/too deep/);
  });

  it('an indefinite length on a primitive is malformed', () => {
    expect(() => readTlv(h('0480616263 0000'.replace(' ', '')), 0)).toThrow(/primitive/);
  });

  it('round-trips hex of a multi-byte tag', () => {
    const b = h('9f2201ff');
    const t = readTlv(b, 0);
    expect(t.tag).toBe(0x22);
    expect(t.cls).toBe(2);
    expect(hexEncode(b.subarray(t.contentStart, t.contentEnd))).toBe('ff');
  });
});
