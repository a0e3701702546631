// Atlas — retrieval benchmark
// SPDX-License-Identifier: Apache-2.0

@testable import AI
import Core
import Foundation
import Logging
import Storage

// Usage (bench/retrieval/run.sh drives these):
//   RetrievalBench generate --out DIR [--count 100000] [--queries 1000] [--dimensions 384] [--clusters 1000] [--noise 1.0] [--seed 42]
//   RetrievalBench search   --data DIR [--m 16] [--ef-construction 200] [--ef 16,32,64,96,128] [--k 10]
//   RetrievalBench ingest   [--documents 1000] [--database-url sqlite:///…] [--batch 50]
// Every command prints one JSON object on stdout; progress goes to stderr.

struct Options {
    var values: [String: String] = [:]
    init(_ arguments: ArraySlice<String>) {
        var iterator = arguments.makeIterator()
        while let key = iterator.next() {
            guard key.hasPrefix("--") else { continue }
            values[String(key.dropFirst(2))] = iterator.next() ?? ""
        }
    }
    func int(_ key: String, _ fallback: Int) -> Int { values[key].flatMap(Int.init) ?? fallback }
    func string(_ key: String, _ fallback: String) -> String { values[key] ?? fallback }
}

func progress(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

func emit(_ object: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
    print(String(decoding: data, as: UTF8.self))
}

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

// MARK: Vector files: little-endian float32, row after row; truth: little-endian int32.

func writeFloats(_ rows: [[Float]], to path: String) throws {
    var bytes = [UInt8]()
    bytes.reserveCapacity(rows.count * (rows.first?.count ?? 0) * 4)
    for row in rows { bytes.append(contentsOf: VectorCoding.encode(row)) }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

func readFloats(_ path: String, dimensions: Int) throws -> [[Float]] {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let stride = dimensions * 4
    return (0..<(bytes.count / stride)).map { VectorCoding.decode(Array(bytes[($0 * stride)..<(($0 + 1) * stride)]), dimensions: dimensions)! }
}

/// Gaussian noise through Box–Muller on SplitMix64, so the data is the same on every machine.
struct Gaussian {
    var random: SplitMix64
    var spare: Float?
    init(seed: UInt64) { random = SplitMix64(seed: seed) }
    mutating func next() -> Float {
        if let spare { self.spare = nil; return spare }
        let u1 = max(Double(random.next() >> 11) / 9_007_199_254_740_992, 1e-300)
        let u2 = Double(random.next() >> 11) / 9_007_199_254_740_992
        let radius = (-2 * log(u1)).squareRoot()
        spare = Float(radius * sin(2 * .pi * u2))
        return Float(radius * cos(2 * .pi * u2))
    }
    mutating func vector(_ dimensions: Int) -> [Float] { (0..<dimensions).map { _ in next() } }
}

func generate(_ options: Options) throws {
    let count = options.int("count", 100_000)
    let queryCount = options.int("queries", 1000)
    let dimensions = options.int("dimensions", 384)
    let clusters = options.int("clusters", 1000)
    let noise = Float(options.values["noise"].flatMap(Double.init) ?? 1.0)
    let out = options.string("out", ".")
    var gaussian = Gaussian(seed: UInt64(options.int("seed", 42)))
    // Topic centres plus per-vector noise (`noise` × the centre's length): neighbours share a
    // topic, but within one the order is decided by the noise, as with embeddings of related
    // texts; at 1.0 a vector's cosine to its centre is about 0.7 and topics overlap.
    let centres = (0..<clusters).map { _ in VectorMath.normalize(gaussian.vector(dimensions)) }
    func sample() -> [Float] {
        let centre = centres[Int(gaussian.random.next() % UInt64(clusters))]
        let offset = VectorMath.normalize(gaussian.vector(dimensions))
        return VectorMath.normalize(zip(centre, offset).map { $0 + noise * $1 })
    }
    let base = (0..<count).map { _ in sample() }
    let queries = (0..<queryCount).map { _ in sample() }
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    try writeFloats(base, to: out + "/base.f32")
    try writeFloats(queries, to: out + "/queries.f32")
    emit(["count": count, "queries": queryCount, "dimensions": dimensions, "clusters": clusters, "noise": Double(noise)])
}

func search(_ options: Options) throws {
    let data = options.string("data", ".")
    let dimensions = options.int("dimensions", 384)
    let k = options.int("k", 10)
    let base = try readFloats(data + "/base.f32", dimensions: dimensions)
    let queries = try readFloats(data + "/queries.f32", dimensions: dimensions)
    progress("swift: \(base.count) vectors, \(queries.count) queries, \(dimensions) dimensions")

    // Exact search: the ground truth, and the latency of the exact-scan tier.
    var exact = ExactVectorIndex(dimensions: dimensions)
    for (label, vector) in base.enumerated() { exact.upsert(Int64(label), vector) }
    var truth: [[Int64]] = []
    var exactTimes: [Double] = []
    for query in queries {
        let started = ContinuousClock.now
        let result = exact.search(query, k: k)
        exactTimes.append(milliseconds(ContinuousClock.now - started))
        truth.append(result.map(\.label))
    }
    var truthBytes = [UInt8]()
    for row in truth { for label in row { withUnsafeBytes(of: Int32(label).littleEndian) { truthBytes.append(contentsOf: $0) } } }
    try Data(truthBytes).write(to: URL(fileURLWithPath: data + "/truth.i32"))
    progress(String(format: "swift: exact p50 %.2f ms", percentile(exactTimes, 0.5)))

    let parameters = HNSWIndex.Parameters(m: options.int("m", 16), efConstruction: options.int("ef-construction", 200))
    let graph = HNSWIndex(dimensions: dimensions, parameters: parameters, capacity: base.count)
    let buildStarted = ContinuousClock.now
    for (label, vector) in base.enumerated() {
        graph.insert(Int64(label), vector)
        if label % 20_000 == 19_999 { progress("swift: inserted \(label + 1)") }
    }
    let buildSeconds = milliseconds(ContinuousClock.now - buildStarted) / 1000
    progress(String(format: "swift: built in %.1f s", buildSeconds))

    var rows: [[String: Any]] = []
    for ef in options.string("ef", "16,32,64,96,128,200").split(separator: ",").compactMap({ Int($0) }) {
        var times: [Double] = []
        var found = 0
        for _ in 0..<2 { for query in queries.prefix(50) { _ = graph.search(query, k: k, ef: ef) } }   // warm-up
        for (index, query) in queries.enumerated() {
            let started = ContinuousClock.now
            let result = graph.search(query, k: k, ef: ef)
            times.append(milliseconds(ContinuousClock.now - started))
            let expected = Set(truth[index])
            found += result.filter { expected.contains($0.label) }.count
        }
        let recall = Double(found) / Double(queries.count * k)
        progress(String(format: "swift: ef %d p50 %.3f ms recall %.4f", ef, percentile(times, 0.5), recall))
        rows.append(["ef": ef, "p50_ms": percentile(times, 0.5), "p95_ms": percentile(times, 0.95), "recall": recall])
    }
    emit(["engine": "atlas-hnsw", "count": base.count, "dimensions": dimensions, "m": parameters.m,
          "ef_construction": parameters.efConstruction, "build_seconds": buildSeconds,
          "exact_p50_ms": percentile(exactTimes, 0.5), "exact_p95_ms": percentile(exactTimes, 0.95), "runs": rows])
}

func ingest(_ options: Options) async throws {
    let documentCount = options.int("documents", 1000)
    let batchSize = options.int("batch", 50)
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atlas-ingest-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = options.string("database-url", "sqlite:///" + directory.appendingPathComponent("bench.db").path)
    let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
    let database = try await openDatabase(url: url, logger: logger)
    try await Migrator(database: database, logger: logger).migrate()

    // Documents of four paragraphs of sentences drawn from a 5,000-word vocabulary of invented
    // words with Zipf-distributed frequencies (rank r has weight 1/r), as words in real text are:
    // a few very common, most rare, so full-text terms have realistic selectivity.
    var random = SplitMix64(seed: 7)
    let syllables = ["ka", "lo", "mi", "ner", "to", "sa", "vel", "dri", "an", "qu", "or", "pe", "zen", "ti", "mar", "os", "ul", "be", "ra", "fin"]
    var vocabulary: [String] = []
    var seen = Set<String>()
    while vocabulary.count < 5000 {
        let word = (0..<(2 + Int(random.next() % 3))).map { _ in syllables[Int(random.next() % UInt64(syllables.count))] }.joined()
        if seen.insert(word).inserted { vocabulary.append(word) }
    }
    var cumulative: [Double] = []
    var total = 0.0
    for rank in 1...vocabulary.count {
        total += 1 / Double(rank)
        cumulative.append(total)
    }
    func word() -> String {
        let target = Double(random.next() >> 11) / 9_007_199_254_740_992 * total
        var low = 0, high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] < target { low = middle + 1 } else { high = middle }
        }
        return vocabulary[low]
    }
    func sentence() -> String {
        let text = (0..<(8 + Int(random.next() % 10))).map { _ in word() }.joined(separator: " ")
        return text.prefix(1).uppercased() + text.dropFirst() + "."
    }
    let documents = (0..<documentCount).map { index in
        DocumentInput(id: "doc-\(index)", title: "Document \(index) " + word(), text: (0..<4).map { _ in
            (0..<(4 + Int(random.next() % 4))).map { _ in sentence() }.joined(separator: " ")
        }.joined(separator: "\n\n"))
    }
    let queries = (0..<20).map { _ in (0..<3).map { _ in vocabulary[50 + Int(random.next() % 2000)] }.joined(separator: " ") }

    let module = AIModule(database: database, configuration: AIModule.Configuration(), logger: logger)
    let tenant = TenantID("bench")!
    let started = ContinuousClock.now
    var chunks = 0
    var index = 0
    while index < documents.count {
        let batch = Array(documents[index..<min(documents.count, index + batchSize)])
        let results = try await module.retrieval.ingest(batch, tenant: tenant)
        chunks += results.reduce(0) { $0 + $1.document.chunkCount }
        index += batch.count
    }
    let seconds = milliseconds(ContinuousClock.now - started) / 1000

    // The same documents through chunking and embedding only, to show where the time goes.
    let chunker = Chunker()
    let embedder = HashingEmbedder()
    let embedStarted = ContinuousClock.now
    var embedded = 0
    for document in documents {
        for chunk in chunker.chunks(of: document.text) {
            _ = embedder.vector(for: document.title + "\n" + chunk.text)
            embedded += 1
        }
    }
    let embedSeconds = milliseconds(ContinuousClock.now - embedStarted) / 1000

    // First search of the tenant: loads every vector from storage into the index.
    let loadStarted = ContinuousClock.now
    _ = try await module.retriever.search(queries[0], tenant: tenant, topK: 10, mode: .hybrid)
    let loadSeconds = milliseconds(ContinuousClock.now - loadStarted) / 1000
    var searchTimes: [Double] = []
    for query in queries {
        for _ in 0..<5 {
            let searchStarted = ContinuousClock.now
            _ = try await module.retriever.search(query, tenant: tenant, topK: 10, mode: .hybrid)
            searchTimes.append(milliseconds(ContinuousClock.now - searchStarted))
        }
    }
    await database.close()
    emit(["backend": url.hasPrefix("sqlite") ? "sqlite" : "postgres", "documents": documentCount, "chunks": chunks,
          "seconds": seconds, "chunks_per_second": Double(chunks) / seconds, "batch": batchSize,
          "chunk_and_embed_per_second": Double(embedded) / embedSeconds, "first_search_load_seconds": loadSeconds,
          "hybrid_search_p50_ms": percentile(searchTimes, 0.5), "hybrid_search_p95_ms": percentile(searchTimes, 0.95)])
}

let arguments = CommandLine.arguments
let options = Options(arguments.dropFirst(2))
switch arguments.dropFirst().first ?? "" {
case "generate": try generate(options)
case "search": try search(options)
case "ingest": try await ingest(options)
default:
    progress("usage: RetrievalBench generate|search|ingest [--option value …]")
    exit(64)
}
