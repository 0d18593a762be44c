/** RC4, for the rare pbeWithSHAAnd128BitRC4 / 40BitRC4 PKCS#12 files; a stream cipher, so one function. */
export function rc4(key: Uint8Array, data: Uint8Array): Uint8Array {
  if (key.length < 1 || key.length > 256) throw new RangeError(`RC4 key of ${key.length} bytes`);
  const s = new Uint8Array(256);
  for (let i = 0; i < 256; i++) s[i] = i;
  for (let i = 0, j = 0; i < 256; i++) {
    const si = s[i]!;
    j = (j + si + key[i % key.length]!) & 0xff;
    s[i] = s[j]!;
    s[j] = si;
  }
  const out = new Uint8Array(data.length);
  for (let n = 0, i = 0, j = 0; n < data.length; n++) {
    i = (i + 1) & 0xff;
    const si = s[i]!;
    j = (j + si) & 0xff;
    const sj = s[j]!;
    s[i] = sj;
    s[j] = si;
    out[n] = data[n]! ^ s[(si + sj) & 0xff]!;
  }
  return out;
}
