/* eslint-disable svelte/prefer-svelte-reactivity -- the maps here are private bookkeeping for the video SDK; what the UI
   renders is published through $state fields. */
import type {
  IAgoraRTC,
  IAgoraRTCClient,
  IAgoraRTCRemoteUser,
  ICameraVideoTrack,
  IMicrophoneAudioTrack,
} from 'agora-rtc-sdk-ng';
import type { RtcTokenDto } from '$contracts/classrooms.ts';
import type { AckResult } from '$contracts/errors.ts';

/**
 * idle: not started; connecting: fetching a token or joining; unconfigured: the server has no video credentials;
 * connected: in the video channel; failed: video could not start (the rest of the class still works); stopped: left.
 */
export type VideoStatus = 'idle' | 'connecting' | 'unconfigured' | 'connected' | 'failed' | 'stopped';

export interface RemoteVideo {
  uid: number;
  hasVideo: boolean;
  hasAudio: boolean;
}

export interface ClassroomVideoOptions {
  /** POST rtc-token for this class (through the web server, which holds the session). */
  fetchToken: () => Promise<AckResult<RtcTokenDto>>;
  /** Loads the video SDK; only called once a token says video is configured, so it never loads otherwise. */
  loadSdk?: () => Promise<IAgoraRTC>;
  /** Renew this long before the token expires. */
  renewMarginMs?: number;
  now?: () => number;
}

const UNCONFIGURED = 'Video is not configured on this server. Everything else in the class works as usual.';
const MIN_RENEW_DELAY_MS = 5_000;
const RETRY_RENEW_MS = 10_000;

async function loadAgora(): Promise<IAgoraRTC> {
  const module = await import('agora-rtc-sdk-ng');
  const sdk = module.default;
  // The SDK chats to the console and uploads logs by default; neither helps our users.
  sdk.setLogLevel(3);
  sdk.disableLogUpload();
  return sdk;
}

/**
 * This tab's video for one class: a token from our server, the SDK loaded on demand, publishing when the token
 * says publisher (host, co-hosts, learners on stage) and watching otherwise, renewing the token before it lapses and
 * switching role when the server pushes a new token after a stage change.
 */
export class ClassroomVideo {
  status = $state<VideoStatus>('idle');
  message = $state<string | null>(null);
  role = $state<RtcTokenDto['role'] | null>(null);
  micMuted = $state(false);
  cameraOff = $state(false);
  remotes = $state.raw<RemoteVideo[]>([]);
  /** Publishing but the camera or microphone could not be opened. */
  deviceProblem = $state<string | null>(null);

  #opts: Required<ClassroomVideoOptions>;
  #sdk: IAgoraRTC | null = null;
  #client: IAgoraRTCClient | null = null;
  #token: RtcTokenDto | null = null;
  #mic: IMicrophoneAudioTrack | null = null;
  #camera: ICameraVideoTrack | null = null;
  #users = new Map<number, IAgoraRTCRemoteUser>();
  #renewTimer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;
  #localElement: HTMLElement | null = null;
  #remoteElements = new Map<number, HTMLElement>();

  constructor(options: ClassroomVideoOptions) {
    this.#opts = { loadSdk: loadAgora, renewMarginMs: 60_000, now: () => Date.now(), ...options };
  }

  get publishing(): boolean {
    return this.role === 'publisher' && this.status === 'connected';
  }

