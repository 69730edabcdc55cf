// The group of consult/verify.py (edwards25519's prime-order subgroup, as libsodium encodes its
// points and scalars) and its Fiat-Shamir challenge, on the vendored @noble libraries: what the
// board member's device (ceremony-device.js) and the ballot's encryption (ballot-crypto.js) share.

import { ed25519, sha512 } from "../vendor/noble/noble-2.4.0.js";

export const Point = ed25519.Point;
export const L = Point.Fn.ORDER;
const DOMAIN = utf8("consult/v1");

// --- bytes, scalars and points, as libsodium encodes them ------------------------------------------

export function utf8(s) { return new TextEncoder().encode(String(s)); }

export function hex(bytes) { return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(""); }

export function unhex(s) {
  if (typeof s !== "string" || s.length % 2 || /[^0-9a-f]/i.test(s)) throw new Error("bad hex");
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
  return out;
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

export function join(...parts) {  // b"|".join(parts)
  const bar = utf8("|"), out = [];
  parts.forEach((p, i) => { if (i) out.push(bar); out.push(p); });
  return concat(...out);
}

export function equal(a, b) { return a.length === b.length && a.every((x, i) => x === b[i]); }

export function toNumber(bytes) {  // little-endian
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

export function scalarBytes(n) {
  const out = new Uint8Array(32);
  let v = ((n % L) + L) % L;
  for (let i = 0; i < 32; i++) { out[i] = Number(v & 0xffn); v >>= 8n; }
  return out;
}

export function scalarOf(bytes) {
  const n = toNumber(bytes);
  if (bytes.length !== 32 || n >= L) throw new Error("bad scalar");
  return n;
}

export function randomScalar() { return toNumber(crypto.getRandomValues(new Uint8Array(64))) % L; }

export function point(bytes) {
  const p = Point.fromBytes(bytes);
  if (!p.isTorsionFree() || !equal(p.toBytes(), bytes)) throw new Error("bad point");
  return p;
}

export function mult(n, p) { return n === 0n ? Point.ZERO : p.multiply(n); }

export function challenge(...parts) {  // verify.challenge
  const chunks = [DOMAIN];
  for (const part of parts) {
    const size = new Uint8Array(4);
    new DataView(size.buffer).setUint32(0, part.length, false);
    chunks.push(size, part);
  }
  return toNumber(sha512(concat(...chunks))) % L;
}

