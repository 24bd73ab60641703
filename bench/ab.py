#!/usr/bin/python3
"""Before/after comparison of two token-service binaries in one run (docs/benchmarks.md).

    bench/ab.py --before OLD/token-service --after NEW/token-service [--rounds 3] [--duration 10]

Each binary gets its own data directory, seeded through its own API (1,000 tokens over 1,000
tenants, the 10k-token search tenant, fresh update tenants per round), because a newer binary
migrates the schema beyond what an older one opens. Then the binaries take turns, round after
round (before, after, before, after, ...), each started with the production defaults, pinned
like bench/run, and measured on the same operations; the table gives each side's median and
the ratio after/before. Same machine, same minutes, interleaved: drift hits both sides alike.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402

TOKENS = 1000


class Side:
    def __init__(self, label, binary, rounds):
        self.label = label
        self.binary = binary
        self.work = tempfile.mkdtemp(prefix=f"ts-ab-{label}-")
        self.data = os.path.join(self.work, "data")
        os.makedirs(self.data)
        self.secret = os.urandom(32).hex().encode()
        self.secret_file = os.path.join(self.work, "jwt-secret")
        with open(self.secret_file, "wb") as f:
            f.write(self.secret)
        self.key_file = os.path.join(self.work, "master.key")
        subprocess.run([binary, "keys", "init", self.key_file], check=True, capture_output=True)
        now = int(time.time())
        self.update_tenants = [f"u-{mode}-{r}" for r in range(rounds) for mode in ("put", "patch")]
        tenants = ([f"t{i:04d}" for i in range(runner.TENANTS)] + [runner.SEARCH_TENANT]
                   + self.update_tenants)
        self.tokens_file = os.path.join(self.work, "tokens.tsv")
        with open(self.tokens_file, "w") as f:
            for t in tenants:
                f.write(f"{t}\t{runner.mint(self.secret, t, now)}\n")
        self.results = {}

    def service(self, synchronous="FULL"):
        return runner.Service(self.binary, self.data, self.secret_file, self.key_file,
                              synchronous=synchronous)

    def seed(self):
        service = self.service("NORMAL")
        try:
            runner.seed(service, self.tokens_file, TOKENS, runner.TENANTS, "tok-%07d")
            runner.seed(service, self.tokens_file, runner.SEARCH_TOKENS, runner.SEARCH_TENANT,
                        "s-%07d")
            for t in self.update_tenants:
                runner.seed(service, self.tokens_file, runner.UPDATE_TOKENS, t, "u-%06d")
        finally:
            service.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--ops", default="get_one,list_page,create,put")
    args = ap.parse_args()
    ops = args.ops.split(",")
    sides = [Side("before", args.before, args.rounds), Side("after", args.after, args.rounds)]
    for side in sides:
        runner.log(f"seeding {side.label}")
        side.seed()
    page = f"/ai-service/{runner.SEARCH_TENANT}/agentic/tokens?pageSize=60"
    for r in range(args.rounds):
        for side in sides:
            service = side.service()
            try:
                runner.run_wrk(service.url(), "get_one.lua", [side.tokens_file, TOKENS,
                                                              runner.TENANTS], 2)
                for op in ops:
                    if op == "get_one":
                        res = runner.run_wrk(service.url(), "get_one.lua",
                                             [side.tokens_file, TOKENS, runner.TENANTS],
                                             args.duration)
                    elif op == "list_page":
                        res = runner.run_wrk(service.url(), "get_path.lua",
                                             [side.tokens_file, runner.SEARCH_TENANT, page],
                                             args.duration)
                    elif op == "create":
                        res = runner.run_wrk(service.url(), "create.lua",
                                             [side.tokens_file, runner.TENANTS, f"ab{r}"],
                                             args.duration)
                    elif op in ("put", "patch"):
                        res = runner.run_wrk(service.url(), "update.lua",
                                             [side.tokens_file, f"u-{op}-{r}",
                                              runner.UPDATE_TOKENS, op], args.duration)
                    else:
                        raise SystemExit("unknown op " + op)
                    side.results.setdefault(op, []).append(res)
                    runner.log(f"round {r + 1} {side.label:6} {op:9} {res['rps']:>9,.0f} req/s"
                               f"  p50 {res['p50_us']:>6} µs  p99 {res['p99_us']:>6} µs"
                               f"  errors {res['errors']}")
            finally:
                service.stop()
    print("| operation | before req/s | after req/s | after/before | before p99 µs | after p99 µs |")
    print("|---|---|---|---|---|---|")
    for op in ops:
        b = [x["rps"] for x in sides[0].results[op]]
        a = [x["rps"] for x in sides[1].results[op]]
        bp = runner.median_run(sides[0].results[op])["p99_us"]
        ap_ = runner.median_run(sides[1].results[op])["p99_us"]
        print(f"| {runner.LABELS[op]} | {statistics.median(b):,.0f} ({' / '.join(f'{x:,.0f}' for x in b)})"
              f" | {statistics.median(a):,.0f} ({' / '.join(f'{x:,.0f}' for x in a)})"
              f" | {statistics.median(a) / statistics.median(b):.2f}× | {bp} | {ap_} |")
    for side in sides:
        shutil.rmtree(side.work, ignore_errors=True)


if __name__ == "__main__":
    main()
