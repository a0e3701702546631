#!/usr/bin/env python3
# Atlas — bench/retrieval: turns the JSON files of one run into the Markdown report.
import glob
import json
import os
import sys

out = sys.argv[1]


def load(name):
    path = os.path.join(out, name)
    return json.load(open(path)) if os.path.exists(path) else None


def first_at(runs, target):
    return next((run for run in runs if run["recall"] >= target), None)


meta = load("meta.json")
print(f"# Retrieval benchmark, {meta['date']}\n")
print(f"- commit {meta['commit']}; {meta['cpus']} CPUs ({meta['cpu']}); load average at start {meta['load']}")
print(f"- {meta['swift']}; {meta['python']}, hnswlib {meta['hnswlib']} (built by pip with -O3 -march=native)")
print("- one thread for both builds and for every query; top-10; cosine (inner product of unit vectors); "
      "latency is one query at a time, measured around the search call\n")

for path in sorted(glob.glob(os.path.join(out, "generate-*.json"))):
    noise = os.path.basename(path)[len("generate-"):-len(".json")]
    generate, atlas, hnsw = load(f"generate-{noise}.json"), load(f"atlas-{noise}.json"), load(f"hnswlib-{noise}.json")
    if not (atlas and hnsw):
        continue
    print(f"## {generate['count']:,} vectors × {generate['dimensions']}, {generate['clusters']} topics, noise {noise}\n")
    print(f"{generate['queries']} queries from the same distribution; M={atlas['m']}, ef_construction={atlas['ef_construction']}.\n")
    print("| ef | Atlas p50 | Atlas p95 | Atlas recall@10 | hnswlib p50 | hnswlib p95 | hnswlib recall@10 | p50 ratio (Atlas/hnswlib) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    by_ef = {run["ef"]: run for run in hnsw["runs"]}
    for run in atlas["runs"]:
        other = by_ef.get(run["ef"])
        if other:
            print(f"| {run['ef']} | {run['p50_ms']:.3f} ms | {run['p95_ms']:.3f} ms | {run['recall']:.4f} | "
                  f"{other['p50_ms']:.3f} ms | {other['p95_ms']:.3f} ms | {other['recall']:.4f} | {run['p50_ms'] / other['p50_ms']:.2f} |")
    print()
    for target in (0.95, 0.99):
        a, h = first_at(atlas["runs"], target), first_at(hnsw["runs"], target)
        line = f"- recall@10 ≥ {target}: "
        line += f"Atlas at ef={a['ef']}: {a['p50_ms']:.3f} ms p50 (recall {a['recall']:.4f})" if a else "Atlas: not reached"
        line += f"; hnswlib at ef={h['ef']}: {h['p50_ms']:.3f} ms p50 (recall {h['recall']:.4f})" if h else "; hnswlib: not reached"
        if a and h:
            line += f"; ratio {a['p50_ms'] / h['p50_ms']:.2f}"
        print(line)
    print(f"- build: Atlas {atlas['build_seconds']:.1f} s, hnswlib {hnsw['build_seconds']:.1f} s "
          f"({generate['count'] / atlas['build_seconds']:,.0f} and {generate['count'] / hnsw['build_seconds']:,.0f} vectors/s)")
    print(f"- exact scan (Atlas's small-tenant tier) over all {generate['count']:,} vectors: "
          f"{atlas['exact_p50_ms']:.2f} ms p50, {atlas['exact_p95_ms']:.2f} ms p95\n")

print("## Ingest\n")
for backend in ("sqlite", "postgres"):
    ingest = load(f"ingest-{backend}.json")
    if not ingest:
        continue
    print(f"- {backend}: {ingest['documents']:,} documents, {ingest['chunks']:,} chunks in {ingest['seconds']:.1f} s = "
          f"**{ingest['chunks_per_second']:,.0f} chunks/s** (batches of {ingest['batch']} documents, chunk + embed + store + "
          f"index; chunking and embedding alone: {ingest['chunk_and_embed_per_second']:,.0f} chunks/s); first search of the "
          f"tenant (index load) {ingest['first_search_load_seconds'] * 1000:.0f} ms; hybrid search p50 "
          f"{ingest['hybrid_search_p50_ms']:.2f} ms, p95 {ingest['hybrid_search_p95_ms']:.2f} ms")
