#!/usr/bin/python3
"""Benchmark runner for token-service (see docs/benchmarks.md for the method).

Called by bench/run after the Release build. Standard library only. For each dataset size it
seeds tokens through the public API, restarts the service with its production defaults
(synchronous=FULL, audit log on), and runs wrk scenarios with the service pinned to core 0 and
wrk to core 1. In the same run it measures the baselines (nginx serving byte-identical
responses, etcd's v3 JSON gateway, the disk's fdatasync rate) and the microbenchmarks, then
writes results.json, results.md and gnuplot PNGs, and refreshes the generated part of
docs/benchmarks.md.
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WRK_DIR = os.path.join(HERE, "wrk")
TENANTS = 1000
SEARCH_TENANT = "search"  # 10k tokens: list page and regex search
SEARCH_TOKENS = 10_000
UPDATE_TOKENS = 2_000  # per update tenant; see wrk/update.lua
SERVER_CORE = "0"
LOAD_CORE = "1"
SCENARIOS = ["get_one", "list_page", "search", "create", "put", "patch"]
LABELS = {
    "get_one": "GET one token",
    "list_page": "list, page of 60",
    "search": "regex search, 10k-token tenant",
    "create": "create (PUT, 201, durable)",
    "put": "update (PUT with metadata.version, durable)",
    "patch": "PATCH name (durable)",
}


def log(*parts):
    print("[bench]", *parts, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status < 500:
                    return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError("no answer from " + url)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(secret, tenant, now):
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"tenant": tenant, "scope": "ai.agent_read ai.agent_manage", "sub": "bench",
              "iat": now, "exp": now + 6 * 3600}
    payload = b64url(json.dumps(claims).encode())
    signing_input = (header + "." + payload).encode()
    signature = b64url(hmac.new(secret, signing_input, hashlib.sha256).digest())
    return header + "." + payload + "." + signature


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def reset_peak_rss(pid):
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


class Service:
    """token-service on loopback, pinned to SERVER_CORE."""

    def __init__(self, binary, data_dir, secret_file, key_file, synchronous="FULL", audit=True):
        self.port = free_port()
        self.log_path = os.path.join(data_dir, "service.log")
        cmd = ["taskset", "-c", SERVER_CORE, binary, "serve",
               "--listen", f"127.0.0.1:{self.port}", "--data-dir", data_dir,
               "--jwt-secret-file", secret_file, "--master-key-file", key_file,
               "--threads", "1", "--sqlite-synchronous", synchronous, "--log-level", "warn"]
        if not audit:
            cmd += ["--audit-log", ""]
        self.log_file = open(self.log_path, "a")
        self.proc = subprocess.Popen(cmd, stdout=self.log_file, stderr=self.log_file)
        wait_http(f"http://127.0.0.1:{self.port}/health/ready")

    def url(self, path=""):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log_file.close()


def run_wrk(url, script, args, duration, connections=32, timeout=None):
    cmd = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{connections}", f"-d{duration}s",
           "--timeout", "10s", "-s", os.path.join(WRK_DIR, script), url, "--"] + [str(a) for a in args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed: {out.stderr.strip()}")
    for line in out.stdout.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[len("BENCH "):])
    raise RuntimeError("wrk printed no BENCH line:\n" + out.stdout + out.stderr)


def seed(service, tokens_file, count, tenants, idfmt, start=0):
    """Creates `count` tokens through the API (see wrk/seed.lua)."""
    if count <= 0:
        return
    cmd = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", "-c32", "-d24h", "--timeout", "30s",
           "-s", os.path.join(WRK_DIR, "seed.lua"), service.url(), "--",
           tokens_file, str(count), str(tenants), idfmt, str(start)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    failed = None
    buf = ""
    while True:
        chunk = proc.stderr.read(1)
        if not chunk:
            break
        sys.stderr.write(chunk)
        buf = (buf + chunk)[-200:]
        m = re.search(r"SEEDED (\d+) (\d+)\n", buf)
        if m:
            failed = int(m.group(2))
            # wrk's thread has stopped, but its main thread sleeps out -d: end it.
            proc.terminate()
            break
    proc.wait()
    sys.stderr.flush()
    if failed is None or failed > 0:
        raise RuntimeError(f"seeding failed ({failed} failed creates); see {service.log_path}")
    # A token already there from an earlier, interrupted seeding is answered 204, not 201:
    # seed only into fresh data directories.


def median_run(runs):
    """The run with the median throughput (its latencies are reported with it)."""
    ordered = sorted(runs, key=lambda r: r["rps"])
    return ordered[len(ordered) // 2]


def measure(label, reps, fn):
    runs = []
    for i in range(reps):
        runs.append(fn(i))
        log(f"  {label} #{i + 1}: {runs[-1]['rps']:,.0f} req/s, p50 {runs[-1]['p50_us']} µs,"
            f" p99 {runs[-1]['p99_us']} µs, errors {runs[-1]['errors']}")
    best = dict(median_run(runs))
    best["runs_rps"] = [round(r["rps"]) for r in runs]
    best["errors"] = sum(r["errors"] for r in runs)
    return best


def fsync_rate(directory, seconds=3.0):
    path = os.path.join(directory, "fsync-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        count = 0
        start = time.time()
        while time.time() - start < seconds:
            os.pwrite(fd, b"x" * 512, (count % 64) * 4096)
            os.fdatasync(fd)
            count += 1
        return count / (time.time() - start)
    finally:
        os.close(fd)
        os.unlink(path)


class Nginx:
    def __init__(self, root, files):
        self.port = free_port()
        self.prefix = tempfile.mkdtemp(prefix="ts-bench-nginx-")
        for name, body in files.items():
            with open(os.path.join(self.prefix, name), "wb") as f:
                f.write(body)
        conf = os.path.join(self.prefix, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""worker_processes 1;
daemon off;
error_log {self.prefix}/error.log warn;
pid {self.prefix}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  default_type application/json;
  keepalive_requests 1000000;
  client_body_temp_path {self.prefix};
  proxy_temp_path {self.prefix};
  fastcgi_temp_path {self.prefix};
  uwsgi_temp_path {self.prefix};
  scgi_temp_path {self.prefix};
  server {{
    listen 127.0.0.1:{self.port};
    root {self.prefix};
  }}
}}
""")
        self.proc = subprocess.Popen(["taskset", "-c", SERVER_CORE, "nginx", "-c", conf,
                                      "-p", self.prefix], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_http(f"http://127.0.0.1:{self.port}/{next(iter(files))}")

    def stop(self):
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.prefix, ignore_errors=True)


