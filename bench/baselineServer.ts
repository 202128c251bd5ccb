import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The bare baseline: node:http answering a fixed JSON body, no auth, no database. */
export async function startBaselineServer(body: unknown): Promise<{ url: string; close(): Promise<void> }> {
  const payload = JSON.stringify(body);
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