  async start(): Promise<void> {
    if (this.status !== 'idle' && this.status !== 'failed') return;
    this.#stopped = false;
    this.status = 'connecting';
    this.message = null;
    const result = await this.#opts.fetchToken();
    if (this.#stopped) return;
    if (!result.ok) {
      if (result.error.code === 'unavailable') {
        this.status = 'unconfigured';
        this.message = UNCONFIGURED;
      } else {
        this.status = 'failed';
        this.message = `Video is not available: ${result.error.message}`;
      }
      return;
    }
    try {
      await this.#join(result.data);
    } catch (err) {
      if (this.#stopped) return;
      this.status = 'failed';
      this.message = `Video could not start: ${err instanceof Error ? err.message : 'unknown error'}`;
      await this.#teardown();
    }
  }

  /** A fresh token pushed by the server after a stage change (or fetched on renewal). */
  async applyToken(token: RtcTokenDto): Promise<void> {
    if (this.#stopped || this.status === 'unconfigured') return;
    const client = this.#client;
    this.#token = token;
    this.#scheduleRenewal(token);
    if (!client) {
      // Not in the channel yet: the role takes effect when we join.
      this.role = token.role;
      return;
    }
    await client.renewToken(token.token).catch(() => {});
    if (token.role !== this.role) await this.#switchRole(token.role);
  }

  /** The host asked everyone to mute: a publisher turns off its microphone (and may turn it back on). */
  async obeyMuteAll(): Promise<void> {
    if (this.role !== 'publisher') return;
    this.micMuted = true;
    await this.#mic?.setMuted(true).catch(() => {});
  }

  async toggleMic(): Promise<void> {
    this.micMuted = !this.micMuted;
    await this.#mic?.setMuted(this.micMuted).catch(() => {});
  }

  async toggleCamera(): Promise<void> {
    this.cameraOff = !this.cameraOff;
    await this.#camera?.setMuted(this.cameraOff).catch(() => {});
  }

  /** Where our own camera shows (an attachment on the element). */
  attachLocal(element: HTMLElement): () => void {
    this.#localElement = element;
    this.#camera?.play(element);
    return () => {
      if (this.#localElement === element) this.#localElement = null;
    };
  }

  attachRemote(uid: number, element: HTMLElement): () => void {
    this.#remoteElements.set(uid, element);
    this.#users.get(uid)?.videoTrack?.play(element);
    return () => {
      if (this.#remoteElements.get(uid) === element) this.#remoteElements.delete(uid);
    };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#teardown();
    this.status = this.status === 'unconfigured' ? 'unconfigured' : 'stopped';
  }

  async #join(token: RtcTokenDto): Promise<void> {
    const sdk = (this.#sdk ??= await this.#opts.loadSdk());
    if (this.#stopped) return;
    const client = sdk.createClient({ mode: 'live', codec: 'vp8' });
    this.#client = client;
    client.on('user-published', (user, mediaType) => void this.#onPublished(user, mediaType));
    client.on('user-unpublished', (user) => this.#refreshRemote(user));
    client.on('user-left', (user) => {
      this.#users.delete(Number(user.uid));
      this.#remoteElements.delete(Number(user.uid));
      this.#publishRemotes();
    });
    client.on('token-privilege-will-expire', () => void this.#renew());
    this.#token = token;
    this.role = token.role;
    await client.setClientRole(token.role === 'publisher' ? 'host' : 'audience');
    await client.join(token.appId, token.channel, token.token, token.uid);
    if (this.#stopped) return;
    this.status = 'connected';
    this.#scheduleRenewal(token);
    if (token.role === 'publisher') await this.#publish();
  }

  async #switchRole(role: RtcTokenDto['role']): Promise<void> {
    const client = this.#client;
    this.role = role;
    if (!client) return;
    if (role === 'publisher') {
      await client.setClientRole('host');
      await this.#publish();
    } else {
      await this.#unpublish();
      await client.setClientRole('audience');
    }
  }

  async #publish(): Promise<void> {
    const sdk = this.#sdk;
    const client = this.#client;
    if (!sdk || !client) return;
    try {
      const [mic, camera] = await sdk.createMicrophoneAndCameraTracks();
      if (this.#stopped) {
        mic.close();
        camera.close();
        return;
      }
      this.#mic = mic;
      this.#camera = camera;
      await mic.setMuted(this.micMuted);
      await camera.setMuted(this.cameraOff);
      if (this.#localElement) camera.play(this.#localElement);
      await client.publish([mic, camera]);
      this.deviceProblem = null;
    } catch (err) {
      this.deviceProblem = `Your camera or microphone could not be used: ${err instanceof Error ? err.message : 'unknown error'}`;
    }
  }

  async #unpublish(): Promise<void> {
    const tracks = [this.#mic, this.#camera].filter((t) => t !== null);
    this.#mic = null;
    this.#camera = null;
    if (tracks.length > 0) await this.#client?.unpublish(tracks).catch(() => {});
    for (const track of tracks) track.close();
  }

  async #onPublished(user: IAgoraRTCRemoteUser, mediaType: 'audio' | 'video' | 'datachannel'): Promise<void> {
    const client = this.#client;
    if (!client || mediaType === 'datachannel') return;
    await client.subscribe(user, mediaType).catch(() => {});
    if (mediaType === 'audio') user.audioTrack?.play();
    this.#refreshRemote(user);
    const element = this.#remoteElements.get(Number(user.uid));
    if (mediaType === 'video' && element) user.videoTrack?.play(element);
  }

  #refreshRemote(user: IAgoraRTCRemoteUser): void {
    this.#users.set(Number(user.uid), user);
    this.#publishRemotes();
  }

  #publishRemotes(): void {
    this.remotes = [...this.#users.values()]
      .filter((u) => u.hasAudio || u.hasVideo)
      .map((u) => ({ uid: Number(u.uid), hasVideo: u.hasVideo, hasAudio: u.hasAudio }));
  }

  #scheduleRenewal(token: RtcTokenDto): void {
    if (this.#renewTimer) clearTimeout(this.#renewTimer);
    const due = Date.parse(token.expiresAt) - this.#opts.renewMarginMs - this.#opts.now();
    this.#renewTimer = setTimeout(() => {
      this.#renewTimer = null;
      void this.#renew();
    }, Math.max(MIN_RENEW_DELAY_MS, due));
  }

  /**
   * Fetches a token now. Token pushes after two quick stage changes may arrive out of order; when the role the room
   * state gives us disagrees with the token's, the server's current answer settles it.
   */
  async refresh(): Promise<void> {
    await this.#renew();
  }

  async #renew(): Promise<void> {
    if (this.#stopped || !this.#client) return;
    const result = await this.#opts.fetchToken();
    if (this.#stopped) return;
    if (result.ok) {
      await this.applyToken(result.data);
      return;
    }
    if (result.error.code === 'unavailable' || result.error.code === 'internal' || result.error.code === 'rate_limited') {
      this.#renewTimer = setTimeout(() => void this.#renew(), RETRY_RENEW_MS);
      return;
    }
    // The server no longer gives us video (the class ended, or we left it): leave the channel.
    this.message = `Video ended: ${result.error.message}`;
    await this.stop();
  }

  async #teardown(): Promise<void> {
    if (this.#renewTimer) clearTimeout(this.#renewTimer);
    this.#renewTimer = null;
    await this.#unpublish();
    const client = this.#client;
    this.#client = null;
    if (client) {
      client.removeAllListeners();
      await client.leave().catch(() => {});
    }
    this.#users.clear();
    this.remotes = [];
  }

  /** The token in use (for tests and diagnostics). */
  get token(): RtcTokenDto | null {
    return this.#token;
  }
}
