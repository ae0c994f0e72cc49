/* The `config` package (node-config), as PeerTube reads its YAML. */
declare const config: {
  get<T>(setting: string): T
  has(setting: string): boolean
}
export default config
