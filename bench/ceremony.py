"""Benchmark: the board's key ceremony without a dealer and the count without the key.

Plays a ceremony of ``--members`` members with a majority threshold (``polls.ceremony``: each
member's announcement, its sealed shares, the checks of the shares it receives and its key
share; the server's checks of every announcement and the member's public shares), then the
count of ``--choices`` sums: each of a majority of members' proven partial decryptions, and the
server's check of every partial and the Lagrange combination. Beside each step it counts the
group operations the step made (libsodium's scalar multiplications, through ``verify.mult`` and
``verify.base_mult``) and prices them at the bare cost of one libsodium scalar multiplication
measured in the same run: the ratio shows how much is protocol overhead.

Then the same member's part as the ceremony page's script does it in a browser
(``static/js/ceremony-device.js`` on the vendored @noble libraries, run by Node.js through
``bench/ceremony_device.mjs``): each step of one member beside the same group operations priced
at @noble's bare cost in that run (the counts are the reference's: the protocol is the same), and
the weight of the scripts the ceremony page loads.

    python bench/ceremony.py [--members 5] [--choices 3] [--repeat 5]

Prints a table and a last line ``RESULT name=value ...``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import secrets
import subprocess
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nacl import bindings as sodium  # noqa: E402

from consult import verify  # noqa: E402
from consult.polls import ceremony, secrecy  # noqa: E402

COUNTS = {"mult": 0, "base": 0}
_mult, _base = verify.mult, verify.base_mult


def _counted_mult(s, p):
    COUNTS["mult"] += 1
    return _mult(s, p)


def _counted_base(s):
    COUNTS["base"] += 1
    return _base(s)


verify.mult, verify.base_mult = _counted_mult, _counted_base


def bare_costs(n: int = 2000) -> tuple[float, float]:
    """Seconds of one variable-base and one fixed-base libsodium scalar multiplication."""
    scalars = [sodium.crypto_core_ed25519_scalar_reduce(secrets.token_bytes(64)) for _ in range(n)]
    point = sodium.crypto_scalarmult_ed25519_base_noclamp(scalars[0])
    started = time.perf_counter()
    for s in scalars:
        sodium.crypto_scalarmult_ed25519_noclamp(s, point)
    mult = (time.perf_counter() - started) / n
    started = time.perf_counter()
    for s in scalars:
        sodium.crypto_scalarmult_ed25519_base_noclamp(s)
    return mult, (time.perf_counter() - started) / n


def measured(fn):
    COUNTS["mult"] = COUNTS["base"] = 0
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, COUNTS["mult"], COUNTS["base"], out


def play(members: int, choices: int):
    setup = ceremony.Setup(vote_id=1, phase="vote", members=members, threshold=members // 2 + 1)
    times = {}
    devices = {}

    def announce():
        out = {}
        for i in range(1, members + 1):
            devices[i] = ceremony.Member(setup, i)
            out[i] = devices[i].announcement()
        return out

    times["announce"] = measured(announce)
    announcements = times["announce"][3]
    server = ceremony.Ceremony(setup)
    times["server_checks"] = measured(lambda: [server.announce(a) for a in announcements.values()])
    times["seal"] = measured(lambda: {i: d.sealed_shares(server.announcements) for i, d in devices.items()})
    for sender, shares in times["seal"][3].items():
        server.post_shares(sender, shares)
    times["receive"] = measured(lambda: [devices[r].receive(s, server.announcements[s], blob)
                                         for (s, r), blob in server.sealed.items()])
    times["finish"] = measured(lambda: [d.finish(server.qualified) for d in devices.values()])
    times["member_publics"] = measured(lambda: [server.member_public(i) for i in server.qualified])
    public = server.joint_key()
    box = secrecy.Aggregate(choices)
    context = verify.ballot_context(1, "vote", public, choices, 1, 1)
    for i in range(20):
        box.add(secrecy.encrypt_ballot(public, context, choices, i % choices)[0])
    deciders = sorted(devices)[:setup.threshold]

    def partials():
        return [[devices[i].partial_decrypt(verify.decryption_context(1, "vote", public, 1, c), alpha)
                 for i in deciders] for c, (alpha, _) in enumerate(box.sums)]

    times["partials"] = measured(partials)
    made = times["partials"][3]
    times["combine"] = measured(lambda: [ceremony.combine(server, verify.decryption_context(1, "vote", public, 1, c),
                                                          alpha, made[c]) for c, (alpha, _) in enumerate(box.sums)])
    return setup, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--choices", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    mult, base = bare_costs()
    runs = [play(args.members, args.choices) for _ in range(args.repeat)]
    setup = runs[0][0]
    print(f"{args.members} members, threshold {setup.threshold}, {args.choices} sums; bare libsodium: "
          f"variable-base {mult * 1e6:.0f} µs, fixed-base {base * 1e6:.0f} µs")
    print(f"{'step':<16} {'ms (median)':>12} {'mults':>6} {'base':>6} {'bare ms':>8} {'ratio':>6}")
    result = {}
    for step in runs[0][1]:
        elapsed = statistics.median(r[1][step][0] for r in runs)
        _, mults, bases, _ = runs[0][1][step]
        bare = mults * mult + bases * base
        ratio = elapsed / bare if bare else float("nan")
        print(f"{step:<16} {elapsed * 1e3:>12.2f} {mults:>6} {bases:>6} {bare * 1e3:>8.2f} {ratio:>6.2f}")
        result[f"{step}_ms"] = elapsed * 1e3
        if bare:
            result[f"{step}_ratio"] = ratio
    per_member = (result["announce_ms"] + result["seal_ms"] + result["receive_ms"] + result["finish_ms"]) / args.members
    result["member_device_ms"] = per_member
    result["count_ms"] = result["partials_ms"] + result["combine_ms"]
    print(f"one member's device, the whole ceremony: {per_member:.1f} ms; the count's decryptions: "
          f"{result['count_ms']:.1f} ms")
    result.update(browser_device(args, runs[0][1]))
    print("RESULT " + " ".join(f"{k}={v:.3f}" for k, v in result.items()))


PAGE_SCRIPTS = ("static/js/ceremony-page.js", "static/js/ceremony-device.js", "static/js/group.js",
                "static/vendor/noble/noble-2.4.0.js", "static/vendor/qrcode-generator/qrcode-generator-2.0.4.js")


def browser_device(args, reference) -> dict:
    """One member's steps in the page's script, beside @noble's bare operations."""
    done = subprocess.run(["node", str(ROOT / "bench" / "ceremony_device.mjs"), str(args.members), str(args.choices),
                           str(args.repeat)], capture_output=True, text=True, check=True, timeout=600)
    measured_js = json.loads(done.stdout)
    bare, steps = measured_js["bare"], measured_js["steps"]
    others = args.members - 1
    # X25519 operations of the sealed box (not counted by the reference's wrappers): the sender's
    # ephemeral key and shared secret per share; the recipient's own public key and shared secret.
    x25519 = {"seal": 2 * others, "receive": 2 * others}
    per_member = {step: (reference[step][1] / args.members, reference[step][2] / args.members)
                  for step in ("announce", "seal", "receive", "finish")}
    per_member["partials"] = tuple(n / (args.members // 2 + 1) for n in reference["partials"][1:3])
    print(f"\nthe member's device in the browser's script (Node.js {subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip()}, "
          f"@noble 2.4.0): variable-base {bare['mult'] * 1e3:.0f} µs, fixed-base {bare['base'] * 1e3:.0f} µs, "
          f"X25519 {bare['x25519'] * 1e3:.0f} µs")
    print(f"{'step':<16} {'ms (median)':>12} {'bare ms':>8} {'ratio':>6}")
    out, total, total_bare = {}, 0.0, 0.0
    for step, ms in steps.items():
        mults, bases = per_member[step]
        bare_ms = mults * bare["mult"] + bases * bare["base"] + x25519.get(step, 0) * bare["x25519"]
        print(f"{step:<16} {ms:>12.2f} {bare_ms:>8.2f} {ms / bare_ms:>6.2f}")
        out[f"js_{step}_ms"], out[f"js_{step}_ratio"] = ms, ms / bare_ms
        total, total_bare = total + ms, total_bare + bare_ms
    out["js_member_device_ms"], out["js_member_device_ratio"] = total, total / total_bare
    raw = sum((ROOT / p).stat().st_size for p in PAGE_SCRIPTS)
    zipped = sum(len(gzip.compress((ROOT / p).read_bytes(), 9)) for p in PAGE_SCRIPTS)
    print(f"one member's whole part in the browser: {total:.0f} ms (ratio {total / total_bare:.2f}); the ceremony "
          f"page's scripts: {raw / 1024:.1f} KB, {zipped / 1024:.1f} KB compressed")
    out["page_scripts_kb"], out["page_scripts_gzip_kb"] = raw / 1024, zipped / 1024
    return out


if __name__ == "__main__":
    main()
