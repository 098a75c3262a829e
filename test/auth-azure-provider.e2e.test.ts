import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AzureTokenProvider, DEFAULT_AZURE_SCOPE } from '../src/gem/auth/azure-token-provider.js';
import { isAzureTokenError } from '../src/gem/auth/azure-token-error.js';
import { CachedTokenProvider } from '../src/gem/auth/cached-token-provider.js';
import { serializeError } from '../src/telemetry/redact.js';
import { FakeAz, makeJwt } from './auth-fake-az.js';

/**
 * The azure provider with @azure/identity's real AzureCliCredential, which runs `az` from PATH:
 * here the fake, so the credential's own parsing of az's JSON is exercised too.
 */
describe('AzureTokenProvider with AzureCliCredential and an az on PATH', () => {
  const az = new FakeAz();
  const saved = { PATH: process.env.PATH, FAKE_AZ_STATE: process.env.FAKE_AZ_STATE };

  beforeAll(() => {
    process.env.PATH = `${az.binDir()}:${process.env.PATH ?? ''}`;
    process.env.FAKE_AZ_STATE = az.dir;
  });
  afterAll(() => {
    process.env.PATH = saved.PATH;
    if (saved.FAKE_AZ_STATE === undefined) delete process.env.FAKE_AZ_STATE;
    else process.env.FAKE_AZ_STATE = saved.FAKE_AZ_STATE;
    az.close();
  });
  beforeEach(() => {
    az.setBehaviour('ok').setFormat(undefined);
  });

  it('gets the token and its expiry for the configured scope', async () => {
    const token = makeJwt(1_900_000_000, 'azure');
    az.setToken(token).setExpiresOn(1_900_000_000);
    const provider = new AzureTokenProvider({ credential: 'cli', timeoutMs: 10_000 });
    expect(provider.scope).toBe(DEFAULT_AZURE_SCOPE);
    expect(await provider.fetchToken()).toEqual({ token, expiresAt: 1_900_000_000_000 });
  });

  it('is cached like the command provider: one az run for twenty callers', async () => {
    az.setToken(makeJwt(Math.floor(Date.now() / 1000) + 3600, 'azure-cached'));
    const before = az.runs();
    const provider = new CachedTokenProvider(new AzureTokenProvider({ credential: 'cli' }));
    await Promise.all(Array.from({ length: 20 }, () => provider.getToken()));
    expect(az.runs() - before).toBe(1);
    expect(provider.kind).toBe('azure');
  });

  it("passes on Azure's advice when az wants a login, as an AzureTokenError", async () => {
    az.setBehaviour('fail-login');
    const error = await new AzureTokenProvider({ credential: 'cli' }).fetchToken().catch((thrown: unknown) => thrown);
    expect(isAzureTokenError(error)).toBe(true);
    expect((error as Error).message).toMatch(/AzureCliCredential.*az login/);
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('masks a token that az printed in a form the credential could not parse', async () => {
    const token = makeJwt(1_900_000_000, 'unparseable');
    az.setToken(token).setFormat('plain');
    const error = await new AzureTokenProvider({ credential: 'cli' }).fetchToken().catch((thrown: unknown) => thrown);
    expect(isAzureTokenError(error)).toBe(true);
    const surface = [(error as Error).message, (error as Error).stack, JSON.stringify(serializeError(error as Error))].join('\n');
    expect(surface).not.toContain(token);
  });
});
