// A ballot encrypted in the voter's browser, byte for byte as the server's
// consult/polls/secrecy.encrypt_ballot makes it and consult/verify.check_ballot checks it: for
// each choice an exponential ElGamal pair of 1 (chosen) or 0 under the vote key, each with fresh
// randomness, a disjunctive Chaum-Pedersen proof that each holds 0 or 1 and one that their sum
// lies in the rule's range (CDS 1994, as in Helios v3 and ElectionGuard 2.0 §3.3). The
// randomness is kept so that a ballot can be spoiled and audited (Benaloh's challenge): shown,
// it lets anyone recompute the ciphertexts and see which choice they hold
// (consult.verify --spoiled).

import { sha512 } from "../vendor/noble/noble-2.4.0.js";
import { L, Point, challenge, concat, hex, join, mult, point, randomScalar, scalarBytes, scalarOf, unhex,
         utf8 } from "./group.js";

const G = Point.BASE;

function small(n) { return mult(BigInt(n), G); }

// verify.ballot_context, in hex: what every proof of a ballot is bound to.
export function ballotContext(voteId, phase, publicHex, choices, low, high) {
  return hex(join(utf8("ballot"), utf8(voteId), utf8(phase), unhex(publicHex), utf8(choices), utf8(low),
                  utf8(high)));
}

function rangeProof(K, context, digest, label, alpha, beta, values, value, r) {
  const branches = [], commitments = [];
  const w = randomScalar();
  for (const candidate of values) {
    if (candidate === value) {
      branches.push(null);
      commitments.push(mult(w, G).toBytes(), mult(w, K).toBytes());
    } else {
      const c = randomScalar(), v = randomScalar();
      branches.push([c, v]);
      commitments.push(mult(v, G).subtract(mult(c, alpha)).toBytes(),
                       mult(v, K).subtract(mult(c, beta.subtract(small(candidate)))).toBytes());
    }
  }
  let cTrue = challenge(utf8("range"), context, digest, label, alpha.toBytes(), beta.toBytes(), ...commitments);
  for (const branch of branches) if (branch) cTrue = (cTrue - branch[0] + L) % L;
  const vTrue = (w + cTrue * r) % L;
  return concat(...branches.map((b) => concat(scalarBytes(b ? b[0] : cTrue), scalarBytes(b ? b[1] : vTrue))));
}

function range(low, high) { return Array.from({ length: high - low + 1 }, (_, i) => low + i); }

// The ballot for `chosen` (the positions chosen) of `choices`, `low` to `high` of them; hex.
export function encryptBallot(publicHex, contextHex, choices, chosen, low = 1, high = 1) {
  const picked = new Set(chosen);
  if ([...picked].some((i) => !(Number.isInteger(i) && i >= 0 && i < choices)) || picked.size < low
      || picked.size > high) {
    throw new Error("not a valid ballot for this vote");
  }
  const K = point(unhex(publicHex)), context = unhex(contextHex);
  const randomness = [], pairs = [];
  for (let index = 0; index < choices; index++) {
    const r = randomScalar();
    let beta = mult(r, K);
    if (picked.has(index)) beta = beta.add(G);
    randomness.push(r);
    pairs.push([mult(r, G), beta]);
  }
  const ciphertext = concat(...pairs.map(([a, b]) => concat(a.toBytes(), b.toBytes())));
  const digest = sha512(ciphertext);
  const proofs = pairs.map(([alpha, beta], index) =>
    rangeProof(K, context, digest, utf8(index), alpha, beta, [0, 1], picked.has(index) ? 1 : 0, randomness[index]));
  const alpha = pairs.reduce((p, [a]) => p.add(a), Point.ZERO), beta = pairs.reduce((p, [, b]) => p.add(b), Point.ZERO);
  const totalR = randomness.reduce((a, b) => (a + b) % L, 0n);
  proofs.push(rangeProof(K, context, digest, utf8("sum"), alpha, beta, range(low, high), picked.size, totalR));
  return { ciphertext: hex(ciphertext), proofs: hex(concat(...proofs)), randomness: randomness.map((r) => hex(scalarBytes(r))) };
}

// Which choices a spoiled ballot holds, from its randomness (what the verifier recomputes).
export function openSpoiled(publicHex, ciphertextHex, randomness) {
  const K = point(unhex(publicHex)), data = unhex(ciphertextHex);
  return randomness.map((rHex, i) => {
    const r = scalarOf(unhex(rHex));
    const alpha = point(data.slice(64 * i, 64 * i + 32)), beta = point(data.slice(64 * i + 32, 64 * i + 64));
    if (!mult(r, G).equals(alpha)) throw new Error("the randomness does not make this ciphertext");
    const m = beta.subtract(mult(r, K));
    if (m.is0()) return 0;
    if (m.equals(G)) return 1;
    throw new Error("the ciphertext holds neither 0 nor 1");
  });
}
