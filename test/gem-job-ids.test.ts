import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeIdPart } from '../src/domain/transition.js';
import { NoTokenProvider } from '../src/gem/auth/token-provider.js';
import { GemClient } from '../src/gem/client.js';
import { isGemApiError } from '../src/gem/errors.js';
import { MAX_JOB_ID_LENGTH } from '../src/gem/job-id.js';
import { detailTaskId } from '../src/queue/names.js';
import { startRawHttpServer, type RawHttpServer } from './helpers/raw-http-server.js';
import { rejection } from './helpers/rejection.js';

// GEM as a raw HTTP server: it answers every detail call with a job and every list call with
// `listBody`, and keeps each request's path exactly as it arrived.
let gem: RawHttpServer;
let listBody = '{"jobs":[]}';

beforeAll(async () => {
  gem = await startRawHttpServer((request, response) => {
    response.setHeader('content-type', 'application/json');
    if (request.url?.startsWith('/gem/jobs?')) return response.end(listBody);
    response.end('{"jobRunId":"x","status":"running"}');
  });
});
afterAll(() => gem.close());
afterEach(() => {
  gem.reset();
  listBody = '{"jobs":[]}';
});

function client(): GemClient {
  return new GemClient({ baseUrl: gem.baseUrl, apiKey: 'ids-api-key', tokenProvider: new NoTokenProvider(), timeoutMs: 2_000 });
}

describe('job ids on the wire', () => {
  it('sends a job id as one path segment, every character outside the unreserved set encoded', async () => {
    const id = "a/b ?#%!*'()é~.-_Z9";
    const { job } = await client().getJob(id);
    expect(job.id).toBe(id);
    expect(gem.requests.map((request) => request.url)).toEqual(['/gem/jobs/a%2Fb%20%3F%23%25%21%2A%27%28%29%C3%A9~.-_Z9']);
  });

  it.each(['.', '..', '...'])('never asks GEM for another path when a job id is %j: the call is refused, not made', async (id) => {
    const error = await rejection(client().getJob(id), isGemApiError);
    expect(error).toMatchObject({ reason: 'clientError', retryable: false, endpoint: 'detail' });
    expect(error.message).toContain(`job id ${JSON.stringify(id)} cannot be used: it is only dots`);
    expect(gem.requests).toEqual([]);
  });

  it('leaves out of the list, each with why, ids that are only dots, too long or not valid Unicode, and keeps the rest', async () => {
    const long = 'x'.repeat(MAX_JOB_ID_LENGTH + 1);
    listBody = JSON.stringify({
      jobs: [
        { job_id: '.', status: 'IN_PROGRESS' },
        { job_id: '..', status: 'SUCCESS' },
        { job_id: long, status: 'IN_PROGRESS' },
        { job_id: `${long}y`, status: 'IN_PROGRESS' },
        { job_id: 'a.b', status: 'IN_PROGRESS' },
        { job_id: 'x'.repeat(MAX_JOB_ID_LENGTH), status: 'IN_PROGRESS' },
      ],
    }).replace('"SUCCESS"}', '"SUCCESS"},{"job_id":"\\ud800","status":"IN_PROGRESS"}');
    const list = await client().listJobs('ROAD_MATCHING');
    expect(list.jobs.map((job) => job.id)).toEqual(['a.b', 'x'.repeat(MAX_JOB_ID_LENGTH)]);
    expect(list.rejected).toEqual([
      'jobs[0]: job id "." is not used: it is only dots, which URLs treat as a path step (. or ..), not a name',
      'jobs[1]: job id ".." is not used: it is only dots, which URLs treat as a path step (. or ..), not a name',
      'jobs[2]: job id "\\ud800" is not used: it holds a lone UTF-16 surrogate, which has no UTF-8 form',
      `jobs[3]: job id "${'x'.repeat(80)}…" is not used: it is 257 characters long, more than the 256 accepted`,
      `jobs[4]: job id "${'x'.repeat(80)}…" is not used: it is 258 characters long, more than the 256 accepted`,
    ]);
  });

  it('gives different ids different keys and task ids, lone surrogates included', () => {
    const ids = ['\ud800', '\ud801', '\udc00', '\ufffd', '%ud800', 'a-b', 'a%2db'];
    expect(new Set(ids.map(encodeIdPart)).size).toBe(ids.length);
    expect(new Set(ids.map((jobId) => detailTaskId({ jobId, slot: 1 }))).size).toBe(ids.length);
  });
});
