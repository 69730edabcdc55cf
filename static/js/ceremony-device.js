// A board member's device in the key ceremony and at the count: the same protocol as the
// reference `Member` of consult/polls/ceremony.py (Pedersen's distributed key generation with
// Feldman commitments and Schnorr proofs, threshold decryption with Chaum-Pedersen proofs, after
// ElectionGuard 2.0 §3.2 and §3.6), with the definitions of consult/verify.py ("a key no one
// holds"). Every group operation, hash and cipher comes from the vendored @noble libraries; this
// file only composes them, byte for byte as the Python side does, and is tested against it.
//
// The device's state (its polynomial, its ceremony key, the shares it received, then only its key
// share) is the member's secret: it lives in this browser's storage and on the printed card, and
// is never sent. What the device sends is public: commitments, proofs, sealed shares, S_ℓ and
// proven partial decryptions.

import { blake2b, hsalsa, sha256, x25519, xsalsa20poly1305 } from "../vendor/noble/noble-2.4.0.js";
import { L, Point, challenge, concat, equal, hex, join, mult, point, randomScalar, scalarBytes, scalarOf,
         unhex, utf8 } from "./group.js";

export { hex, unhex, utf8 };

// --- the contexts of consult/verify.py -------------------------------------------------------------

function coefficientContext(setup, member) {
  return join(utf8("coefficient"), utf8(setup.vote_id), utf8(setup.phase), utf8(member), utf8(setup.threshold),
              utf8(setup.members));
}

function shareLabel(setup, sender, recipient) {
  return join(utf8("share"), utf8(setup.vote_id), utf8(setup.phase), utf8(sender), utf8(recipient));
}

function partialContext(context, member) { return join(utf8("partial"), context, utf8(member)); }

// The context of a sum's decryption (verify.decryption_context), in hex; publicKey in hex.
export function decryptionContext(voteId, phase, publicKey, groupId, choice) {
  return hex(join(utf8("decrypt"), utf8(voteId), utf8(phase), unhex(publicKey), utf8(groupId), utf8(choice)));
}

function evaluate(coefficients, index) {
  let value = 0n, power = 1n;
  for (const a of coefficients) { value = (value + a * power) % L; power = (power * BigInt(index)) % L; }
  return value;
}

function feldman(commitments, index) {
  let p = Point.ZERO, power = 1n;
  for (const k of commitments) { p = p.add(mult(power % L, point(unhex(k)))); power *= BigInt(index); }
  return p;
}

// commitments: {member: [hex, ...]}; the results in hex.
export function memberPublic(commitments, index) {  // verify.member_public
  let p = Point.ZERO;
  for (const member of Object.keys(commitments).map(Number).sort((a, b) => a - b)) {
    p = p.add(feldman(commitments[member], index));
  }
  return hex(p.toBytes());
}

export function jointKey(commitments) {  // verify.joint_key
  let p = Point.ZERO;
  for (const member of Object.keys(commitments).map(Number).sort((a, b) => a - b)) {
    p = p.add(point(unhex(commitments[member][0])));
  }
  return hex(p.toBytes());
}

// --- libsodium's sealed box (crypto_box_seal), from X25519, HSalsa20 and XSalsa20-Poly1305 --------

const SIGMA = new Uint32Array(utf8("expand 32-byte k").buffer);

function boxKey(secret, publicKey) {  // crypto_box_beforenm
  const shared = x25519.getSharedSecret(secret, publicKey);
  if (shared.every((b) => b === 0)) throw new Error("weak key");
  const out = new Uint32Array(8);
  hsalsa(SIGMA, new Uint32Array(shared.slice().buffer), new Uint32Array(4), out);
  return new Uint8Array(out.buffer);
}

function sealNonce(ephemeral, publicKey) { return blake2b(concat(ephemeral, publicKey), { dkLen: 24 }); }

export function seal(message, publicKey) {
  const secret = x25519.utils.randomSecretKey();
  const ephemeral = x25519.getPublicKey(secret);
  const box = xsalsa20poly1305(boxKey(secret, publicKey), sealNonce(ephemeral, publicKey)).encrypt(message);
  return concat(ephemeral, box);
}

