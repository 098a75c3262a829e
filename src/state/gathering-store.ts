import type { ChainableCommander, Redis } from 'ioredis';
import type { Keys } from './keys.js';

/**
 * Gatherings in Redis: notifications for one destination (route, channel, target) collected to be
 * sent as one message. Two kinds share the mechanism:
 *
 * - `burst`: the first transition after a quiet spell is sent at once and opens a window (a key
 *   with PX); transitions arriving while it is open join the window's gathering and push its end
 *   back (the quiet spell restarts). One delayed task per gathering sends it when the window ends,
 *   or at the latest `alerts.burstMaxSec` after its first member, when a burst still going on
 *   continues in the next gathering.
 * - `held`: while a route is muted (quiet hours, a silence) everything for it joins the open hold;
 *   one delayed task at the end of the muted period sends the hold as one summary.
 *
 * Every step that decides is one Lua script, so replicas and retries agree: a task's decision is
 * stored with it (a retried first message is never gathered, a gathered task never sent alone), a
 * member can join only an open gathering, and a gathering is closed (its member list frozen) before
 * it is sent. The protocol and its crash table are in docs/architecture.md, "Alerts".
 */

/**
 * gather-admit-5
 * KEYS[1] open: the open gathering's seq (burst: with PX = the window)
 * KEYS[2] members: hash `<seq>|<task id>` → member JSON
 * KEYS[3] meta: hash `<seq>:opened` (Redis ms), `<seq>:why`, `<seq>:closed`
 * KEYS[4] seq counter
 * KEYS[5] decision of this task: `solo`, `burst:<seq>`, `held:<seq>`
 * ARGV[1] mode: `burst` or `held`
 * ARGV[2] task id
 * ARGV[3] member JSON
 * ARGV[4] burst window, ms
 * ARGV[5] lifetime of the decision and of the members hash, ms
 * ARGV[6] why (held: what mutes the route), kept with the gathering
 * Result: { what, seq or stored decision, ms }: `solo` (send it now; a window opened), `burst` (joined
 * burst seq; its window ends in ms), `held` (joined hold seq), `decided` (an earlier call decided:
 * element 2 is that decision, ms the remaining window when it is a burst still open).
 */
const ADMIT = `
pcall(function() return redis.replicate_commands() end)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local decided = redis.call('GET', KEYS[5])
if decided then
  local ms = 0
  local kind, seq = string.match(decided, '^(%a+):(%d+)$')
  if kind == 'burst' and redis.call('GET', KEYS[1]) == seq then ms = redis.call('PTTL', KEYS[1]) end
  return { 'decided', decided, ms }
end
local ttl = tonumber(ARGV[5])
local open = redis.call('GET', KEYS[1])
if ARGV[1] == 'burst' then
  local window = tonumber(ARGV[4])
  if not open then
    local seq = tostring(redis.call('INCR', KEYS[4]))
    redis.call('SET', KEYS[1], seq, 'PX', window)
    redis.call('SET', KEYS[5], 'solo', 'PX', ttl)
    return { 'solo', seq, 0 }
  end
  redis.call('HSET', KEYS[2], open .. '|' .. ARGV[2], ARGV[3])
  redis.call('PEXPIRE', KEYS[2], ttl)
  redis.call('HSETNX', KEYS[3], open .. ':opened', now)
  redis.call('PEXPIRE', KEYS[3], ttl)
  redis.call('SET', KEYS[1], open, 'PX', window)
  redis.call('SET', KEYS[5], 'burst:' .. open, 'PX', ttl)
  return { 'burst', open, window }
end
if not open then
  open = tostring(redis.call('INCR', KEYS[4]))
  redis.call('SET', KEYS[1], open)
  redis.call('HSET', KEYS[3], open .. ':opened', now, open .. ':why', ARGV[6])
end
redis.call('HSET', KEYS[2], open .. '|' .. ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
redis.call('SET', KEYS[5], 'held:' .. open, 'PX', ttl)
return { 'held', open, 0 }
`;

/**
 * gather-close-4
 * KEYS[1] open, KEYS[2] members, KEYS[3] meta, KEYS[4] seq counter (as in gather-admit-5)
 * ARGV[1] mode: `burst` or `held`
 * ARGV[2] seq of the gathering to close
 * ARGV[3] burst: longest a gathering waits after its first member, ms
 * ARGV[4] burst window, ms
 * Result: { 'wait', ms } while a burst's window is still open (and its first member is younger than
 * ARGV[3]); else { 'closed', why, field1, json1, field2, json2, … } with every member of the
 * gathering. Closing is idempotent: a closed gathering answers its frozen members again. Closing a
 * burst that is still going on hands its window to a new gathering, so later arrivals keep being
 * grouped; closing a hold ends it, so what is muted later opens a new one.
 */
const CLOSE = `
pcall(function() return redis.replicate_commands() end)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local seq = ARGV[2]
if not redis.call('HGET', KEYS[3], seq .. ':closed') then
  local open = redis.call('GET', KEYS[1])
  if open == seq then
    if ARGV[1] == 'burst' then
      local opened = tonumber(redis.call('HGET', KEYS[3], seq .. ':opened') or now)
      local maxHold = tonumber(ARGV[3])
      local left = redis.call('PTTL', KEYS[1])
      if now - opened < maxHold then
        if left < 1 then left = 1 end
        return { 'wait', math.min(left, opened + maxHold - now) }
      end
      local nextSeq = redis.call('INCR', KEYS[4])
      if left < 1 then left = tonumber(ARGV[4]) end
      redis.call('SET', KEYS[1], nextSeq, 'PX', left)
    else
      redis.call('DEL', KEYS[1])
    end
  end
  redis.call('HSET', KEYS[3], seq .. ':closed', now)
end
local out = { 'closed', redis.call('HGET', KEYS[3], seq .. ':why') or '' }
local all = redis.call('HGETALL', KEYS[2])
local prefix = seq .. '|'
for i = 1, #all, 2 do
  if string.sub(all[i], 1, #prefix) == prefix then
    out[#out + 1] = all[i]
    out[#out + 1] = all[i + 1]
  end
end
return out
`;

