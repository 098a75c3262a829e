import { randomBytes } from 'node:crypto';
import type { RedisClient } from './connection.js';
import type { Silence } from '../domain/mute.js';
import type { Keys } from './keys.js';

/**
 * Ad-hoc silences (`gem-watch silence add --route R --for 2h`), in one Redis hash shared by every
 * replica: id → JSON. A silence holds a route's messages from its start to its end; what arrives
 * meanwhile is sent as one summary when it ends or is removed (see DeliveryPolicy). Expired
 * silences are removed lazily, by `list` and `add`.
 */

/** A silence that cannot be added as asked. */
export class SilenceInputError extends Error {
  override readonly name = 'SilenceInputError';
}

export interface AddSilenceInput {
  route: string;
  /** How long, in ms (> 0, at most 90 days). */
  durationMs: number;
  comment?: string;
  /** Epoch ms it starts; default now. */
  now: number;
}

/** Longest silence: beyond this an operator wants a config change (a mute window), not a silence. */
export const MAX_SILENCE_MS = 90 * 86_400_000;
const MAX_COMMENT = 500;

function parseSilence(json: string): Silence | undefined {
  try {
    const value = JSON.parse(json) as Partial<Silence>;
    if (typeof value.id !== 'string' || typeof value.route !== 'string' || typeof value.startsAt !== 'number' || typeof value.endsAt !== 'number') return undefined;
    return value as Silence;
  } catch {
    return undefined;
  }
}

export class SilenceStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  /** Adds a silence; returns it (with its id). */
  async add(input: AddSilenceInput): Promise<Silence> {
    if (!(input.durationMs > 0) || input.durationMs > MAX_SILENCE_MS) {
      throw new SilenceInputError(`a silence lasts more than 0 and at most 90 days (got ${Math.round(input.durationMs / 1000)} s)`);
    }
    // A comment is shown in terminals and messages: no control characters, one line.
    // eslint-disable-next-line no-control-regex
    const comment = input.comment?.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, MAX_COMMENT);
    const silence: Silence = {
      id: `s-${randomBytes(4).toString('hex')}`,
      route: input.route,
      startsAt: input.now,
      endsAt: input.now + input.durationMs,
      createdAt: input.now,
      ...(comment ? { comment } : {}),
    };
    await this.redis.hset(this.keys.silences(), silence.id, JSON.stringify(silence));
    await this.purgeExpired(input.now);
    return silence;
  }

  /** Every silence not yet over at `now`, soonest end first. */
  async list(now: number): Promise<Silence[]> {
    await this.purgeExpired(now);
    return (await this.all()).filter((silence) => silence.endsAt > now).sort((a, b) => a.endsAt - b.endsAt);
  }

  /** The silences of one route that are not over at `now` (those still to start included). */
  async forRoute(route: string, now: number): Promise<Silence[]> {
    return (await this.all()).filter((silence) => silence.route === route && silence.endsAt > now);
  }

  /** One silence, or undefined. */
  async get(id: string): Promise<Silence | undefined> {
    const json = await this.redis.hget(this.keys.silences(), id);
    return json ? parseSilence(json) : undefined;
  }

  /** Removes a silence; returns it, or undefined when there was none with that id. */
  async remove(id: string): Promise<Silence | undefined> {
    const silence = await this.get(id);
    if (!silence) return undefined;
    await this.redis.hdel(this.keys.silences(), id);
    return silence;
  }

  private async all(): Promise<Silence[]> {
    const entries = await this.redis.hgetall(this.keys.silences());
    return Object.values(entries)
      .map(parseSilence)
      .filter((silence): silence is Silence => silence !== undefined);
  }

  private async purgeExpired(now: number): Promise<void> {
    const expired = (await this.all()).filter((silence) => silence.endsAt <= now).map((silence) => silence.id);
    if (expired.length > 0) await this.redis.hdel(this.keys.silences(), ...expired);
  }
}
