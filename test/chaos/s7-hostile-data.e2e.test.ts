import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandom } from '../../src/simulator/random.js';
import { ChaosWorld } from './harness/chaos-world.js';
import { brokenJobs, FORBIDDEN_IN_SLACK, hostileFields, hostileId, htmlProblems } from './harness/hostile.js';
import { settleAndJudge } from './harness/scenario.js';
import { byScale, chaosSeed, scenarioTimeoutMs } from './harness/scale.js';

const SEED = chaosSeed(707);

/** Every string inside a JSON value. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach((item) => strings(item, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((item) => strings(item, out));
  return out;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/;

describe('chaos 7: hostile data from the API', () => {
  let world: ChaosWorld;

  beforeAll(async () => {
    world = await ChaosWorld.create({ name: 's7-hostile-data', seed: SEED, channels: ['slack', 'email', 'slack-app'] });
  });

  afterAll(async () => {
    await world?.close();
  });

  it('survives every hostile answer, announces every real transition, and every message stays inert', async () => {
    const [daemon] = await world.startReplicas(1);
    await world.waitForFirstSync();
    for (const job of brokenJobs()) world.sim.upsertJob(job);
    const random = createRandom(SEED ^ 0xbad);
    const driver = world.driver({ decorate: (_job, r) => hostileFields(r), idFor: hostileId });
    const jobs = byScale(16, 40);
    const flowing = driver.flow({ jobs, everyMs: 300 });
    // Huge answers (5 MiB) now and then, on both endpoints.
    let huge = 0;
    for (let i = 0; i < byScale(3, 8); i += 1) {
      await world.until(() => world.ledger.transitions.length >= Math.ceil(((i + 1) * jobs) / 10), 120_000, 'more transitions');
      const n = random.int(1, 3);
      world.sim.failNext('huge', n, random.pick(['list', 'detail'] as const));
      huge += n;
    }
    await flowing;

    await settleAndJudge(world, {
      id: 7,
      scenario: 'Hostile data from the API',
      seed: SEED,
      notes: `every string field hostile (mentions, links, HTML, header injection, control chars, 20 kB and 1 MB values), wrong types, ${brokenJobs().length} broken or unknown-status jobs never announced, ${huge} 5 MiB answers; Slack app mode's cards, updates and thread replies checked as sent; property tests in s7-hostile-properties.test.ts`,
    });
    expect(daemon!.running).toBe(true);

    const slackProblems: string[] = [];
    for (const request of world.slack.accepted()) {
      for (const text of strings(request.body)) {
        if (/[<>]/.test(text)) slackProblems.push(`raw < or > in "${text.slice(0, 80)}"`);
        if (CONTROL.test(text)) slackProblems.push(`control character in "${text.slice(0, 80)}"`);
        for (const bad of FORBIDDEN_IN_SLACK) if (text.includes(bad)) slackProblems.push(`${bad} live in a Slack message`);
      }
    }
    expect(slackProblems).toEqual([]);

    // Slack app mode: every card posted or updated and every thread reply, as sent. A line may start
    // with the `>` of the quote gem-watch writes itself (a failure's detail in its end reply).
    const appProblems: string[] = [];
    for (const call of world.slackApi.calls) {
      // No fault was scripted here: any refusal (invalid_blocks, msg_too_long, …) is the renderer's.
      if (call.status !== 200 || call.error !== undefined) appProblems.push(`Slack answered ${call.method} with ${call.status} ${call.error ?? ''}`);
      for (const text of strings(call.body)) {
        if (/[<>]/.test(text.replace(/^>/gm, ''))) appProblems.push(`raw < or > in "${text.slice(0, 80)}"`);
        if (CONTROL.test(text)) appProblems.push(`control character in "${text.slice(0, 80)}"`);
        for (const bad of FORBIDDEN_IN_SLACK) if (text.includes(bad)) appProblems.push(`${bad} live in a Slack app message`);
      }
    }
    expect(appProblems).toEqual([]);

    const mailProblems: string[] = [];
    for (const mail of world.smtp.mails) {
      const html = typeof mail.parsed.html === 'string' ? mail.parsed.html : '';
      for (const problem of htmlProblems(html)) mailProblems.push(`${problem} in the HTML of "${mail.parsed.subject?.slice(0, 60)}"`);
      if (/[\r\n]/.test(mail.parsed.subject ?? '')) mailProblems.push('a line break in a subject');
      if (mail.parsed.headers.has('bcc') || mail.parsed.headers.has('x-injected')) mailProblems.push('an injected header');
      if (mail.envelope.to.join(',') !== 'ops@example.com') mailProblems.push(`recipients ${mail.envelope.to.join(',')}`);
      if (mail.raw.length > 400_000) mailProblems.push(`a ${mail.raw.length}-byte mail`);
    }
    expect(mailProblems).toEqual([]);
    expect(world.slack.requests.filter((request) => request.answer === 400), 'Slack never refused a payload as invalid').toEqual([]);
  }, scenarioTimeoutMs());
});
