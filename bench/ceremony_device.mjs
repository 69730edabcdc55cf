// The board member's device as the ceremony page runs it (static/js/ceremony-device.js on the
// vendored @noble libraries), in Node.js: each step of one member's part in a ceremony of
// MEMBERS (threshold a majority) and the partial decryption of SUMS sums, and the bare cost of
// one of the library's scalar multiplications (variable-base, fixed-base, X25519) measured in the
// same run. Prints one JSON object; bench/ceremony.py prices each step's group operations (the
// Python reference counts them: the same protocol makes the same ones) and prints the ratios.
import { ed25519, x25519 } from "../static/vendor/noble/noble-2.4.0.js";
import * as device from "../static/js/ceremony-device.js";

const [members, sums, repeat] = process.argv.slice(2).map(Number);
const threshold = Math.floor(members / 2) + 1;
const Point = ed25519.Point;
function timed(fn) {
  const started = performance.now();
  fn();
  return performance.now() - started;
}

function bare(n = 300) {
  const scalars = Array.from({ length: n }, (_, i) => BigInt(i + 1) * 0x1234567890abcdefn * 0xfedcba987654321n);
  const p = Point.BASE.multiply(987654321n);
  let started = performance.now();
  for (const s of scalars) p.multiply(s);
  const mult = (performance.now() - started) / n;
  started = performance.now();
  for (const s of scalars) Point.BASE.multiply(s);
  const base = (performance.now() - started) / n;
  const secret = x25519.utils.randomSecretKey(), other = x25519.getPublicKey(x25519.utils.randomSecretKey());
  started = performance.now();
  for (let i = 0; i < n; i++) x25519.getSharedSecret(secret, other);
  return { mult, base, x25519: (performance.now() - started) / n };
}

function play() {
  const setup = { vote_id: 1, phase: "key", members, threshold };
  const states = Array.from({ length: members }, (_, i) => device.newMember(setup, i + 1));
  const steps = {};
  const announced = {};
  states.forEach((s, i) => { announced[i + 1] = device.announcement(s); });
  steps.announce = timed(() => device.announcement(states[0]));
  const sealed = {};
  states.forEach((s, i) => { sealed[i + 1] = device.sealedShares(s, announced); });
  steps.seal = timed(() => device.sealedShares(states[0], announced));
  steps.receive = timed(() => {
    for (let sender = 2; sender <= members; sender++) {
      if (!device.receive(states[0], sender, announced[sender], sealed[sender]["1"])) throw new Error("bad share");
    }
  });
  const qualified = Array.from({ length: members }, (_, i) => i + 1);
  steps.finish = timed(() => device.finish(states[0], qualified));
  const alpha = Point.BASE.multiply(1234567n).toHex();
  const context = device.decryptionContext(1, "vote", alpha, 1, 0);
  steps.partials = timed(() => { for (let c = 0; c < sums; c++) device.partialDecrypt(states[0], context, alpha); });
  return steps;
}

const runs = Array.from({ length: repeat }, play);
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const out = { bare: bare(), steps: {} };
for (const step of Object.keys(runs[0])) {
  out.steps[step] = median(runs.map((r) => r[step]));
}
process.stdout.write(JSON.stringify(out));
