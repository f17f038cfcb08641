/**
 * Options of the configuration compiler. What it produces (DeviceConfig,
 * AccessPointConfig and their parts) is the controller-device contract, in
 * src/contract/config.ts.
 */

export interface OverlayOptions {
  /**
   * Pool for tunnel addresses of instances whose area has no entry in `areaPools`.
   * Default "100.96.0.0/12" (inside RFC 6598 space, so it never meets a public route).
   */
  pool?: string;
  /**
   * Per-area pools. Areas naming the same pool share one allocation, so their
   * addresses stay unique across them; distinct pools must not overlap.
   */
  areaPools?: Record<string, string>;
}

export interface CompileOptions {
  overlay?: OverlayOptions;
  /** Persistent keepalive the device sends to each hub, seconds; 0 disables. Default 25 (NAT-friendly). */
  persistentKeepaliveSec?: number;
}

export interface DeviceCompileOptions extends CompileOptions {
  /**
   * Public keys (WireGuard base64) by access point id, overriding the key stored on
   * the access point (`AccessPoint.publicKey`). Hubs not listed use the model's key.
   */
  accessPointKeys?: Readonly<Record<string, string>>;
}
