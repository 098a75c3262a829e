import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headerValue, readBody } from '../src/http-client/answer-body.js';
import { startRawHttpServer, type RawHttpServer } from './helpers/raw-http-server.js';

/** readBody against a real local server: a body within, at and past its limit. */
let server: RawHttpServer;
const agent = new Agent();

beforeAll(async () => {
  server = await startRawHttpServer((incoming, response) => {
    const size = Number(new URL(incoming.url ?? '/', 'http://x').searchParams.get('size'));
    response.setHeader('x-twice', ['a', 'b']);
    // In 1 KiB writes, so the limit falls inside a chunk as well as between them.
    for (let written = 0; written < size; written += 1024) response.write('y'.repeat(Math.min(1024, size - written)));
    response.end();
  });
});
afterAll(async () => {
  await agent.close();
  await server.close();
});

const answer = (size: number) => request(`${server.baseUrl}/?size=${size}`, { dispatcher: agent });

describe('readBody', () => {
  it('reads a body up to its limit whole', async () => {
    expect((await readBody((await answer(3_000)).body, 3_000, 'fail')).length).toBe(3_000);
  });

  it('keeps exactly the limit of a longer body when truncating', async () => {
    expect((await readBody((await answer(200_000)).body, 2_500, 'truncate')).length).toBe(2_500);
  });

  it('fails on a longer body when asked to', async () => {
    await expect(readBody((await answer(200_000)).body, 2_500, 'fail')).rejects.toThrow(/exceeds the 2500-byte limit/);
  });

  it('gives repeated headers joined, as fetch did', async () => {
    const { headers, body } = await answer(0);
    await body.dump();
    expect(headerValue(headers, 'X-Twice')).toBe('a, b');
    expect(headerValue(headers, 'absent')).toBeNull();
  });
});
