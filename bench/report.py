#!/usr/bin/env python3
# Atlas — Bench
# SPDX-License-Identifier: Apache-2.0
"""Helpers for bench/run.sh, standard library only.

  report.py wait URL --pid PID [--timeout S]    until GET URL answers 200 (fails if PID dies)
  report.py smoke BASE_URL SCENARIO             checks the scenario's responses before it is measured
  report.py sample PID                          CPU ticks and peak RSS of PID and its descendants (JSON)
  report.py record --out F --wrk F --before J --after J --server S --scenario X --connections C --round N
  report.py skip --out F --server S --scenario X --connections C --round N --reason TEXT [--na]
  report.py render RESULTS.jsonl META.json      the Markdown report (medians across rounds, ratios)
"""

import argparse
import http.client
import json
import os
import statistics
import sys
import time
import urllib.parse

SERVERS = ["atlas", "hummingbird", "nginx"]
BASELINES = ["hummingbird", "nginx"]
SCENARIOS = {
    "health": "GET /health/live",
    "echo": "POST /debug/echo",
}
ECHO_BODY = {"name": "benchmark", "count": 3, "tags": ["a", "b"]}
# Each breaks one limit of the echo route and must be refused with 422.
ECHO_OUT_OF_LIMITS = [
    {"name": "", "count": 3, "tags": []},
    {"name": "x" * 101, "count": 3, "tags": []},
    {"name": "n", "count": 1001, "tags": []},
    {"name": "n", "count": -1, "tags": []},
    {"name": "n", "count": 3, "tags": ["t"] * 21},
]
# Each has a wrong type; the limits above are the contract, so any 4xx is accepted here (422 expected).
ECHO_WRONG_TYPE = [
    {"name": "n", "count": "3", "tags": []},
    {"name": "n", "count": 3.5, "tags": []},
    {"name": "n", "count": 3, "tags": [1]},
    {"name": "n", "count": 3},
]


# ---------------------------------------------------------------------------------------------- HTTP

def request(base_url, method, path, body=None, timeout=5.0):
    parts = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        headers = {}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def cmd_wait(args):
    parts = urllib.parse.urlsplit(args.url)
    base = f"{parts.scheme}://{parts.netloc}"
    deadline = time.monotonic() + args.timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if args.pid and (read_stat(args.pid) or {}).get("state", "Z") == "Z":
            print(f"server process {args.pid} exited before it was ready ({last})", file=sys.stderr)
            return 1
        try:
            status, _ = request(base, "GET", parts.path or "/", timeout=1.0)
            if status == 200:
                return 0
            last = f"HTTP {status}"
        except OSError as error:
            last = str(error)
        time.sleep(0.1)
    print(f"{args.url} not ready after {args.timeout:g} s ({last})", file=sys.stderr)
    return 1


def cmd_smoke(args):
    """Refuses to measure a server that answers the scenario wrongly: a fast wrong answer is no result."""
    try:
        if args.scenario == "health":
            status, body = request(args.base_url, "GET", "/health/live")
            if status != 200 or json.loads(body) != {"status": "ok"}:
                return fail(f"GET /health/live answered {status} {body[:200]!r}")
            return 0
        status, body = request(args.base_url, "POST", "/debug/echo", ECHO_BODY)
        if status != 200:
            return fail(f"POST /debug/echo answered {status} {body[:200]!r}")
        if json.loads(body) != ECHO_BODY:
            return fail(f"POST /debug/echo did not echo the body: {body[:200]!r}")
        for invalid in ECHO_OUT_OF_LIMITS + ECHO_WRONG_TYPE:
            status, body = request(args.base_url, "POST", "/debug/echo", invalid)
            if status != 422 and not (invalid in ECHO_WRONG_TYPE and 400 <= status < 500):
                shown = json.dumps(invalid)[:80]
                return fail(f"POST /debug/echo {shown} answered {status}, expected 422")
        return 0
    except (OSError, ValueError) as error:
        return fail(f"{args.scenario} check failed: {error}")


def fail(message):
    print(message, file=sys.stderr)
    return 1


