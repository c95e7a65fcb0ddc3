// Proxies in front of the test server that fail the way networks do.
import { request, createServer as createHttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/** A TCP proxy to the server that can go down (cutting every connection) and come back. */
export async function startProxy(target: string) {
  const { hostname, port } = new URL(target);
  let up = true;
  const sockets = new Set<Socket>();
  const proxy = createServer((socket) => {
    if (!up) return void socket.destroy();
    const upstream = connect(Number(port), hostname);
    for (const s of [socket, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    socket.pipe(upstream).pipe(socket);
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port: proxyPort } = proxy.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${proxyPort}`,
    setUp(value: boolean) {
      up = value;
      if (!value) for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        proxy.close(() => resolve());
      }),
  };
}

/**
 * An HTTP proxy that can lose the answers of the action endpoint: the request reaches the
 * server (which applies it), the answer is read, and the connection to the client is cut.
 */
export async function startLossyProxy(target: string) {
  const { hostname, port } = new URL(target);
  let lose = false;
  let actionRequests = 0;
  const proxy = createHttpServer((incoming, outgoing) => {
    const isAction = incoming.method === 'POST' && /\/actions(\?|$)/.test(incoming.url ?? '');
    if (isAction) actionRequests += 1;
    const upstream = request(
      {
        hostname,
        port: Number(port),
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (answer) => {
        if (isAction && lose) {
          answer.resume();
          answer.on('end', () => incoming.socket.destroy());
          return;
        }
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    upstream.on('error', () => incoming.socket.destroy());
    incoming.pipe(upstream);
  });
  const sockets = new Set<Socket>();
  proxy.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port: proxyPort } = proxy.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${proxyPort}`,
    loseActionAnswers(value: boolean) {
      lose = value;
    },
    actionRequests: () => actionRequests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        proxy.close(() => resolve());
      }),
  };
}
