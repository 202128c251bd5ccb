import { afterEach, describe, expect, it, vi } from 'vitest';
import type { IAgoraRTC } from 'agora-rtc-sdk-ng';
import type { RtcTokenDto } from '$contracts/classrooms.ts';
import type { AckResult } from '$contracts/errors.ts';
import { ClassroomVideo } from './video.svelte.ts';

const NOW = Date.parse('2026-01-01T10:00:00.000Z');

function token(role: RtcTokenDto['role'], value: string, expiresInMs = 3_600_000): RtcTokenDto {
  return { appId: 'app', channel: 'class-1', uid: 7, token: value, role, expiresAt: new Date(NOW + expiresInMs).toISOString() };
}

/** Records what the page asks of the video SDK; tracks and the client do nothing else. */
function fakeSdk() {
  const calls: string[] = [];
  const track = (kind: string) => ({
    setMuted: async (muted: boolean) => void calls.push(`${kind}.muted=${muted}`),
    play: () => {},
    close: () => void calls.push(`${kind}.close`),
  });
  const client = {
    on: () => {},
    removeAllListeners: () => {},
    setClientRole: async (role: string) => void calls.push(`role=${role}`),
    join: async (_app: string, _channel: string, value: string, uid: number) => void calls.push(`join ${value} ${uid}`),
    publish: async () => void calls.push('publish'),
    unpublish: async () => void calls.push('unpublish'),
    renewToken: async (value: string) => void calls.push(`renew ${value}`),
    leave: async () => void calls.push('leave'),
    subscribe: async () => {},
  };
  const sdk = {
    createClient: () => client,
    createMicrophoneAndCameraTracks: async () => [track('mic'), track('camera')],
  } as unknown as IAgoraRTC;
  return { sdk, calls };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ClassroomVideo', () => {
  it('shows the not-configured placeholder when the server has no video, without loading the SDK', async () => {
    const loadSdk = vi.fn();
    const video = new ClassroomVideo({
      fetchToken: async () => ({ ok: false, error: { code: 'unavailable', message: 'Video is not configured.' } }),
      loadSdk,
    });
    await video.start();
    expect(video.status).toBe('unconfigured');
    expect(video.message).toMatch(/not configured/);
    expect(loadSdk).not.toHaveBeenCalled();
  });

  it('watches as a subscriber and switches to publishing when a stage token is pushed, and back', async () => {
    const { sdk, calls } = fakeSdk();
    const video = new ClassroomVideo({ fetchToken: async () => ({ ok: true, data: token('subscriber', 't1') }), loadSdk: async () => sdk, now: () => NOW });
    await video.start();
    expect(video.status).toBe('connected');
    expect(calls).toEqual(['role=audience', 'join t1 7']);

    await video.applyToken(token('publisher', 't2'));
    expect(video.role).toBe('publisher');
    expect(calls.slice(2)).toEqual(['renew t2', 'role=host', 'mic.muted=false', 'camera.muted=false', 'publish']);

    await video.obeyMuteAll();
    expect(video.micMuted).toBe(true);
    expect(calls.at(-1)).toBe('mic.muted=true');

    await video.applyToken(token('subscriber', 't3'));
    expect(calls.slice(-5)).toEqual(['renew t3', 'unpublish', 'mic.close', 'camera.close', 'role=audience']);
    await video.stop();
  });

  it('renews the token a minute before it expires', async () => {
    vi.useFakeTimers({ now: NOW });
    const { sdk, calls } = fakeSdk();
    const tokens: AckResult<RtcTokenDto>[] = [
      { ok: true, data: token('subscriber', 'first', 10 * 60_000) },
      { ok: true, data: token('subscriber', 'second', 10 * 60_000) },
    ];
    const fetchToken = vi.fn(async () => tokens.shift()!);
    const video = new ClassroomVideo({ fetchToken, loadSdk: async () => sdk, now: () => Date.now() });
    await video.start();
    await vi.advanceTimersByTimeAsync(9 * 60_000 - 1_000);
    expect(fetchToken).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fetchToken).toHaveBeenCalledTimes(2);
    expect(calls).toContain('renew second');
    await video.stop();
  });

  it('leaves the video when the server stops issuing tokens (the class ended)', async () => {
    vi.useFakeTimers({ now: NOW });
    const { sdk, calls } = fakeSdk();
    const answers: AckResult<RtcTokenDto>[] = [
      { ok: true, data: token('subscriber', 'first', 2 * 60_000) },
      { ok: false, error: { code: 'conflict', message: 'This class has ended.' } },
    ];
    const video = new ClassroomVideo({ fetchToken: async () => answers.shift()!, loadSdk: async () => sdk, now: () => Date.now() });
    await video.start();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(video.status).toBe('stopped');
    expect(video.message).toBe('Video ended: This class has ended.');
    expect(calls.at(-1)).toBe('leave');
  });
});
