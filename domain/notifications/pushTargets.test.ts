import { describe, expect, it } from 'vitest';
import { checkPushEndpoint, isPrivateAddress, publicOnlyLookup } from './pushTargets.ts';

/* Push endpoints in production: only public hosts (the server must not be made to POST into its own network). */
describe('push endpoint targets', () => {
  it('tells private, loopback, link-local and mapped addresses from public ones', () => {
    for (const address of ['127.0.0.1', '10.2.3.4', '172.20.0.1', '192.168.1.10', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', 'not-an-ip']) {
      expect(isPrivateAddress(address), address).toBe(true);
    }
    for (const address of ['142.250.74.106', '8.8.8.8', '2a00:1450:4001:82b::200a', '::ffff:8.8.8.8']) {
      expect(isPrivateAddress(address), address).toBe(false);
    }
  });

  it('refuses endpoints on local names and private addresses unless private endpoints are allowed', () => {
    for (const endpoint of [
      'https://localhost/push/1',
      'https://127.0.0.1:8443/push/1',
      'https://[::1]/push/1',
      'https://10.0.0.5/push',
      'https://169.254.169.254/latest/meta-data',
      'https://printer/push',
      'https://push.corp.internal/x',
      'https://box.local/x',
    ]) {
      expect(() => checkPushEndpoint(endpoint, false), endpoint).toThrow(/public address/);
      expect(() => checkPushEndpoint(endpoint, true), endpoint).not.toThrow();
    }
    for (const endpoint of ['https://fcm.googleapis.com/fcm/send/abc', 'https://updates.push.services.mozilla.com/wpush/v2/x', 'https://142.250.74.106/x']) {
      expect(() => checkPushEndpoint(endpoint, false), endpoint).not.toThrow();
    }
  });

  it('its DNS lookup refuses a name that resolves to a private address', async () => {
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => publicOnlyLookup('localhost', {}, (e) => resolve(e)));
    expect(err?.code).toBe('EPRIVATEADDRESS');
  });
});
