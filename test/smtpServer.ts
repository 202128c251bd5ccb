import net from 'node:net';

export interface ReceivedMail {
  from: string;
  to: string[];
  data: string;
}

export interface FakeSmtpServer {
  url: string;
  /** Messages accepted (250 after DATA). */
  received: ReceivedMail[];
  /** Messages refused with a temporary failure (451 after DATA). */
  refused: number;
  /** The next `n` messages are refused with 451 (a transient failure: the sender should retry). */
  refuseNext(n: number): void;
  close(): Promise<void>;
}

/**
 * A minimal SMTP server on loopback — greeting, EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT, no TLS, no auth — so
 * tests drive the real SMTP transport through a real socket.
 */
export async function startFakeSmtpServer(): Promise<FakeSmtpServer> {
  let toRefuse = 0;
  const state: FakeSmtpServer = {
    url: '',
    received: [],
    refused: 0,
    refuseNext: (n) => void (toRefuse = n),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const reply = (line: string) => socket.write(`${line}\r\n`);
    let buffer = '';
    let mail: ReceivedMail | null = null;
    let inData = false;
    let data: string[] = [];
    reply('220 fake-smtp ready');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let end: number;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (inData) {
          if (line !== '.') {
            data.push(line.startsWith('..') ? line.slice(1) : line);
            continue;
          }
          inData = false;
          if (toRefuse > 0) {
            toRefuse--;
            state.refused++;
            reply('451 4.3.0 try again later');
          } else {
            state.received.push({ ...mail!, data: data.join('\r\n') });
            reply('250 2.0.0 queued');
          }
          mail = null;
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') reply('250-fake-smtp\r\n250 8BITMIME');
        else if (verb === 'HELO' || verb === 'NOOP') reply('250 ok');
        else if (verb === 'MAIL') {
          mail = { from: line.replace(/^MAIL FROM:\s*/i, ''), to: [], data: '' };
          reply('250 ok');
        } else if (verb === 'RCPT') {
          mail?.to.push(line.replace(/^RCPT TO:\s*/i, ''));
          reply('250 ok');
        } else if (verb === 'DATA') {
          inData = true;
          data = [];
          reply('354 end with <CRLF>.<CRLF>');
        } else if (verb === 'RSET') {
          mail = null;
          reply('250 ok');
        } else if (verb === 'QUIT') {
          reply('221 bye');
          socket.end();
        } else reply('502 not implemented');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  state.url = `smtp://127.0.0.1:${port}`;
  const close = state.close;
  state.close = async () => {
    for (const socket of sockets) socket.destroy();
    await close();
  };
  return state;
}
