import { describe, expect, it } from 'vitest';
import { parseRedisUrl, prefixHasHashTag, redisTarget, redisUrlHosts, redisUrlPassword } from './redis-url.js';

describe('parseRedisUrl', () => {
  it('keeps redis:// and rediss:// as they are, for ioredis to read', () => {
    expect(parseRedisUrl('rediss://:pw@h:6380/2')).toEqual({ mode: 'standalone', url: 'rediss://:pw@h:6380/2' });
  });

  it('reads the seeds of a cluster, with percent-encoded credentials, IPv6 and default ports', () => {
    expect(parseRedisUrl('rediss+cluster://app:p%40ss%3Aw@10.0.0.1:7000,[::1]:7001,node-c')).toEqual({
      mode: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '::1', port: 7001 },
        { host: 'node-c', port: 6379 },
      ],
      username: 'app',
      password: 'p@ss:w',
      tls: true,
    });
  });

  it('reads the Sentinels and the master name; a password alone is the data nodes\'', () => {
    expect(parseRedisUrl('redis+sentinel://:secret@s1:26379,s2/mymaster')).toEqual({
      mode: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      masterName: 'mymaster',
      password: 'secret',
      tls: false,
    });
    expect(redisTarget({ url: 'redis+sentinel://s1/mymaster', sentinelPassword: 'sp' })).toMatchObject({ mode: 'sentinel', sentinelPassword: 'sp' });
  });

  it('finds the password of every form for the redactor, and names hosts without it', () => {
    expect(redisUrlPassword('redis+cluster://:p%25w@h1:1,h2:2')).toBe('p%w');
    expect(redisUrlPassword('redis://:pw@h:1')).toBe('pw');
    expect(redisUrlPassword('redis+sentinel://h/m')).toBeUndefined();
    expect(redisUrlHosts('redis+sentinel://:pw@s1:1,[::1]:2/m')).toBe('s1:1,[::1]:2/m');
    expect(redisUrlHosts('redis+cluster://:pw@h1:1,h2:2')).toBe('h1:1,h2:2');
  });
});

describe('prefixHasHashTag', () => {
  it('holds only when the first { is closed inside the prefix around something', () => {
    for (const prefix of ['{gemwatch}', 'prod-{gw}', '{a}{b', 'x{y}z']) expect(prefixHasHashTag(prefix), prefix).toBe(true);
    for (const prefix of ['gemwatch', '{}gemwatch', 'gem{watch', 'gem}watch{', '{']) expect(prefixHasHashTag(prefix), prefix).toBe(false);
  });
});
