/* The public types: generated from the Rust doc comments into binding.d.ts (napi build). */
export * from './binding'
