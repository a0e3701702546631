#!/usr/bin/env python3
# Atlas — retrieval benchmark: the same measurement as `RetrievalBench search`, with hnswlib
# (github.com/nmslib/hnswlib, from PyPI) on the same vector files and ground truth.
#
# Usage: hnswlib_bench.py DATA_DIR [--m 16] [--ef-construction 200] [--ef 16,32,64] [--k 10]
# Prints one JSON object on stdout; progress on stderr.
import argparse
import json
import sys
import time

import hnswlib
import numpy as np


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--dimensions", type=int, default=384)
    parser.add_argument("--m", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=200)
    parser.add_argument("--ef", default="16,32,64,96,128,200")
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()

    base = np.fromfile(f"{args.data}/base.f32", dtype="<f4").reshape(-1, args.dimensions)
    queries = np.fromfile(f"{args.data}/queries.f32", dtype="<f4").reshape(-1, args.dimensions)
    truth = np.fromfile(f"{args.data}/truth.i32", dtype="<i4").reshape(len(queries), -1)[:, : args.k]
    print(f"hnswlib: {len(base)} vectors, {len(queries)} queries", file=sys.stderr)

    # Inner product on unit vectors is cosine, as in Atlas; one thread, as Atlas builds.
    index = hnswlib.Index(space="ip", dim=args.dimensions)
    index.init_index(max_elements=len(base), M=args.m, ef_construction=args.ef_construction, random_seed=100)
    index.set_num_threads(1)
    started = time.perf_counter()
    index.add_items(base, np.arange(len(base)), num_threads=1)
    build_seconds = time.perf_counter() - started
    print(f"hnswlib: built in {build_seconds:.1f} s", file=sys.stderr)

    runs = []
    for ef in [int(x) for x in args.ef.split(",") if x]:
        index.set_ef(max(ef, args.k))
        for query in queries[:50]:
            index.knn_query(query, k=args.k, num_threads=1)
        times = []
        found = 0
        for i, query in enumerate(queries):
            started = time.perf_counter()
            labels, _ = index.knn_query(query, k=args.k, num_threads=1)
            times.append((time.perf_counter() - started) * 1000)
            found += len(set(labels[0].tolist()) & set(truth[i].tolist()))
        recall = found / (len(queries) * args.k)
        times.sort()
        p50 = times[round((len(times) - 1) * 0.5)]
        p95 = times[round((len(times) - 1) * 0.95)]
        print(f"hnswlib: ef {ef} p50 {p50:.3f} ms recall {recall:.4f}", file=sys.stderr)
        runs.append({"ef": ef, "p50_ms": p50, "p95_ms": p95, "recall": recall})

    print(json.dumps({"engine": "hnswlib", "version": getattr(hnswlib, "__version__", "unknown"), "count": len(base),
                      "dimensions": args.dimensions, "m": args.m, "ef_construction": args.ef_construction,
                      "build_seconds": build_seconds, "runs": runs}, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
