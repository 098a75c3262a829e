import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `az`-style script (test/fixtures/fake-az). */
export const FAKE_AZ = fileURLToPath(new URL('./fixtures/fake-az', import.meta.url));

export type FakeAzBehaviour = 'ok' | 'fail' | 'fail-login' | 'hang' | 'empty' | 'garbage';
export type FakeAzFormat = 'json' | 'json-legacy' | 'tsv' | 'plain';

function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** One fake `az` with its own state directory: what it prints, and how often it ran. */
export class FakeAz {
  readonly dir = mkdtempSync(join(tmpdir(), 'gem-watch-fake-az-'));

  setToken(token: string): this {
    writeFileSync(join(this.dir, 'token'), token);
    return this;
  }
  setBehaviour(behaviour: FakeAzBehaviour): this {
    writeFileSync(join(this.dir, 'behaviour'), behaviour);
    return this;
  }
  setFormat(format: FakeAzFormat | undefined): this {
    if (format === undefined) rmSync(join(this.dir, 'format'), { force: true });
    else writeFileSync(join(this.dir, 'format'), format);
    return this;
  }
  /** Expiry the JSON and tsv forms print, in epoch seconds. */
  setExpiresOn(epochSeconds: number): this {
    writeFileSync(join(this.dir, 'expires_on'), String(epochSeconds));
    return this;
  }
  /** Seconds to wait before answering, so concurrent callers surely overlap the run. */
  setDelay(seconds: number): this {
    writeFileSync(join(this.dir, 'delay'), String(seconds));
    return this;
  }
  runs(): number {
    const file = join(this.dir, 'runs');
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
  }
  /** PIDs of the hanging shell and its sleep, once written. */
  hangPids(): number[] {
    return ['hang.pid', 'sleep.pid']
      .map((name) => join(this.dir, name))
      .filter((file) => existsSync(file))
      .map((file) => Number(readFileSync(file, 'utf8').trim()));
  }
  /** A GEM_BEARER_TOKEN_COMMAND line running this fake. */
  command(args = 'account get-access-token --scope https://gem.core.orbis.tomtom.com/user_impersonation --query accessToken -o tsv'): string {
    return `${quote(FAKE_AZ)} --state ${quote(this.dir)} ${args}`;
  }
  /** A directory holding `az` (a link to the fake), to put first on PATH for AzureCliCredential. */
  binDir(): string {
    const bin = join(this.dir, 'bin');
    if (!existsSync(bin)) {
      mkdirSync(bin);
      symlinkSync(FAKE_AZ, join(bin, 'az'));
    }
    return bin;
  }
  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** An unsigned JWT expiring at `expSeconds` (epoch seconds); `id` makes tokens distinct. */
export function makeJwt(expSeconds: number, id: string = Math.random().toString(36).slice(2)): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ aud: 'https://gem.core.orbis.tomtom.com', exp: expSeconds, jti: id, oid: 'user-1' })}.c2lnbmF0dXJlLW5vdC1jaGVja2Vk`;
}

/** True once the process has ended: no such PID, or a zombie waiting for its parent to reap it. */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    // Field 3 of /proc/PID/stat is the state; the name before it is in parentheses.
    return /\)\s+Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
