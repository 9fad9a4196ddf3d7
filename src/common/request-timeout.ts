import { IncomingMessage, Server, STATUS_CODES } from 'node:http';
import { Socket } from 'node:net';

const exempt = new WeakSet<Socket>();
const patched = new WeakSet<Server>();

const CLIENT_ERROR_STATUS: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};

/**
 * Lets `request`'s body take longer than the server's `requestTimeout` (Node's default 300 s
 * would cut a slow big upload); the caller bounds it with an idle timeout of its own. Returns
 * the function that ends the exemption. Every other request keeps the server's timeouts.
 * A server whose app already listens to `clientError` is left alone.
 */
export function exemptFromRequestTimeout(request: IncomingMessage): () => void {
  const socket = request.socket;
  const server = (socket as Socket & { server?: Server }).server;
  if (server && !patched.has(server) && server.listenerCount('clientError') === 0) {
    patched.add(server);
    server.on('clientError', (error: NodeJS.ErrnoException, client: Socket) => {
      if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT' && exempt.has(client)) return;
      answerClientError(error, client);
    });
  }
  exempt.add(socket);
  return () => exempt.delete(socket);
}

/** What Node does with a client error when nobody listens: a bare 4xx if nothing was sent yet, then close. */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  const response = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !response?.headersSent) {
    const status = CLIENT_ERROR_STATUS[error.code ?? ''] ?? 400;
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`);
  }
  socket.destroy(error);
}