export function unseal(sealed, secret) {  // null when it does not open
  if (sealed.length < 48) return null;
  const ephemeral = sealed.slice(0, 32);
  try {
    const publicKey = x25519.getPublicKey(secret);
    return xsalsa20poly1305(boxKey(secret, ephemeral), sealNonce(ephemeral, publicKey)).decrypt(sealed.slice(32));
  } catch (e) {
    return null;
  }
}

// --- the member ------------------------------------------------------------------------------------

// setup: {vote_id, phase, members, threshold}, as the ceremony page gives it.
export function newMember(setup, index) {
  if (!(index >= 1 && index <= setup.members)) throw new Error("member index out of range");
  const coefficients = Array.from({ length: setup.threshold }, randomScalar);
  return {
    setup, index,
    coefficients: coefficients.map((a) => hex(scalarBytes(a))),
    ceremony_secret: hex(x25519.utils.randomSecretKey()),
    received: { [index]: hex(scalarBytes(evaluate(coefficients, index))) },
    key_share: null,
  };
}

function coefficientsOf(state) { return state.coefficients.map((a) => scalarOf(unhex(a))); }

// What the device announces: {ceremony_key, commitments, proofs} in hex (keyceremony.announce).
export function announcement(state) {
  const context = coefficientContext(state.setup, state.index);
  const commitments = [], proofs = [];
  coefficientsOf(state).forEach((a, j) => {
    const commitment = Point.BASE.multiply(a).toBytes();
    const u = randomScalar();
    const c = challenge(utf8("schnorr"), join(context, utf8(j)), commitment, Point.BASE.multiply(u).toBytes());
    commitments.push(hex(commitment));
    proofs.push([hex(scalarBytes(c)), hex(scalarBytes(u + c * a))]);
  });
  return { ceremony_key: hex(x25519.getPublicKey(unhex(state.ceremony_secret))), commitments, proofs };
}

// One sealed share for each other member; announcements: {member: {ceremony_key, ...}} in hex.
export function sealedShares(state, announcements) {
  const coefficients = coefficientsOf(state), out = {};
  for (const [other, a] of Object.entries(announcements)) {
    if (Number(other) === state.index) continue;
    const body = concat(shareLabel(state.setup, state.index, Number(other)), utf8("|"),
                        scalarBytes(evaluate(coefficients, Number(other))));
    out[other] = hex(seal(body, unhex(a.ceremony_key)));
  }
  return out;
}

function checkShare(commitments, index, share) {
  try {
    return mult(scalarOf(share), Point.BASE).equals(feldman(commitments, index));
  } catch (e) {
    return false;
  }
}

// Open and check sender's share against its commitments; false means: complain.
export function receive(state, sender, announcement, sealedHex) {
  const body = unseal(unhex(sealedHex), unhex(state.ceremony_secret));
  if (body === null) return false;
  const label = concat(shareLabel(state.setup, sender, state.index), utf8("|"));
  const share = body.slice(label.length);
  const commitments = announcement.commitments;
  if (!equal(body.slice(0, label.length), label) || share.length !== 32 || !checkShare(commitments, state.index, share)) {
    return false;
  }
  state.received[sender] = hex(share);
  return true;
}

// The share for a complainant, in the clear (it settles the complaint in public).
export function revealedShare(state, recipient) {
  return hex(scalarBytes(evaluate(coefficientsOf(state), recipient)));
}

// A share settled in public: checked against its sender's commitments before it is kept.
export function acceptRevealed(state, sender, announcement, shareHex) {
  if (!checkShare(announcement.commitments, state.index, unhex(shareHex))) return false;
  state.received[sender] = shareHex;
  return true;
}

// s_ℓ = Σ P_i(ℓ) over the qualified members; the polynomial is forgotten. Returns S_ℓ in hex.
export function finish(state, qualified) {
  const missing = qualified.filter((m) => !(m in state.received));
  if (missing.length) throw new Error("missing shares from " + missing.join(", "));
  let share = 0n;
  for (const m of qualified) share = (share + scalarOf(unhex(state.received[m]))) % L;
  state.key_share = hex(scalarBytes(share));
  state.coefficients = [];
  state.received = {};
  return hex(mult(share, Point.BASE).toBytes());
}

