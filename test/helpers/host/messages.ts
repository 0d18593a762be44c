/** Test messages built at run time, so no EICAR literal sits in the repository. */
import { eicarBytes } from '../../../src/host/scanners/eicar.js';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64').replace(/.{76}/g, '$&\r\n');

export function plainMessage(text = 'Hello, nothing to see here.'): Uint8Array {
  return new TextEncoder().encode(
    ['From: a@example.org', 'To: b@example.org', 'Subject: plain', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', text, ''].join('\r\n'),
  );
}

/** multipart/mixed: a text body and an attachment; the attachment is EICAR unless `payload` is given. */
export function messageWithAttachment(opts: { filename?: string; payload?: Uint8Array; padTo?: number } = {}): Uint8Array {
  const payload = opts.payload ?? eicarBytes();
  const lines = [
    'From: a@example.org',
    'To: b@example.org',
    'Subject: invoice',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Please see the attachment.',
    ...(opts.padTo ? [`${'x'.repeat(75)}\r\n`.repeat(Math.ceil(opts.padTo / 77))] : []),
    '--b1',
    `Content-Type: application/octet-stream; name="${opts.filename ?? 'invoice.com'}"`,
    `Content-Disposition: attachment; filename="${opts.filename ?? 'invoice.com'}"`,
    'Content-Transfer-Encoding: base64',
    '',
    b64(payload),
    '--b1--',
    '',
  ];
  return new TextEncoder().encode(lines.join('\r\n'));
}

/** An attached message/rfc822 whose own attachment is EICAR. */
export function nestedMessage(): Uint8Array {
  const inner = new TextDecoder().decode(messageWithAttachment({ filename: 'inner.com' }));
  return new TextEncoder().encode(
    [
      'From: c@example.org',
      'Subject: Fwd: invoice',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="outer"',
      '',
      '--outer',
      'Content-Type: text/plain',
      '',
      'forwarded',
      '--outer',
      'Content-Type: message/rfc822',
      'Content-Disposition: attachment; filename="fwd.eml"',
      '',
      inner,
      '--outer--',
      '',
    ].join('\r\n'),
  );
}
