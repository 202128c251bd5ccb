import { execFileSync } from 'node:child_process';
import { createDecipheriv, createECDH, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

/*
 * A browser push service on loopback: an https server (a throw-away self-signed certificate, trusted through `agent`)
 * that records every push — its headers (Authorization: vapid t=…, k=…; Content-Encoding; TTL) and its encrypted body —
 * and answers 201, or whatever status a device's endpoint was told to answer (404, 410 for a gone subscription).
 * `device()` plays a browser: its own P-256 key pair and auth secret, and it decrypts what it was sent (RFC 8291).
 */

export interface ReceivedPush {
  deviceId: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface FakePushDevice {
  id: string;
  /** What the browser would post as its PushSubscription. */
  subscription: { endpoint: string; keys: { p256dh: string; auth: string } };
  /** Decrypts an aes128gcm push sent to this device. */
  decrypt(body: Buffer): string;
  /** From now on this endpoint answers `status` (e.g. 410 Gone: the browser unsubscribed). */
  answer(status: number): void;
}

export interface FakePushService {
  url: string;
  /** Trusts this service's certificate, for the node's push settings. */
  agent: https.Agent;
  received: ReceivedPush[];
  device(): FakePushDevice;
  close(): Promise<void>;
}

function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'edulure-push-tls-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile,
    ], { stdio: 'ignore' });
    return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();

export async function startFakePushService(): Promise<FakePushService> {
  const { key, cert } = selfSignedCertificate();
  const statuses = new Map<string, number>();
  const received: ReceivedPush[] = [];
  const server = https.createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const deviceId = (req.url ?? '').replace(/^\/push\//, '');
      received.push({ deviceId, headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(statuses.get(deviceId) ?? 201).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = new https.Agent({ ca: cert, keepAlive: false });

  return {
    url,
    agent,
    received,
    device() {
      const id = randomBytes(8).toString('hex');
      const ecdh = createECDH('prime256v1');
      const uaPublic = ecdh.generateKeys();
      const authSecret = randomBytes(16);
      return {
        id,
        subscription: { endpoint: `${url}/push/${id}`, keys: { p256dh: uaPublic.toString('base64url'), auth: authSecret.toString('base64url') } },
        answer: (status) => void statuses.set(id, status),
        decrypt(body) {
          // Header: salt (16) | record size (4) | key id length (1) | key id (the sender's public key) | ciphertext.
          const salt = body.subarray(0, 16);
          const idLength = body.readUInt8(20);
          const asPublic = body.subarray(21, 21 + idLength);
          const ciphertext = body.subarray(21 + idLength);
          const ecdhSecret = ecdh.computeSecret(asPublic);
          const prkKey = hmac(authSecret, ecdhSecret);
          const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic]);
          const ikm = hmac(prkKey, Buffer.concat([keyInfo, Buffer.from([1])]));
          const prk = hmac(salt, ikm);
          const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01')).subarray(0, 16);
          const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01')).subarray(0, 12);
          const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
          decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
          const padded = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()]);
          // The last record ends with the delimiter 0x02, then zero padding.
          let end = padded.length - 1;
          while (end >= 0 && padded[end] === 0) end--;
          if (padded[end] !== 2) throw new Error('not a last record');
          return padded.subarray(0, end).toString('utf8');
        },
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