// M = s_ℓ·α with its Chaum-Pedersen proof, for the sum whose decryption context (hex) is given.
export function partialDecrypt(state, contextHex, alphaHex) {
  const context = unhex(contextHex);
  if (!state.key_share) throw new Error("no key share");
  const s = scalarOf(unhex(state.key_share));
  const alpha = point(unhex(alphaHex));
  const m = mult(s, alpha).toBytes();
  const w = randomScalar();
  const publicShare = mult(s, Point.BASE).toBytes();
  const c = challenge(utf8("partial-decryption"), partialContext(context, state.index), publicShare, unhex(alphaHex), m,
                      mult(w, Point.BASE).toBytes(), mult(w, alpha).toBytes());
  return { member: state.index, m: hex(m), c: hex(scalarBytes(c)), v: hex(scalarBytes(w + c * s)) };
}

// --- the printed card: the code of ceremony.format_key_share ---------------------------------------

const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32(bytes) {
  let bits = 0, value = 0, out = "";
  for (const b of bytes) {
    value = (value << 8) | b; bits += 8;
    while (bits >= 5) { out += B32[(value >>> (bits - 5)) & 31]; bits -= 5; }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

export function cardCode(state) {
  const share = unhex(state.key_share);
  const check = sha256(concat(utf8(`consult/key-card/${state.setup.vote_id}/${state.index}`), share)).slice(0, 4);
  const body = base32(concat(share, check));
  return `K${state.setup.vote_id}-${state.index}-` + body.match(/.{1,4}/g).join("-");
}

// S_ℓ of a device that holds its key share (to confirm again after a lost connection).
export function publicShare(state) { return hex(mult(scalarOf(unhex(state.key_share)), Point.BASE).toBytes()); }

function unbase32(text) {
  let bits = 0, value = 0;
  const out = [];
  for (const ch of text) {
    const at = B32.indexOf(ch);
    if (at < 0) return null;
    value = (value << 5) | at; bits += 5;
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 255); bits -= 8; }
  }
  return new Uint8Array(out);
}

// A device restored from the member's printed card (ceremony.parse_key_share): checked against
// the vote, the member and S_ℓ from the commitments; a mistake throws its Vietnamese message.
export function restoreFromCard(setup, index, code, commitments) {
  const parts = String(code || "").toUpperCase().replace(/[^A-Z0-9-]/g, "").split("-").filter(Boolean);
  if (parts.length < 3 || !/^K\d+$/.test(parts[0]) || !/^\d+$/.test(parts[1])) {
    throw new Error("Mã phiếu giữ khóa gõ chưa đúng: mã có dạng K<số cuộc biểu quyết>-<số thành viên>-…");
  }
  if (Number(parts[0].slice(1)) !== setup.vote_id) {
    throw new Error(`Phiếu giữ khóa này thuộc cuộc biểu quyết khác (số ${Number(parts[0].slice(1))}), không phải cuộc biểu quyết số ${setup.vote_id}.`);
  }
  if (Number(parts[1]) !== index) {
    throw new Error(`Đây là phiếu giữ khóa của thành viên số ${Number(parts[1])}, không phải của bạn (số ${index}).`);
  }
  const data = unbase32(parts.slice(2).join(""));
  const share = data && data.slice(0, 32);
  const check = share && sha256(concat(utf8(`consult/key-card/${setup.vote_id}/${index}`), share)).slice(0, 4);
  if (!data || data.length !== 36 || !equal(data.slice(32), check)) {
    throw new Error("Mã phiếu giữ khóa gõ chưa đúng (sai ký tự kiểm tra). Hãy so lại từng nhóm bốn ký tự.");
  }
  let mine;
  try { mine = publicShare({ key_share: hex(share) }); } catch (e) { mine = null; }
  if (mine !== memberPublic(commitments, index)) {
    throw new Error("Phiếu giữ khóa này không khớp với khóa của cuộc biểu quyết: có thể là phiếu của một lần tạo khóa trước. Hãy dùng phiếu in ở lần tạo khóa cuối cùng.");
  }
  return { setup, index, coefficients: [], ceremony_secret: null, received: {}, key_share: hex(share) };
}