export type GatheringKind = 'burst' | 'held';

export type AdmitResult =
  | { what: 'solo'; seq: number }
  | { what: 'burst'; seq: number; windowLeftMs: number }
  | { what: 'held'; seq: number }
  /** An earlier call decided for this task: `solo`, or the gathering it joined (`windowLeftMs` for an open burst). */
  | { what: 'decided'; decision: Decision; windowLeftMs: number };

export type Decision = { kind: 'solo' } | { kind: GatheringKind; seq: number };

export type CloseResult =
  | { what: 'wait'; ms: number }
  | { what: 'closed'; why: string; members: Array<{ field: string; taskId: string; json: string }> };

export interface AdmitInput {
  mode: GatheringKind;
  /** Destination key segment (alerts/route-settings.ts destinationKey). */
  destination: string;
  taskId: string;
  memberJson: string;
  /** Burst window, ms. */
  windowMs: number;
  /** How long decisions and members are kept at most, ms (retention.deliveriesDays). */
  ttlMs: number;
  /** For `held`: what mutes the route, shown in the summary. */
  why?: string;
}

/** `solo`, `burst:3`, `held:7` → Decision; anything else → undefined. */
export function parseDecision(text: string | null | undefined): Decision | undefined {
  if (text === 'solo') return { kind: 'solo' };
  const match = /^(burst|held):(\d+)$/.exec(text ?? '');
  return match ? { kind: match[1] as GatheringKind, seq: Number(match[2]) } : undefined;
}

export class GatheringStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  private keysOf(kind: GatheringKind, destination: string): string[] {
    return [this.keys.gatherOpen(kind, destination), this.keys.gatherMembers(kind, destination), this.keys.gatherMeta(kind, destination), this.keys.gatherSeq(kind, destination)];
  }

  /** An earlier decision for a task, if any. */
  async decision(taskId: string): Promise<Decision | undefined> {
    return parseDecision(await this.redis.get(this.keys.gatherDecision(taskId)));
  }

  /** Decides a task atomically: send it alone now, or gather it (see ADMIT). */
  async admit(input: AdmitInput): Promise<AdmitResult> {
    const [what, second, ms] = (await this.redis.eval(
      ADMIT,
      5,
      ...this.keysOf(input.mode, input.destination),
      this.keys.gatherDecision(input.taskId),
      input.mode,
      input.taskId,
      input.memberJson,
      String(Math.max(1, Math.round(input.windowMs))),
      String(Math.max(1_000, Math.round(input.ttlMs))),
      input.why ?? '',
    )) as [string, string, number];
    if (what === 'solo') return { what, seq: Number(second) };
    if (what === 'burst') return { what, seq: Number(second), windowLeftMs: Number(ms) };
    if (what === 'held') return { what, seq: Number(second) };
    const decision = parseDecision(second);
    if (!decision) throw new Error(`unreadable gathering decision for task ${input.taskId}`);
    return { what: 'decided', decision, windowLeftMs: Math.max(0, Number(ms)) };
  }

  /** Closes a gathering (or finds it not due yet) and returns its members (see CLOSE). */
  async close(kind: GatheringKind, destination: string, seq: number, options: { maxHoldMs: number; windowMs: number }): Promise<CloseResult> {
    const reply = (await this.redis.eval(
      CLOSE,
      4,
      ...this.keysOf(kind, destination),
      kind,
      String(seq),
      String(Math.max(1, Math.round(options.maxHoldMs))),
      String(Math.max(1, Math.round(options.windowMs))),
    )) as Array<string | number>;
    if (reply[0] === 'wait') return { what: 'wait', ms: Math.max(1, Number(reply[1])) };
    const members: Array<{ field: string; taskId: string; json: string }> = [];
    for (let i = 2; i + 1 < reply.length; i += 2) {
      const field = String(reply[i]);
      members.push({ field, taskId: field.slice(field.indexOf('|') + 1), json: String(reply[i + 1]) });
    }
    return { what: 'closed', why: String(reply[1] ?? ''), members };
  }

  /** The seq of the gathering open now for a destination, if any. */
  async openSeq(kind: GatheringKind, destination: string): Promise<number | undefined> {
    const value = await this.redis.get(this.keys.gatherOpen(kind, destination));
    return value === null ? undefined : Number(value);
  }

  /**
   * Queues, on a MULTI the caller executes with the delivered markers, the removal of a sent
   * gathering's members and bookkeeping: the markers and the cleanup land together or not at all.
   */
  forget(multi: ChainableCommander, kind: GatheringKind, destination: string, seq: number, fields: readonly string[]): void {
    const [, members, meta] = this.keysOf(kind, destination);
    for (let start = 0; start < fields.length; start += 1_000) multi.hdel(members!, ...fields.slice(start, start + 1_000));
    multi.hdel(meta!, `${seq}:opened`, `${seq}:why`, `${seq}:closed`);
  }
}