# ----------------------------------------------------------------------------------------- /proc

def process_tree(root):
    """PID and every descendant, from the parent field of /proc/*/stat (no procps needed)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = read_stat(int(entry))
        if stat is not None:
            children.setdefault(stat["ppid"], []).append(int(entry))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def read_stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            text = handle.read()
    except OSError:
        return None
    # proc(5): the command name is in parentheses and may hold spaces, so split after the last ')'.
    fields = text[text.rindex(")") + 2:].split()
    # Fields 3, 4, 14-17 of proc(5) (state, ppid, utime, stime, cutime, cstime) are at 0-based 0, 1,
    # 11-14 here.
    # utime/stime already add up every thread; cutime/cstime add children the process has reaped.
    return {
        "state": fields[0],
        "ppid": int(fields[1]),
        "ticks": int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14]),
    }


def read_hwm_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cmd_sample(args):
    tree = process_tree(args.pid)
    ticks = sum((read_stat(pid) or {"ticks": 0})["ticks"] for pid in tree)
    hwm = sum(read_hwm_kib(pid) for pid in tree)
    print(json.dumps({"ticks": ticks, "hwm_kib": hwm, "procs": len(tree),
                      "clk_tck": os.sysconf("SC_CLK_TCK"), "time": time.time()}))
    return 0


# ------------------------------------------------------------------------------------------ records

def parse_wrk(path):
    with open(path) as handle:
        for line in handle:
            if line.startswith("BENCH_RESULT "):
                return json.loads(line[len("BENCH_RESULT "):])
    raise SystemExit(f"no BENCH_RESULT line in {path}: did wrk run with bench/wrk/*.lua?")


def key_fields(args):
    return {"round": args.round, "server": args.server, "scenario": args.scenario,
            "connections": args.connections}


def append(path, record):
    with open(path, "a") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")


def cmd_record(args):
    wrk = parse_wrk(args.wrk)
    before, after = json.loads(args.before), json.loads(args.after)
    requests = wrk["requests"]
    cpu_s = (after["ticks"] - before["ticks"]) / after["clk_tck"]
    errors = (wrk["connect_errors"] + wrk["read_errors"] + wrk["write_errors"] + wrk["timeouts"])
    record = key_fields(args) | {
        "requests": requests,
        "rps": requests / (wrk["duration_us"] / 1e6),
        "p50_us": wrk["p50_us"], "p90_us": wrk["p90_us"], "p99_us": wrk["p99_us"],
        "max_us": wrk["max_us"],
        "cpu_s": cpu_s,
        "cpu_us_per_req": cpu_s * 1e6 / requests if requests else None,
        "hwm_kib": after["hwm_kib"], "procs": after["procs"],
        "non2xx": wrk["non2xx"], "socket_errors": errors,
        "loadavg_before": args.loadavg,
    }
    append(args.out, record)
    print(f"  {args.server:<11} {args.scenario:<6} c{args.connections:<4} "
          f"{record['rps']:>10,.0f} req/s  p50 {fmt_latency(record['p50_us']):>9}  "
          f"p99 {fmt_latency(record['p99_us']):>9}  "
          f"{fmt_cpu(record['cpu_us_per_req']):>8} CPU/req  {record['hwm_kib'] / 1024:6.1f} MiB"
          + (f"  non-2xx {record['non2xx']}" if record["non2xx"] else "")
          + (f"  socket errors {errors}" if errors else ""), file=sys.stderr)
    return 0


def cmd_skip(args):
    append(args.out, key_fields(args) | {"skipped": args.reason, "na": args.na})
    return 0


# ------------------------------------------------------------------------------------------ report

def fmt_latency(us):
    if us is None:
        return "—"
    return f"{us:.0f} µs" if us < 1000 else f"{us / 1000:.2f} ms"


def fmt_cpu(us):
    return "—" if us is None else f"{us:.1f} µs"


def fmt_rps(rps):
    if rps is None:
        return "—"
    return f"{rps:,.0f}" if rps < 10000 else f"{rps / 1000:.1f}k"


def fmt_ratio(a, b):
    if a is None or b is None or b == 0:
        return "n/a"
    ratio = a / b
    return f"{ratio:.2f}×" if ratio >= 0.1 else f"{ratio:.2g}×"


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(records):
    """Medians across rounds for each (scenario, connections, server)."""
    groups = {}
    for record in records:
        key = (record["scenario"], record["connections"], record["server"])
        groups.setdefault(key, []).append(record)
    summary = {}
    for key, group in groups.items():
        measured = [r for r in group if "skipped" not in r]
        if not measured:
            reason = group[-1]["skipped"]
            summary[key] = {"skipped": reason, "na": group[-1].get("na", False)}
            continue
        rps = [r["rps"] for r in measured]
        summary[key] = {
            "runs": len(measured),
            "failed": len(group) - len(measured),
            "rps": median(rps),
            "rps_spread": (max(rps) - min(rps)) / median(rps) if len(rps) > 1 else None,
            "p50_us": median([r["p50_us"] for r in measured]),
            "p99_us": median([r["p99_us"] for r in measured]),
            "cpu_us_per_req": median([r["cpu_us_per_req"] for r in measured]),
            "hwm_kib": median([r["hwm_kib"] for r in measured]),
            "non2xx": sum(r["non2xx"] for r in measured),
            "socket_errors": sum(r["socket_errors"] for r in measured),
        }
    return summary


def cmd_render(args):
    with open(args.results) as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    with open(args.meta) as handle:
        meta = json.load(handle)
    summary = summarize(records)
    scenarios = [s for s in SCENARIOS if any(k[0] == s for k in summary)]
    connections = sorted({k[1] for k in summary})
    servers = [s for s in SERVERS if any(k[2] == s for k in summary)]

    out = []
    out.append(f"## Benchmark run {meta['started']}")
    out.append("")
    out.append(f"- command: `{meta['command']}`")
    out.append(f"- {meta['rounds']} round(s), {meta['duration']} s per run after a {meta['warmup']} s warm-up, "
               f"`wrk -t1 --latency`; servers interleaved in each round: {', '.join(servers)}")
    out.append(f"- machine: {meta['machine']}; commit {meta['commit']}")
    out.append(f"- versions: {meta['versions']}")
    out.append(f"- raw results: `{meta['out_dir']}`")
    out.append("")
    out.append("Medians across rounds. CPU/req is the server's user+system time (all threads and child "
               "processes) over the measured run divided by the requests wrk completed; peak RSS is VmHWM "
               "(summed over nginx's master and workers). Spread is (max − min) / median of req/s.")
    out.append("")
    out.append("| scenario | conns | server | req/s | spread | p50 | p99 | CPU/req | peak RSS | errors |")
    out.append("|---|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for scenario in scenarios:
        for conns in connections:
            for server in servers:
                entry = summary.get((scenario, conns, server))
                if entry is None:
                    continue
                label = f"{scenario} (`{SCENARIOS[scenario]}`)"
                if "skipped" in entry:
                    text = "n/a" if entry["na"] else f"not measured: {entry['skipped']}"
                    out.append(f"| {label} | {conns} | {server} | {text} | | | | | | |")
                    continue
                problems = []
                if entry["non2xx"]:
                    problems.append(f"{entry['non2xx']} non-2xx")
                if entry["socket_errors"]:
                    problems.append(f"{entry['socket_errors']} socket")
                if entry["failed"]:
                    problems.append(f"{entry['failed']} run(s) failed")
                spread = "—" if entry["rps_spread"] is None else f"{entry['rps_spread'] * 100:.0f}%"
                out.append(
                    f"| {label} | {conns} | {server} | {fmt_rps(entry['rps'])} | {spread} | "
                    f"{fmt_latency(entry['p50_us'])} | {fmt_latency(entry['p99_us'])} | "
                    f"{fmt_cpu(entry['cpu_us_per_req'])} | {entry['hwm_kib'] / 1024:.1f} MiB | "
                    f"{', '.join(problems) or 'none'} |")
    out.append("")

    out.append("### Ratios, atlas ÷ baseline (medians)")
    out.append("")
    if "atlas" not in servers or not any(b in servers for b in BASELINES):
        out.append("atlas and at least one baseline must both be in the run.")
        out.append("")
        scenarios_for_ratios = []
    else:
        out.append("Above 1× is better for req/s; below 1× is better for latency, CPU/req and RSS.")
        out.append("")
        scenarios_for_ratios = scenarios
        out.append("| scenario | conns | baseline | req/s | p50 | p99 | CPU/req | peak RSS |")
        out.append("|---|---:|---|---:|---:|---:|---:|---:|")
    for scenario in scenarios_for_ratios:
        for conns in connections:
            for baseline in [b for b in BASELINES if b in servers]:
                atlas = summary.get((scenario, conns, "atlas"))
                other = summary.get((scenario, conns, baseline))
                if other is None and atlas is None:
                    continue
                if atlas is None or other is None or "skipped" in atlas or "skipped" in other:
                    out.append(f"| {scenario} | {conns} | {baseline} | n/a | n/a | n/a | n/a | n/a |")
                    continue
                out.append(
                    f"| {scenario} | {conns} | {baseline} | {fmt_ratio(atlas['rps'], other['rps'])} | "
                    f"{fmt_ratio(atlas['p50_us'], other['p50_us'])} | "
                    f"{fmt_ratio(atlas['p99_us'], other['p99_us'])} | "
                    f"{fmt_ratio(atlas['cpu_us_per_req'], other['cpu_us_per_req'])} | "
                    f"{fmt_ratio(atlas['hwm_kib'], other['hwm_kib'])} |")
    if scenarios_for_ratios:
        out.append("")

    out.append("<details><summary>Every run</summary>")
    out.append("")
    out.append("| round | scenario | conns | server | req/s | p99 | CPU/req | peak RSS | load avg before |")
    out.append("|---:|---|---:|---|---:|---:|---:|---:|---|")
    for record in records:
        if "skipped" in record:
            if not record.get("na"):
                out.append(f"| {record['round']} | {record['scenario']} | {record['connections']} | "
                           f"{record['server']} | not measured: {record['skipped']} | | | | |")
            continue
        out.append(
            f"| {record['round']} | {record['scenario']} | {record['connections']} | {record['server']} | "
            f"{fmt_rps(record['rps'])} | {fmt_latency(record['p99_us'])} | "
            f"{fmt_cpu(record['cpu_us_per_req'])} | {record['hwm_kib'] / 1024:.1f} MiB | "
            f"{record.get('loadavg_before') or ''} |")
    out.append("")
    out.append("</details>")
    print("\n".join(out))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    wait = commands.add_parser("wait")
    wait.add_argument("url")
    wait.add_argument("--pid", type=int)
    wait.add_argument("--timeout", type=float, default=60.0)
    wait.set_defaults(run=cmd_wait)

    smoke = commands.add_parser("smoke")
    smoke.add_argument("base_url")
    smoke.add_argument("scenario", choices=list(SCENARIOS))
    smoke.set_defaults(run=cmd_smoke)

    sample = commands.add_parser("sample")
    sample.add_argument("pid", type=int)
    sample.set_defaults(run=cmd_sample)

    for name, handler in (("record", cmd_record), ("skip", cmd_skip)):
        sub = commands.add_parser(name)
        sub.add_argument("--out", required=True)
        sub.add_argument("--server", required=True)
        sub.add_argument("--scenario", required=True, choices=list(SCENARIOS))
        sub.add_argument("--connections", type=int, required=True)
        sub.add_argument("--round", type=int, required=True)
        if name == "record":
            sub.add_argument("--wrk", required=True)
            sub.add_argument("--before", required=True)
            sub.add_argument("--after", required=True)
            sub.add_argument("--loadavg", default="")
        else:
            sub.add_argument("--reason", required=True)
            sub.add_argument("--na", action="store_true")
        sub.set_defaults(run=handler)

    render = commands.add_parser("render")
    render.add_argument("results")
    render.add_argument("meta")
    render.set_defaults(run=cmd_render)

    args = parser.parse_args()
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
