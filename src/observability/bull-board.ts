import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type express from 'express';
import type { RequestHandler, Response } from 'express';

/**
 * bull-board's page: its scripts, styles, images and API calls come from this server only, and it is
 * never framed. Its styles are partly inline, hence 'unsafe-inline' for styles (not for scripts).
 */
const BOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'self'; form-action 'none'; frame-ancestors 'none'";

/**
 * The CSP of bull-board's page, and its page without the stylesheet links to other sites: it
 * links Google Fonts, which would tell Google about every view of the board (the CSP blocks it
 * anyway; removing the link spares the browser a refused request). The board then uses the
 * system font.
 */
function boardPagePolicy(): RequestHandler {
  return (_request, response, next) => {
    response.setHeader('Content-Security-Policy', BOARD_CSP);
    const render = response.render.bind(response);
    response.render = ((view: string, options?: object) => {
      render(view, options ?? {}, (error: Error | null, html?: string) => {
        if (error) return next(error);
        response.send((html ?? '').replace(/<link\b[^>]*\bhref="(?:https?:)?\/\/[^"]*"[^>]*>/gi, ''));
      });
    }) as Response['render'];
    next();
  };
}

/**
 * Mounts bull-board at `/queues`, read-only: retrying or removing tasks is for the CLI
 * (`gem-watch notifications`), not for a page that may be reachable without a token on loopback.
 */
export function mountBullBoard(app: express.Express, queues: readonly Queue[]): void {
  const board = new ExpressAdapter();
  board.setBasePath('/queues');
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: true, allowRetries: false })),
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'gem-watch queues' } },
  });
  // bull-board is an Express app of its own, with Express's X-Powered-By on.
  (board.getRouter() as express.Express).disable('x-powered-by');
  app.use('/queues', boardPagePolicy(), board.getRouter());
}
