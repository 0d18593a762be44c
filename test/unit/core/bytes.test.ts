import { describe, expect, it } from 'vitest';
import { base64Decode, base64Encode, constantTimeEqual, hexDecode, hexEncode, latin1 } from '../../../src/core/bytes.js';

const txt = (b: Uint8Array) => new TextDecoder().decode(b);

describe('base64Decode', () => {
  it('decodes mail base64: any line length, CRLF, LF, spaces, tabs, missing padding', () => {
    expect(txt(base64Decode('SGVsbG8s\r\nIHdvcmxk\nIQ'))).toBe('Hello, world!');
    expect(txt(base64Decode(' SGVs bG8s\tIHdvcmxkIQ==\r\n'))).toBe('Hello, world!');
    expect(txt(base64Decode('SGVsbG8sIHdvcmxkIQ'))).toBe('Hello, world!');
  });
  it('accepts base64url characters', () => {
    expect(hexEncode(base64Decode('-_-_'))).toBe('fbffbf');
  });
  it('rejects characters outside the alphabet and padding in the middle', () => {
    expect(() => base64Decode('SGVs*bG8=')).toThrow(TypeError);
    expect(() => base64Decode('QQ==Qg==')).toThrow(TypeError);
  });
  it('round-trips all byte values', () => {
    const all = new Uint8Array(256).map((_, i) => i);
    expect(base64Decode(base64Encode(all))).toEqual(all);
    expect(base64Encode(new TextEncoder().encode('ab'))).toBe('YWI=');
  });
});

describe('hex, latin1, constant-time compare', () => {
  it('hex round trip and separators', () => {
    expect(hexEncode(hexDecode('00:ff 10'))).toBe('00ff10');
    expect(() => hexDecode('abc')).toThrow();
  });
  it('latin1 is one char per byte, also past the chunk size', () => {
    const big = new Uint8Array(70000).fill(0xfc);
    expect(latin1(big)).toBe('ü'.repeat(70000));
  });
  it('constantTimeEqual', () => {
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(constantTimeEqual(new Uint8Array([1]), new Uint8Array([1, 3]))).toBe(false);
  });
});
