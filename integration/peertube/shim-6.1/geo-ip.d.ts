/* PeerTube 6.1, server/core/helpers/geo-ip.ts (6.0.4 had a country-only `updateDatabase()`). */
export declare class GeoIP {
  private constructor ()
  safeIPISOLookup (ip: string): Promise<{ country: string, subdivisionName: string }>
  updateDatabases (): Promise<void>
  static get Instance (): GeoIP
}
