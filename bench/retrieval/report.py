#!/usr/bin/env python3
# Atlas — bench/retrieval: turns the JSON files of one run into the Markdown report.
import json
import os
import sys

out = sys.argv[1]


def load(name):
    path = os.path.join(out, name)
    return json.load(open(path)) if os.path.exists(path) else None


meta, generate, atlas, hnsw = load("meta.json"), load("generate.json"), load("atlas.json"), load("hnswlib.json")
print(f"# Retrieval benchmark, {meta['date']}\n")
print(f"- commit {meta['commit']}; {meta['cpus']} CPUs ({meta['cpu']}); load average at start {meta['load']}")
print(f"- {meta['swift']}; {meta['python']}, hnswlib {meta['hnswlib']}")
print(f"- {generate['count']:,} vectors of {generate['dimensions']} dimensions around {generate['clusters']} topic centres, "
      f"(noise {generate['noise']}), {generate['queries']} queries from the same distribution; top-10, cosine (inner product of unit vectors); "
      f"M={atlas['m']}, ef_construction={atlas['ef_construction']}, one thread for both builds and all queries\n")
print("| ef | Atlas p50 | Atlas p95 | Atlas recall@10 | hnswlib p50 | hnswlib p95 | hnswlib recall@10 | p50 ratio (Atlas/hnswlib) |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|")
by_ef = {run["ef"]: run for run in hnsw["runs"]}
for run in atlas["runs"]:
    other = by_ef.get(run["ef"])
    if other:
        print(f"| {run['ef']} | {run['p50_ms']:.3f} ms | {run['p95_ms']:.3f} ms | {run['recall']:.4f} | "
              f"{other['p50_ms']:.3f} ms | {other['p95_ms']:.3f} ms | {other['recall']:.4f} | {run['p50_ms'] / other['p50_ms']:.2f} |")
print()


def first_at(runs, target):
    return next((run for run in runs if run["recall"] >= target), None)


for target in (0.95, 0.99):
    a, h = first_at(atlas["runs"], target), first_at(hnsw["runs"], target)
    if a and h:
        print(f"- recall@10 ≥ {target}: Atlas at ef={a['ef']} {a['p50_ms']:.3f} ms p50 (recall {a['recall']:.4f}), "
              f"hnswlib at ef={h['ef']} {h['p50_ms']:.3f} ms p50 (recall {h['recall']:.4f}); ratio {a['p50_ms'] / h['p50_ms']:.2f}")
print(f"- build: Atlas {atlas['build_seconds']:.1f} s, hnswlib {hnsw['build_seconds']:.1f} s "
      f"({generate['count'] / atlas['build_seconds']:,.0f} and {generate['count'] / hnsw['build_seconds']:,.0f} vectors/s)")
print(f"- exact scan (Atlas's small-tenant tier) over all {generate['count']:,} vectors: "
      f"{atlas['exact_p50_ms']:.2f} ms p50, {atlas['exact_p95_ms']:.2f} ms p95\n")

for backend in ("sqlite", "postgres"):
    ingest = load(f"ingest-{backend}.json")
    if not ingest:
        continue
    print(f"- ingest into {backend}: {ingest['documents']:,} documents, {ingest['chunks']:,} chunks in {ingest['seconds']:.1f} s = "
          f"**{ingest['chunks_per_second']:,.0f} chunks/s** (batches of {ingest['batch']} documents; chunking and embedding alone: "
          f"{ingest['chunk_and_embed_per_second']:,.0f} chunks/s); first search of the tenant (index load) "
          f"{ingest['first_search_load_seconds'] * 1000:.0f} ms; hybrid search p50 {ingest['hybrid_search_p50_ms']:.2f} ms, "
          f"p95 {ingest['hybrid_search_p95_ms']:.2f} ms")
