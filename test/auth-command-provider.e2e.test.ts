import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommandTokenProvider } from '../src/gem/auth/command-token-provider.js';
import { CachedTokenProvider } from '../src/gem/auth/cached-token-provider.js';
import { isTokenCommandError } from '../src/gem/auth/token-command-error.js';
import { serializeError } from '../src/telemetry/redact.js';
import { FakeAz, makeJwt, processGone } from './auth-fake-az.js';
import { rejection } from './helpers/rejection.js';

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i += 1) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`gave up waiting for ${what}`);
}

const failure = (provider: CommandTokenProvider) => rejection(provider.fetchToken(), isTokenCommandError);

/** Everything an error could show: message, stack, serialized form with its causes. */
function everythingShown(error: Error): string {
  return [error.message, error.stack ?? '', JSON.stringify(serializeError(error)), String(error.cause)].join('\n');
}

describe('CommandTokenProvider with an az-style command', () => {
  let az: FakeAz;
  const token = makeJwt(2_000_000_000, 'command-test');

  beforeEach(() => {
    az = new FakeAz().setToken(token);
  });
  afterEach(() => az.close());

  it('reads the plain token that --query accessToken -o tsv prints', async () => {
    const provider = new CommandTokenProvider({ command: az.command() });
    expect(await provider.fetchToken()).toEqual({ token });
    expect(az.runs()).toBe(1);
  });

  it("reads az's JSON with expires_on, the older JSON with a local expiresOn, and the whole tsv", async () => {
    az.setExpiresOn(1_900_000_000);
    const json = new CommandTokenProvider({ command: az.command('account get-access-token') });
    expect(await json.fetchToken()).toEqual({ token, expiresAt: 1_900_000_000_000 });
    az.setFormat('json-legacy');
    // The local date string has whole seconds, so it lands on the same instant.
    expect(await json.fetchToken()).toEqual({ token, expiresAt: 1_900_000_000_000 });
    az.setFormat(undefined);
    const tsv = new CommandTokenProvider({ command: az.command('account get-access-token -o tsv') });
    expect(await tsv.fetchToken()).toEqual({ token, expiresAt: 1_900_000_000_000 });
  });

  it('reports a non-zero exit without quoting the output, with a hint when az asks for a login', async () => {
    az.setBehaviour('fail');
    const provider = new CommandTokenProvider({ command: az.command() });
    const error = await failure(provider);
    expect(error).toMatchObject({ failure: 'exit', exitCode: 1, reason: 'auth', retryable: true });
    expect(error.message).toMatch(/GEM_BEARER_TOKEN_COMMAND\) exited with code 1/);
    expect(error.cause).toBeInstanceOf(Error);
    expect(everythingShown(error)).not.toContain('token cache could not be read');
    expect(everythingShown(error)).not.toContain(az.dir);

    az.setBehaviour('fail-login');
    const login = await failure(provider);
    expect(login.message).toContain('az login');
    expect(everythingShown(login)).not.toContain('AADSTS70043');
  });

  it('names a command that cannot be found', async () => {
    const error = await failure(new CommandTokenProvider({ command: 'gem-watch-no-such-program --query accessToken' }));
    expect(error.failure).toBe('exit');
    expect(error.exitCode).toBe(127);
    expect(error.message).toMatch(/not be installed or on PATH/);
  });

  it('kills a command that hangs, with everything it started, and says it timed out', async () => {
    az.setBehaviour('hang');
    const provider = new CommandTokenProvider({ command: az.command(), timeoutMs: 300 });
    const error = await failure(provider);
    expect(error.failure).toBe('timeout');
    expect(error.message).toContain('did not finish within 300 ms');
    await waitFor(() => az.hangPids().length === 2, 'the fake to record its pids');
    for (const pid of az.hangPids()) await waitFor(() => processGone(pid), `process ${pid} to be killed`);
  });

  it('reports empty output and output that is no token, without quoting it', async () => {
    az.setBehaviour('empty');
    const provider = new CommandTokenProvider({ command: az.command() });
    expect((await failure(provider)).failure).toBe('empty');
    az.setBehaviour('garbage');
    const garbage = await failure(provider);
    expect(garbage.failure).toBe('badOutput');
    expect(everythingShown(garbage)).not.toContain('this is not a token');
  });

  it('refuses output larger than a token could be', async () => {
    const provider = new CommandTokenProvider({ command: 'yes abcdefghij | head -c 200000', maxOutputBytes: 10_000 });
    const error = await failure(provider);
    expect(error.failure).toBe('tooLarge');
    expect(everythingShown(error)).not.toContain('abcdefghij');
  });

  it('runs the command once for twenty concurrent callers behind the cache', async () => {
    az.setDelay(0.2);
    const provider = new CachedTokenProvider(new CommandTokenProvider({ command: az.command() }));
    const tokens = await Promise.all(Array.from({ length: 20 }, () => provider.getToken()));
    expect(new Set(tokens)).toEqual(new Set([token]));
    expect(az.runs()).toBe(1);
    await provider.getToken();
    expect(az.runs()).toBe(1);
  });

  it('fetches the rotated token after GEM refused the old one', async () => {
    const provider = new CachedTokenProvider(new CommandTokenProvider({ command: az.command() }));
    expect(await provider.getToken()).toBe(token);
    const rotated = makeJwt(2_000_000_000, 'rotated');
    az.setToken(rotated);
    expect(await provider.getToken()).toBe(token);
    provider.invalidate(token);
    expect(await provider.getToken()).toBe(rotated);
    expect(az.runs()).toBe(2);
  });
});
