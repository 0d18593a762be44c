import { children, oid, raw, readTlv, type Tlv } from '../asn1/ber.js';
import { UnsealError } from '../errors.js';

/** An AlgorithmIdentifier with its parameters kept as raw bytes (decoded only by whoever needs them). */
export interface AlgorithmId {
  readonly oid: string;
  /** The parameters element's bytes (tag included), absent when there are none. */
  readonly params?: Uint8Array;
  /** The whole AlgorithmIdentifier as encoded (ECC-CMS-SharedInfo reuses it byte for byte). */
  readonly der: Uint8Array;
}

export function parseAlgorithm(buf: Uint8Array, t: Tlv): AlgorithmId {
  if (t.cls !== 0 || t.tag !== 16) throw new UnsealError('malformed_cms', 'expected AlgorithmIdentifier');
  const kids = children(buf, t);
  const id = kids[0];
  if (!id) throw new UnsealError('malformed_cms', 'empty AlgorithmIdentifier');
  const p = kids[1];
  const hasParams = p !== undefined && !(p.cls === 0 && p.tag === 5); // NULL counts as absent
  return { oid: oid(buf, id), der: raw(buf, t), ...(hasParams ? { params: raw(buf, p) } : {}) };
}

/** Parses the parameters as one element, for callers that walk them with the BER reader. */
export function paramsTlv(a: AlgorithmId): { buf: Uint8Array; tlv: Tlv } | undefined {
  if (!a.params) return undefined;
  return { buf: a.params, tlv: readTlv(a.params, 0) };
}
