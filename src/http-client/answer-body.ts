import type { Dispatcher } from 'undici';

type Headers = Dispatcher.ResponseData['headers'];
type Body = Dispatcher.ResponseData['body'];

/** One response header as fetch's Headers.get gives it: repeated values joined, absent as null. */
export function headerValue(headers: Headers, name: string): string | null {
  const value = headers[name.toLowerCase()];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Reads an answer's body into one Buffer, reading at most `limit` bytes. Past the limit the body
 * is destroyed (which closes its socket, so the rest is never read) and the read either fails
 * (`'fail'`) or settles with what came so far (`'truncate'`). A body that closes without an end
 * or an error fails.
 */
export function readBody(body: Body, limit: number, overLimit: 'fail' | 'truncate'): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    if (body.destroyed) {
      reject(body.errored ?? new Error('answer closed before it was read'));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    // Settled by 'end', 'error' or the limit. The flag spares an Error (and its stack trace) on
    // every answer, since 'close' follows 'end' too.
    let settled = false;
    const finish = () => {
      settled = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    body.on('data', (chunk: Buffer) => {
      if (settled) return;
      if (size + chunk.length > limit) {
        if (overLimit === 'truncate') {
          chunks.push(chunk.subarray(0, limit - size));
          size = limit;
          finish();
          body.destroy();
        } else {
          body.destroy(new Error(`answer exceeds the ${limit}-byte limit`));
        }
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    });
    body.on('end', () => settled || finish());
    body.on('error', (error) => {
      if (settled) return;
      settled = true;
      reject(error);
    });
    body.on('close', () => {
      if (!settled) reject(new Error('answer closed before its end'));
      settled = true;
    });
  });
}
