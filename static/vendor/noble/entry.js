export { ed25519, x25519 } from '@noble/curves/ed25519.js';
export { sha512, sha256 } from '@noble/hashes/sha2.js';
export { blake2b } from '@noble/hashes/blake2.js';
export { xsalsa20poly1305, hsalsa } from '@noble/ciphers/salsa.js';
