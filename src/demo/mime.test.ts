import fc from 'fast-check';
import { simpleParser } from 'mailparser';
import nodemailer from 'nodemailer';
import { describe, expect, it } from 'vitest';
import { sampleTransition } from '../notify/sample-data.js';
import { renderEmailTransition } from '../templates/email-message.js';
import { decodeHeader, findText } from './mime.js';

const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });

async function compose(subject: string, text: string, html: string, textEncoding?: 'quoted-printable' | 'base64'): Promise<string> {
  const info = await transport.sendMail({
    from: 'gem-watch@example.com',
    to: 'ops@example.com',
    subject,
    text,
    html,
    ...(textEncoding ? { textEncoding } : {}),
  });
  return (info.message as Buffer).toString('utf8');
}

describe('the demo MIME reader', () => {
  it('reads the HTML, text and subject of a real transition email as mailparser does', async () => {
    const content = renderEmailTransition(sampleTransition('finished', Date.parse('2026-01-21T08:00:00Z')));
    for (const encoding of [undefined, 'quoted-printable', 'base64'] as const) {
      const raw = await compose(content.subject, content.text, content.html, encoding);
      const parsed = await simpleParser(raw);
      expect(findText(raw, 'text/html')).toBe(parsed.html);
      expect(findText(raw, 'text/plain')?.replace(/\r?\n$/, '')).toBe(parsed.text?.replace(/\n$/, ''));
      expect(decodeHeader(/^Subject: (.*(?:\r?\n[ \t].*)*)/m.exec(raw)?.[1]?.replace(/\r?\n[ \t]+/g, ' '))).toBe(parsed.subject);
    }
  });

  it('agrees with mailparser on arbitrary Unicode, long lines and hostile markup', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 80 }),
        fc.constantFrom(undefined, 'quoted-printable' as const, 'base64' as const),
        async (body, subject, encoding) => {
          const html = `<p>${body}</p>\n<p>${'x'.repeat(200)} <script>x</script> é ü 🚀</p>\r\n${body}`;
          const raw = await compose(subject.trim() || 's', body || 'text', html, encoding);
          const parsed = await simpleParser(raw);
          expect(findText(raw, 'text/html')).toBe(parsed.html);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('decodes encoded words in headers', () => {
    expect(decodeHeader('=?UTF-8?Q?caf=C3=A9_au_lait?=')).toBe('café au lait');
    expect(decodeHeader('=?UTF-8?B?8J+agA==?= launch')).toBe('🚀 launch');
    expect(decodeHeader('plain')).toBe('plain');
  });
});
