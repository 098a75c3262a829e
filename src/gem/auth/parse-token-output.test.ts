import { describe, expect, it } from 'vitest';
import { parseAzDate, parseTokenOutput } from './parse-token-output.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.sig-Abc_123';

describe('parseTokenOutput', () => {
  it('takes a plain token, trimming the newline', () => {
    expect(parseTokenOutput(`${TOKEN}\n`)).toEqual({ ok: true, token: TOKEN });
  });

  it('reads az JSON and prefers expires_on (epoch seconds) over expiresOn', () => {
    const output = JSON.stringify({ accessToken: TOKEN, expiresOn: '2020-01-01 00:00:00.000000', expires_on: 1_700_000_123, tokenType: 'Bearer' });
    expect(parseTokenOutput(output)).toEqual({ ok: true, token: TOKEN, expiresAt: 1_700_000_123_000 });
  });

  it('reads the older az JSON whose expiresOn is a local date string', () => {
    const output = JSON.stringify({ accessToken: TOKEN, expiresOn: '2031-02-03 04:05:06.000000' });
    expect(parseTokenOutput(output)).toEqual({ ok: true, token: TOKEN, expiresAt: new Date(2031, 1, 3, 4, 5, 6).getTime() });
  });

  it('accepts expires_on given as a string of digits', () => {
    expect(parseTokenOutput(JSON.stringify({ accessToken: TOKEN, expires_on: '1700000123' }))).toMatchObject({ expiresAt: 1_700_000_123_000 });
  });

  it('keeps a token whose printed expiry cannot be read, without an expiry', () => {
    expect(parseTokenOutput(JSON.stringify({ accessToken: TOKEN, expiresOn: 'soon' }))).toEqual({ ok: true, token: TOKEN });
  });

  it('reads a JSON string (--query accessToken -o json)', () => {
    expect(parseTokenOutput(`"${TOKEN}"\n`)).toEqual({ ok: true, token: TOKEN });
  });

  it('reads the whole answer as tsv, token first and the epoch expiry among the fields', () => {
    const output = [TOKEN, '2031-02-03 04:05:06.000000', '1700000123', 'sub', 'tenant', 'Bearer'].join('\t');
    expect(parseTokenOutput(`${output}\n`)).toEqual({ ok: true, token: TOKEN, expiresAt: 1_700_000_123_000 });
  });

  it('reads a tsv whose only expiry is the local date', () => {
    expect(parseTokenOutput(`${TOKEN}\t2031-02-03 04:05:06.000000\n`)).toEqual({ ok: true, token: TOKEN, expiresAt: new Date(2031, 1, 3, 4, 5, 6).getTime() });
  });

  it('reports empty output as empty', () => {
    expect(parseTokenOutput('  \n')).toMatchObject({ ok: false, problem: 'empty' });
    expect(parseTokenOutput('""')).toMatchObject({ ok: false, problem: 'empty' });
  });

  it('rejects output that cannot be a token, without quoting it', () => {
    const secretish = 'SeCrEt0123456789abcdef';
    for (const output of [`${secretish} and more words`, `${secretish}\nsecond line`, `{"accessToken": "${secretish}"`, JSON.stringify({ token_is: secretish }), '[1,2]']) {
      const parsed = parseTokenOutput(output);
      expect(parsed.ok).toBe(false);
      expect(JSON.stringify(parsed)).not.toContain(secretish);
    }
  });
});

describe('parseAzDate', () => {
  it('reads local time without an offset and UTC with one', () => {
    expect(parseAzDate('2031-02-03 04:05:06.250000')).toBe(new Date(2031, 1, 3, 4, 5, 6, 250).getTime());
    expect(parseAzDate('2031-02-03T04:05:06Z')).toBe(Date.UTC(2031, 1, 3, 4, 5, 6));
    expect(parseAzDate('2031-02-03 04:05:06+02:00')).toBe(Date.UTC(2031, 1, 3, 2, 5, 6));
    expect(parseAzDate('tomorrow')).toBeUndefined();
  });
});
