import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from './connection.js';
import type { Keys } from './keys.js';
import { withScripts, type ScriptCommands } from './scripts.js';

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
 * it is sent (lua/gather-admit-5.lua, lua/gather-close-4.lua). The protocol and its crash table are
 * in docs/architecture.md, "Alerts".
 */

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
  /** Destination key segment (domain/route-settings.ts destinationKey). */
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

/** A gathering whose message went out: its members and bookkeeping go with the delivered markers. */
export interface SentGathering {
  kind: GatheringKind;
  destination: string;
  seq: number;
  /** The members' fields, as `close` answered them. */
  fields: readonly string[];
}

export class GatheringStore {
  private readonly scripts: ScriptCommands;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {
    this.scripts = withScripts(redis);
  }

  private keysOf(kind: GatheringKind, destination: string): string[] {
    return [this.keys.gatherOpen(kind, destination), this.keys.gatherMembers(kind, destination), this.keys.gatherMeta(kind, destination), this.keys.gatherSeq(kind, destination)];
  }

  /** An earlier decision for a task, if any. */
  async decision(taskId: string): Promise<Decision | undefined> {
    return parseDecision(await this.redis.get(this.keys.gatherDecision(taskId)));
  }

  /** Decides a task atomically: send it alone now, or gather it (lua/gather-admit-5.lua). */
  async admit(input: AdmitInput): Promise<AdmitResult> {
    const [what, second, ms] = (await this.scripts.gemwatchGatherAdmit(
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

  /** Closes a gathering (or finds it not due yet) and returns its members (lua/gather-close-4.lua). */
  async close(kind: GatheringKind, destination: string, seq: number, options: { maxHoldMs: number; windowMs: number }): Promise<CloseResult> {
    const reply = (await this.scripts.gemwatchGatherClose(
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
  forget(multi: ChainableCommander, { kind, destination, seq, fields }: SentGathering): void {
    const [, members, meta] = this.keysOf(kind, destination);
    for (let start = 0; start < fields.length; start += 1_000) multi.hdel(members!, ...fields.slice(start, start + 1_000));
    multi.hdel(meta!, `${seq}:opened`, `${seq}:why`, `${seq}:closed`);
  }
}