class Etcd:
    def __init__(self):
        self.port = free_port()
        peer = free_port()
        self.dir = tempfile.mkdtemp(prefix="ts-bench-etcd-")
        self.proc = subprocess.Popen(
            ["taskset", "-c", SERVER_CORE, "etcd", "--data-dir", self.dir + "/data",
             "--listen-client-urls", f"http://127.0.0.1:{self.port}",
             "--advertise-client-urls", f"http://127.0.0.1:{self.port}",
             "--listen-peer-urls", f"http://127.0.0.1:{peer}",
             "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
             "--initial-cluster", f"default=http://127.0.0.1:{peer}", "--log-level", "error"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_http(f"http://127.0.0.1:{self.port}/health")
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/v3/kv/put",
            data=json.dumps({"key": b64("bench/k1"), "value": b64("x" * 40)}).encode())
        urllib.request.urlopen(req).read()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def b64(text):
    return base64.b64encode(text.encode()).decode()


def get_bytes(url, auth):
    req = urllib.request.Request(url, headers={"Authorization": auth})
    with urllib.request.urlopen(req) as r:
        return r.read()


def run_micro(build_dir):
    binary = os.path.join(build_dir, "micro_bench")
    if not os.path.exists(binary):
        return []
    out = subprocess.run(["taskset", "-c", SERVER_CORE, binary, "--benchmark_format=json",
                          "--benchmark_min_time=0.5"], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    return [{"name": b["name"], "ns": round(b["real_time"] if b["time_unit"] == "ns"
                                              else b["real_time"] * 1000, 1)}
            for b in data["benchmarks"]]


def fmt_int(x):
    return f"{x:,.0f}"


def size_label(n):
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else (
        f"{n // 1000}k" if n % 1000 == 0 else str(n))


def write_report(results, out_dir, docs_dir):
    sizes = results["sizes"]
    lines = []
    lines.append(f"Run of {results['date']} on {results['machine']}; {results['config']}.")
    lines.append("")
    lines.append("### Baselines (same run)")
    lines.append("")
    lines.append("| baseline | req/s | p50 µs | p99 µs |")
    lines.append("|---|---|---|---|")
    for key, label in [("nginx_one", "nginx, GET one token's bytes"),
                       ("nginx_page", "nginx, a page of 60's bytes"),
                       ("etcd_range", "etcd v3 gateway, range (read)"),
                       ("etcd_put", "etcd v3 gateway, put (durable)")]:
        b = results["baselines"].get(key)
        if b:
            lines.append(f"| {label} | {fmt_int(b['rps'])} | {b['p50_us']} | {b['p99_us']} |")
    lines.append(f"| disk: fdatasync of one 512-byte write, one after another | "
                 f"{fmt_int(results['baselines']['fsync_per_s'])} | | |")
    lines.append("")
    for n in sizes:
        per = results["by_size"][str(n)]
        lines.append(f"### {size_label(n)} tokens ({TENANTS} tenants, plus the 10k-token search "
                     f"tenant and the update tenants); server peak RSS {per['peak_rss_mib']:.1f} MiB")
        lines.append("")
        lines.append("| operation | req/s (median of runs) | runs | p50 µs | p99 µs | p99.9 µs | errors | ratio |")
        lines.append("|---|---|---|---|---|---|---|---|")
        for s in SCENARIOS:
            r = per["scenarios"].get(s)
            if not r:
                continue
            lines.append(f"| {LABELS[s]} | {fmt_int(r['rps'])} | "
                         f"{' / '.join(fmt_int(x) for x in r['runs_rps'])} | {r['p50_us']} | "
                         f"{r['p99_us']} | {r['p999_us']} | {r['errors']} | {r.get('ratio', '')} |")
        lines.append("")
    if results["micro"]:
        lines.append("### Microbenchmarks (Google Benchmark, one core)")
        lines.append("")
        lines.append("| benchmark | time per operation |")
        lines.append("|---|---|")
        for m in results["micro"]:
            ns = m["ns"]
            shown = f"{ns / 1000:,.2f} µs" if ns >= 1000 else f"{ns:,.0f} ns"
            lines.append(f"| `{m['name']}` | {shown} |")
        lines.append("")
    table = "\n".join(lines)
    with open(os.path.join(out_dir, "results.md"), "w") as f:
        f.write(table + "\n")

    # Plots: throughput per operation against dataset size; latency percentiles at the largest.
    dat = os.path.join(out_dir, "throughput.dat")
    with open(dat, "w") as f:
        f.write("# size " + " ".join(SCENARIOS) + "\n")
        for n in sizes:
            sc = results["by_size"][str(n)]["scenarios"]
            f.write(str(n) + " " + " ".join(str(sc.get(s, {}).get("rps", "NaN")) for s in SCENARIOS) + "\n")
    lat = os.path.join(out_dir, "latency.dat")
    largest = results["by_size"][str(sizes[-1])]["scenarios"]
    with open(lat, "w") as f:
        f.write("# op p50 p99 p999 (ms)\n")
        for s in SCENARIOS:
            if s in largest:
                r = largest[s]
                f.write(f"\"{s}\" {r['p50_us'] / 1000} {r['p99_us'] / 1000} {r['p999_us'] / 1000}\n")
    plots = [os.path.join(out_dir, "throughput.png"), os.path.join(out_dir, "latency.png")]
    cols = " , ".join(f"'{dat}' using 1:{i + 2} with linespoints title '{LABELS[s]}'"
                      for i, s in enumerate(SCENARIOS))
    script = f"""
set terminal pngcairo size 900,560 noenhanced
set output '{plots[0]}'
set title 'Throughput against dataset size (wrk -t1 -c32, service on one core)'
set logscale xy
set xlabel 'tokens in the store'
set ylabel 'requests/s'
set key below
set offsets graph 0.1, graph 0.1, 0, 0
set grid
plot {cols}
set output '{plots[1]}'
unset logscale
set logscale y
set title 'Latency at {size_label(sizes[-1])} tokens (32 connections)'
set ylabel 'ms (log)'
set xlabel ''
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set xtics rotate by -20
plot '{lat}' using 2:xtic(1) title 'p50', '' using 3 title 'p99', '' using 4 title 'p99.9'
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)

    if docs_dir:
        os.makedirs(os.path.join(docs_dir, "bench"), exist_ok=True)
        for p in plots:
            shutil.copy(p, os.path.join(docs_dir, "bench", os.path.basename(p)))
        doc = os.path.join(docs_dir, "benchmarks.md")
        with open(doc) as f:
            text = f.read()
        begin, end = "<!-- results:begin -->", "<!-- results:end -->"
        if begin in text and end in text:
            head = text[:text.index(begin) + len(begin)]
            tail = text[text.index(end):]
            with open(doc, "w") as f:
                f.write(head + "\n" + table + "\n" + tail)
    return table


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--sizes", default="1000,100000,1000000")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", required=True)
    ap.add_argument("--docs", default="", help="docs dir whose benchmarks.md gets the tables")
    ap.add_argument("--work-dir", default="", help="where the data lives (default: a temp dir)")
    ap.add_argument("--report-only", action="store_true",
                    help="redo tables and plots from --out's results.json without measuring")
    args = ap.parse_args()
    if args.report_only:
        with open(os.path.join(args.out, "results.json")) as f:
            print(write_report(json.load(f), args.out, args.docs))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    binary = os.path.join(args.build_dir, "token-service")
    os.makedirs(args.out, exist_ok=True)
    work = args.work_dir or tempfile.mkdtemp(prefix="ts-bench-")
    os.makedirs(work, exist_ok=True)
    data_dir = os.path.join(work, "data")
    shutil.rmtree(data_dir, ignore_errors=True)
    os.makedirs(data_dir)

    secret = os.urandom(32).hex().encode()
    secret_file = os.path.join(work, "jwt-secret")
    with open(secret_file, "wb") as f:
        f.write(secret)
    os.chmod(secret_file, 0o600)
    key_file = os.path.join(work, "master.key")
    if os.path.exists(key_file):
        os.unlink(key_file)
    subprocess.run([binary, "keys", "init", key_file], check=True, capture_output=True)

    now = int(time.time())
    update_tenants = [f"u{size_label(n).lower()}-{mode}-{rep}" for n in sizes for mode in ("put", "patch")
                      for rep in range(args.reps)]
    tenants = [f"t{i:04d}" for i in range(TENANTS)] + [SEARCH_TENANT] + update_tenants
    tokens_file = os.path.join(work, "tokens.tsv")
    with open(tokens_file, "w") as f:
        for t in tenants:
            f.write(f"{t}\t{mint(secret, t, now)}\n")
    auth = {t: "Bearer " + mint(secret, t, now) for t in (SEARCH_TENANT, "t0000")}

    results = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
                   f"Linux {platform.release()}",
        "config": (f"wrk -t1 -c32 -d{args.duration}s, {args.reps} runs per operation; service "
                   f"`--threads 1` on core {SERVER_CORE}, wrk on core {LOAD_CORE}; SQLite "
                   f"synchronous=FULL, audit log on (the defaults)"),
        "sizes": sizes, "by_size": {}, "baselines": {}, "micro": [],
    }

    seeded = 0
    for n in sizes:
        log(f"dataset {size_label(n)}: seeding {n - seeded:,} tokens (synchronous=NORMAL, no audit log)")
        # Seeding is not what is measured: no fsync per commit, no audit log.
        service = Service(binary, data_dir, secret_file, key_file, synchronous="NORMAL",
                          audit=False)
        try:
            seed(service, tokens_file, n - seeded, TENANTS, "tok-%07d", start=seeded)
            seeded = n
            if n == sizes[0]:
                log(f"seeding the {SEARCH_TOKENS:,}-token search tenant")
                seed(service, tokens_file, SEARCH_TOKENS, SEARCH_TENANT, "s-%07d")
            for rep in range(args.reps):
                for mode in ("put", "patch"):
                    seed(service, tokens_file, UPDATE_TOKENS,
                         f"u{size_label(n).lower()}-{mode}-{rep}", "u-%06d")
        finally:
            service.stop()

        log(f"dataset {size_label(n)}: measuring (synchronous=FULL)")
        service = Service(binary, data_dir, secret_file, key_file)
        per = {"scenarios": {}}
        try:
            run_wrk(service.url(), "get_one.lua", [tokens_file, n, TENANTS], 2)  # warm-up
            reset_peak_rss(service.proc.pid)
            sc = per["scenarios"]
            sc["get_one"] = measure("get_one", args.reps, lambda i: run_wrk(
                service.url(), "get_one.lua", [tokens_file, n, TENANTS], args.duration))
            page_path = f"/ai-service/{SEARCH_TENANT}/agentic/tokens?pageSize=60"
            sc["list_page"] = measure("list_page", args.reps, lambda i: run_wrk(
                service.url(), "get_path.lua", [tokens_file, SEARCH_TENANT, page_path],
                args.duration))
            search_path = (f"/ai-service/{SEARCH_TENANT}/agentic/tokens?pageSize=60&q="
                           + urllib.parse.quote('name:~"team-4[0-9]$"'))
            sc["search"] = measure("search", args.reps, lambda i: run_wrk(
                service.url(), "get_path.lua", [tokens_file, SEARCH_TENANT, search_path],
                args.duration))
            sc["create"] = measure("create", args.reps, lambda i: run_wrk(
                service.url(), "create.lua", [tokens_file, TENANTS, f"{size_label(n)}r{i}"],
                args.duration))
            sc["put"] = measure("put", args.reps, lambda i: run_wrk(
                service.url(), "update.lua",
                [tokens_file, f"u{size_label(n).lower()}-put-{i}", UPDATE_TOKENS, "put"], args.duration))
            sc["patch"] = measure("patch", args.reps, lambda i: run_wrk(
                service.url(), "update.lua",
                [tokens_file, f"u{size_label(n).lower()}-patch-{i}", UPDATE_TOKENS, "patch"],
                args.duration))
            per["peak_rss_mib"] = peak_rss_kib(service.proc.pid) / 1024
            if n == sizes[0]:
                one = get_bytes(service.url("/ai-service/t0000/agentic/tokens/tok-0000000"),
                                auth["t0000"])
                page = get_bytes(service.url(page_path), auth[SEARCH_TENANT])
        finally:
            service.stop()
        per["db_mib"] = os.path.getsize(os.path.join(data_dir, "tokens.db")) / 2**20
        results["by_size"][str(n)] = per

    log("baselines: nginx with byte-identical bodies")
    nginx = Nginx(work, {"one.json": one, "page.json": page})
    try:
        b = results["baselines"]
        b["nginx_one"] = measure("nginx one", args.reps, lambda i: run_wrk(
            f"http://127.0.0.1:{nginx.port}", "get_path.lua", [tokens_file, "-", "/one.json"],
            args.duration))
        b["nginx_page"] = measure("nginx page", args.reps, lambda i: run_wrk(
            f"http://127.0.0.1:{nginx.port}", "get_path.lua", [tokens_file, "-", "/page.json"],
            args.duration))
        b["one_bytes"], b["page_bytes"] = len(one), len(page)
    finally:
        nginx.stop()
    log("baselines: etcd v3 JSON gateway")
    etcd = Etcd()
    try:
        b["etcd_range"] = measure("etcd range", args.reps, lambda i: run_wrk(
            f"http://127.0.0.1:{etcd.port}", "etcd.lua", ["-", "range"], args.duration))
        b["etcd_put"] = measure("etcd put", args.reps, lambda i: run_wrk(
            f"http://127.0.0.1:{etcd.port}", "etcd.lua", ["-", "put"], args.duration))
    finally:
        etcd.stop()
    b["fsync_per_s"] = fsync_rate(data_dir)
    log(f"disk: {b['fsync_per_s']:,.0f} fdatasync/s")

    log("microbenchmarks")
    results["micro"] = run_micro(args.build_dir)

    # Ratios to the baselines, as the targets state them.
    for n in sizes:
        sc = results["by_size"][str(n)]["scenarios"]
        sc["get_one"]["ratio"] = f"{sc['get_one']['rps'] / b['nginx_one']['rps']:.2f}× nginx"
        sc["list_page"]["ratio"] = f"{sc['list_page']['rps'] / b['nginx_page']['rps']:.2f}× nginx"
        for s in ("create", "put", "patch"):
            sc[s]["ratio"] = (f"{sc[s]['rps'] / b['etcd_put']['rps']:.2f}× etcd put, "
                              f"{sc[s]['rps'] / b['fsync_per_s']:.2f}× fsync rate")

    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    table = write_report(results, args.out, args.docs)
    print(table)


if __name__ == "__main__":
    main()
