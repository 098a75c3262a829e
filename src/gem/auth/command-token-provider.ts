import { spawn } from 'node:child_process';
import { parseTokenOutput } from './parse-token-output.js';
import { TokenCommandError } from './token-command-error.js';
import type { FetchedToken, TokenSource } from './token-source.js';

export interface CommandTokenProviderOptions {
  /** Shell command that prints a token, e.g. `az account get-access-token --scope … --query accessToken -o tsv`. */
  command: string;
  /** How long the command may run before it is killed, in milliseconds. Default 30 000. */
  timeoutMs?: number;
  /** Most bytes of standard output accepted; more is an error. Default 1 MiB (a token is a few KiB). */
  maxOutputBytes?: number;
  /** Environment of the command. Default: this process's environment. */
  env?: NodeJS.ProcessEnv;
}

const WHERE = 'the bearer token command (GEM_BEARER_TOKEN_COMMAND)';
const NOT_SHOWN = 'its output is not shown because it may hold a token; run the command by hand to see it';

/**
 * A hint drawn from the command's stderr without quoting it: stderr may echo a token, but the most
 * common failure (an expired `az login`) is worth naming.
 */
function stderrHint(stderr: string): string {
  if (/az login/i.test(stderr)) return ' It asks for `az login` to be run again.';
  if (/not found|not recognized|No such file/i.test(stderr)) return ' The program it runs may not be installed or on PATH.';
  return '';
}

/**
 * Runs a shell command for every token (the cache in front of it decides how often). The command
 * runs in its own process group so that a timeout kills it with everything it started: `az` is a
 * Python program, and killing only the shell would leave it holding the output pipe open.
 */
export class CommandTokenProvider implements TokenSource {
  readonly kind = 'command';
  private readonly timeoutMs: number;
  private readonly maxOutputBytes: number;

  constructor(private readonly options: CommandTokenProviderOptions) {
    if (options.command.trim() === '') throw new TypeError('CommandTokenProvider needs a command');
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxOutputBytes = options.maxOutputBytes ?? 1024 * 1024;
  }

  fetchToken(): Promise<FetchedToken> {
    return new Promise<FetchedToken>((resolve, reject) => {
      const ownGroup = process.platform !== 'win32';
      let child: ReturnType<typeof spawn>;
      try {
        child = spawn(this.options.command, {
          shell: true,
          detached: ownGroup,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: this.options.env ?? process.env,
          windowsHide: true,
        });
      } catch (error) {
        reject(new TokenCommandError('spawn', `${WHERE} could not be started: ${(error as Error).message}`, { cause: error }));
        return;
      }

      const stdout: Buffer[] = [];
      let stdoutBytes = 0;
      let stderr = '';
      let settled = false;

      const kill = () => {
        try {
          if (ownGroup && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
          else child.kill('SIGKILL');
        } catch {
          // Already gone.
        }
        child.stdout?.destroy();
        child.stderr?.destroy();
      };
      const fail = (error: TokenCommandError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
      };

      const timer = setTimeout(() => {
        kill();
        fail(
          new TokenCommandError('timeout', `${WHERE} did not finish within ${this.timeoutMs} ms and was killed`, {
            cause: new Error(`killed after ${this.timeoutMs} ms`),
          }),
        );
      }, this.timeoutMs);

      child.stdout!.on('data', (chunk: Buffer) => {
        stdoutBytes += chunk.length;
        if (stdoutBytes > this.maxOutputBytes) {
          kill();
          fail(new TokenCommandError('tooLarge', `${WHERE} printed more than ${this.maxOutputBytes} bytes, which cannot be a token`));
          return;
        }
        stdout.push(chunk);
      });
      child.stderr!.on('data', (chunk: Buffer) => {
        // Kept only to look for a hint; capped so a chatty command cannot grow memory.
        if (stderr.length < 16_384) stderr += chunk.toString('utf8');
      });
      child.on('error', (error) => {
        kill();
        fail(new TokenCommandError('spawn', `${WHERE} could not be started: ${error.message}`, { cause: error }));
      });
      child.on('close', (code, signal) => {
        if (settled) return;
        if (code !== 0) {
          const how = code === null ? `was ended by signal ${signal ?? 'unknown'}` : `exited with code ${code}`;
          fail(
            new TokenCommandError('exit', `${WHERE} ${how}; ${NOT_SHOWN}.${stderrHint(stderr)}`, {
              cause: new Error(`exit code ${code ?? 'none'}, signal ${signal ?? 'none'}, ${Buffer.byteLength(stderr)} bytes on stderr`),
              exitCode: code,
              signal,
            }),
          );
          return;
        }
        const parsed = parseTokenOutput(Buffer.concat(stdout).toString('utf8'));
        if (!parsed.ok) {
          fail(new TokenCommandError(parsed.problem, `${WHERE} succeeded but ${parsed.detail}; ${NOT_SHOWN}.${stderrHint(stderr)}`, {
            cause: new Error(parsed.detail),
          }));
          return;
        }
        settled = true;
        clearTimeout(timer);
        resolve(parsed.expiresAt === undefined ? { token: parsed.token } : { token: parsed.token, expiresAt: parsed.expiresAt });
      });
    });
  }
}
