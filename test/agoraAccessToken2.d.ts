/** The parts of agora-token's own Token007 parser that the tests use to read issued tokens (the package types omit it). */
declare module 'agora-token/src/AccessToken2.js' {
  interface ParsedAccessToken2 {
    /** Bytes once parsed. */
    appId: string | Uint8Array;
    issueTs: number;
    expire: number;
    from_string(token: string): boolean;
    getServices(serviceType: number): object[];
  }
  const accessToken2: {
    AccessToken2: new () => ParsedAccessToken2;
    kRtcServiceType: number;
    ServiceRtc: {
      kPrivilegeJoinChannel: number;
      kPrivilegePublishAudioStream: number;
      kPrivilegePublishVideoStream: number;
      kPrivilegePublishDataStream: number;
    };
  };
  export default accessToken2;
}
