/**
 * Fastify's own lines about each request ("incoming request", "request completed", a client that went away) at
 * `debug`: at the default level the terminal that shows the banner and its one-time tokens is not scrolled away
 * by a line per request — the dashboard alone makes several a second. LOG_LEVEL=debug brings them back. What goes
 * wrong is still said at `info` and above: a request that errored, a failed serializer, and (in errors.ts) every
 * 5xx answer.
 */
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

export class RequestLogController extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return;
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (error) {
      super.requestCompleted(error, request, reply);
      return;
    }
    if (this.isLogDisabled(request)) return;
    reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }

  override routeNotFound(request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return;
    request.log.debug(`no route ${request.raw.method ?? ''} ${request.raw.url ?? ''}`);
  }

  /** A 4xx is the caller's mistake, answered in the response; a 5xx stays an error. */
  override defaultErrorLog(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    if (reply.statusCode >= 500) {
      super.defaultErrorLog(error, request, reply);
      return;
    }
    if (this.isLogDisabled(request)) return;
    reply.log.debug({ res: reply, err: error }, error.message);
  }

  /** A client closing a stream (the dashboard's live events when a tab closes) is routine. */
  override streamError(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    if ((error as { code?: unknown }).code !== 'ERR_STREAM_PREMATURE_CLOSE') {
      super.streamError(error, request, reply);
      return;
    }
    if (this.isLogDisabled(request)) return;
    reply.log.debug({ res: reply }, 'stream closed prematurely');
  }
}
