// mulberry32: a small seeded PRNG, so a randomised test can be replayed from its printed seed.
function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The seed from `env[name]`, or a fresh one. */
function seedFrom(name) {
  return Number(process.env[name] || Date.now() % 1_000_000)
}

module.exports = { prng, seedFrom }
