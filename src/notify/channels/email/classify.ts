import { scrub } from '../../../telemetry/redact.js';
import { DeliveryError } from '../../errors.js';

/**
 * Classifies a nodemailer failure once. SMTP's own rule decides when the server answered: 4yz is
 * transient (retry), 5yz permanent (give up), except 503 "bad sequence", which a new connection
 * cures (nodemailer's `permanent` flag says the same). Without an answer: timeouts and broken
 * connections retry; missing or refused credentials and bad configuration do not.
 */

interface NodemailerFailure extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  permanent?: boolean;
  command?: string;
}

const NO_ANSWER_RETRYABLE = new Set(['ECONNECTION', 'ESOCKET', 'EDNS', 'ETLS', 'EPROTOCOL', 'ESTREAM', 'EMAXLIMIT', 'EPROXY']);
const PERMANENT_CONFIG = new Set(['ECONFIG', 'ENOAUTH', 'EOAUTH2', 'EREQUIRETLS', 'EMAXRECIPIENTS', 'EFILEACCESS', 'EURLACCESS']);

/** The server's reply, on one line and bounded: it is logged and stored. */
function reply(text: string | undefined): string {
  return scrub((text ?? '').replace(/\s+/g, ' ').trim()).slice(0, 300);
}

export function classifyEmailFailure(error: unknown): DeliveryError {
  const channel = 'email';
  const failure = (error instanceof Error ? error : new Error(String(error))) as NodemailerFailure;
  const code = failure.code;
  const status = failure.responseCode;

  if (typeof status === 'number' && status >= 400) {
    const permanent = failure.permanent ?? (status >= 500 && status !== 503);
    const auth = status === 535 || status === 534 || status === 530 || status === 454 || code === 'EAUTH';
    const answer = `SMTP server answered ${reply(failure.response) || status}${failure.command ? ` to ${failure.command.split(' ')[0]}` : ''}`;
    return new DeliveryError(permanent ? `${answer} (not retried)` : answer, {
      reason: auth ? 'auth' : permanent ? 'clientError' : 'serverError',
      retryable: !permanent,
      channel,
      status,
      code,
      cause: error,
    });
  }
  const detail = `${scrub(failure.message)}${code ? ` (${code})` : ''}`;
  if (code === 'ETIMEDOUT' || code === 'EABORT') {
    return new DeliveryError(`SMTP server did not answer in time: ${detail}`, { reason: 'timeout', retryable: true, channel, code, cause: error });
  }
  if (code === 'EAUTH') {
    return new DeliveryError(`SMTP login refused: ${detail} (not retried)`, { reason: 'auth', retryable: false, channel, code, cause: error });
  }
  if (code !== undefined && PERMANENT_CONFIG.has(code)) {
    return new DeliveryError(`SMTP delivery impossible as configured: ${detail} (not retried)`, {
      reason: code === 'ENOAUTH' || code === 'EOAUTH2' ? 'auth' : 'clientError',
      retryable: false,
      channel,
      code,
      cause: error,
    });
  }
  if (code === 'EENVELOPE') {
    return new DeliveryError(`SMTP envelope refused: ${detail} (not retried)`, { reason: 'clientError', retryable: false, channel, code, cause: error });
  }
  if (code !== undefined && NO_ANSWER_RETRYABLE.has(code)) {
    return new DeliveryError(`SMTP server unreachable: ${detail}`, { reason: 'serverError', retryable: true, channel, code, cause: error });
  }
  // Unknown failures retry: giving up would lose a mail, retrying costs at most the attempts.
  return new DeliveryError(`SMTP delivery failed: ${detail}`, { reason: 'serverError', retryable: true, channel, code, cause: error });
}
