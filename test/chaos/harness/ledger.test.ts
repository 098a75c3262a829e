import { describe, expect, it } from 'vitest';
import type { Transition } from '../../../src/domain/transition.js';
import { renderSlackApp } from '../../../src/notify/channels/slack-app/render.js';
import { sampleTransition } from '../../../src/notify/sample-data.js';
import type { SlackApiCall } from '../../../src/simulator/slack-api.js';
import { DeliveryLedger, judgeSlackAppMessages, type ExpectedTransition, type KillRecord } from './ledger.js';

/**
 * The ledger's judgement of Slack app mode, on Web API calls shaped as the simulator records them
 * and texts the real renderer writes: what a scenario's figures for the channel rest on.
 */

const NOW = Date.UTC(2026, 0, 20, 10, 25);
const CHANNEL = 'C0GEMALERTS';

function event(jobId: string, to: 'queued' | 'running' | 'finished' | 'failed', version: number): Transition {
  const base = sampleTransition(to === 'failed' ? 'failed' : 'finished', NOW, jobId);
  return { ...base, to, version, job: { ...base.job, status: to } };
}

/** Builds the calls of a run: each helper appends one call Slack carried out, at `at` (the ledger reads texts, not blocks). */
class Calls {
  readonly list: SlackApiCall[] = [];
  private clock = 0;

  post(transition: Transition, at: number): string {
    const ts = `1768900000.${String((this.clock += 1)).padStart(6, '0')}`;
    const { main } = renderSlackApp({ transition }, { timeZone: 'UTC' });
    this.list.push({ at, method: 'chat.postMessage', authorization: 'Bearer x', raw: '', body: { channel: '#gem-alerts', text: main.text }, status: 200, ts });
    return ts;
  }

  update(ts: string, transition: Transition, at: number): void {
    const { main } = renderSlackApp({ transition }, { timeZone: 'UTC' });
    this.list.push({ at, method: 'chat.update', authorization: 'Bearer x', raw: '', body: { channel: CHANNEL, ts, text: main.text }, status: 200, ts });
  }

  reply(ts: string, transition: Transition, at: number, mentions = ''): void {
    const reply = renderSlackApp({ transition }, { timeZone: 'UTC' }).reply!;
    const text = mentions ? `${mentions} ${reply.text}` : reply.text;
    this.list.push({ at, method: 'chat.postMessage', authorization: 'Bearer x', raw: '', body: { channel: CHANNEL, thread_ts: ts, text }, status: 200, ts: `${ts}1` });
  }

  refused(at: number): void {
    this.list.push({ at, method: 'chat.postMessage', authorization: 'Bearer x', raw: '', body: undefined, status: 429, error: 'ratelimited' });
  }
}

const ended = (jobId: string, status: 'finished' | 'failed' = 'finished'): ExpectedTransition => ({ jobId, jobType: 'ROAD_MATCHING', status, at: NOW });
const kill = (at: number): KillRecord => ({ replica: 'r1', life: 1, at });

describe('the chaos ledger on Slack app mode', () => {
  it('counts a job posted once, updated in place and replied to once as delivered, with nothing to say', () => {
    const calls = new Calls();
    const ts = calls.post(event('7', 'queued', 1), 1_000);
    calls.refused(1_500);
    calls.update(ts, event('7', 'running', 2), 2_000);
    calls.update(ts, event('7', 'failed', 3), 3_000);
    calls.reply(ts, event('7', 'failed', 3), 3_100, '<!subteam^S0123ABCD> <@U0123ABCD>');
    const ledger = new DeliveryLedger(['slack-app']);
    ledger.expect(ended('7', 'failed'));
    const tally = ledger.tally({ slack: [], mails: [], slackApp: calls.list, lines: [], kills: [] });
    expect(tally.problems).toEqual([]);
    expect(tally.byChannel['slack-app']).toMatchObject({ delivered: 1, copies: 1, duplicates: 0, lost: 0, jobMessages: 1, updates: 2 });
  });

  it('admits a second top-level message only when a kill came between and the first was never addressed again', () => {
    const calls = new Calls();
    calls.post(event('7', 'queued', 1), 1_000);
    const second = calls.post(event('7', 'running', 2), 9_000);
    calls.update(second, event('7', 'finished', 3), 10_000);
    calls.reply(second, event('7', 'finished', 3), 10_100);
    expect(judgeSlackAppMessages(calls.list, [ended('7')], [kill(1_200)])).toMatchObject({ jobMessages: 2, duplicates: 1, crashWindow: 1, problems: [] });
    const unexplained = judgeSlackAppMessages(calls.list, [ended('7')], []);
    expect(unexplained).toMatchObject({ duplicates: 1, crashWindow: 0 });
    expect(unexplained.problems.join('\n')).toMatch(/job 7 has 2 top-level messages/);
  });

  it('calls a second top-level message a bug when the first one\'s ts had been stored (it was updated), kill or not', () => {
    const calls = new Calls();
    const first = calls.post(event('7', 'queued', 1), 1_000);
    calls.update(first, event('7', 'running', 2), 2_000);
    const second = calls.post(event('7', 'finished', 3), 9_000);
    calls.reply(second, event('7', 'finished', 3), 9_100);
    const judged = judgeSlackAppMessages(calls.list, [ended('7')], [kill(5_000)]);
    expect(judged.crashWindow).toBe(0);
    expect(judged.problems.join('\n')).toMatch(/was updated or replied to, so its ts was stored/);
  });

  it('names a job whose message does not show its end, and an end replied under the wrong message', () => {
    const calls = new Calls();
    const ts = calls.post(event('7', 'queued', 1), 1_000);
    calls.reply(ts, event('7', 'finished', 3), 3_000);
    const other = calls.post(event('8', 'queued', 1), 4_000);
    calls.update(other, event('8', 'finished', 3), 5_000);
    calls.reply(ts, event('8', 'finished', 3), 5_100);
    const problems = judgeSlackAppMessages(calls.list, [ended('7'), ended('8')], []).problems.join('\n');
    expect(problems).toMatch(/7 finished, but the job's message shows "queued"/);
    expect(problems).toMatch(/the reply announcing 8 finished is in the thread of job 7's message/);
  });

  it('reads hostile job ids back from the escaped headline', () => {
    const calls = new Calls();
    const id = '<b>job</b>&amp; <!here>-5';
    const ts = calls.post(event(id, 'running', 2), 1_000);
    calls.update(ts, event(id, 'finished', 3), 2_000);
    calls.reply(ts, event(id, 'finished', 3), 2_100);
    const ledger = new DeliveryLedger(['slack-app']);
    ledger.expect(ended(id));
    const tally = ledger.tally({ slack: [], mails: [], slackApp: calls.list, lines: [], kills: [] });
    expect(tally.problems).toEqual([]);
    expect(tally.byChannel['slack-app']).toMatchObject({ delivered: 1, jobMessages: 1 });
  });
});
