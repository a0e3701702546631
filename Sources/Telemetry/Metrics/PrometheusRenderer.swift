// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

/// One sample another module contributes at scrape time, e.g. Billing's webhook counters.
public struct ContributedSample: Sendable {
    public var name: String
    public var labels: [(String, String)]
    public var value: Double
    public var kind: MetricKind

    public init(name: String, labels: [(String, String)] = [], value: Double, kind: MetricKind? = nil) {
        self.name = MetricName.sanitize(name)
        self.labels = labels
        self.value = value
        self.kind = kind ?? (self.name.hasSuffix("_total") ? .counter : .gauge)
    }
}

/// A scrape-time source of samples; called once per scrape, off the request hot path.
public typealias MetricsContributor = @Sendable () -> [ContributedSample]

/// Adapts a module's `counters() -> [(name, label, value)]` (Billing's shape) to a contributor:
/// each name gets `prefix`, each non-nil label becomes `labelName="label"`.
///
/// ```swift
/// telemetry.contribute(counterSource(prefix: "atlas_billing_", labelName: "reason", billing.counters))
/// ```
public func counterSource(prefix: String, labelName: String = "reason",
                          _ counters: @escaping @Sendable () -> [(name: String, label: String?, value: Int64)])
    -> MetricsContributor {
    {
        counters().map { counter in
            ContributedSample(name: prefix + counter.name,
                              labels: counter.label.map { [(labelName, $0)] } ?? [],
                              value: Double(counter.value))
        }
    }
}

/// Renders the Prometheus text exposition format, version 0.0.4
/// (prometheus.io/docs/instrumenting/exposition_formats).
public enum PrometheusRenderer {
    /// The `Content-Type` of the rendered text.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Every family of `registry`, then the contributed samples grouped by name.
    public static func render(_ registry: MetricsRegistry, contributed: [ContributedSample] = []) -> String {
        var out = ""
        var seen = Set<String>()
        for (name, family) in registry.snapshot() where !family.series.isEmpty {
            seen.insert(name)
            header(name, family.kind, family.help, into: &out)
            for labels in family.order {
                guard let cell = family.series[labels] else { continue }
                switch cell {
                case .counter(let counter): sample(name, labels.pairs, Double(counter.value), into: &out)
                case .floatCounter(let counter): sample(name, labels.pairs, counter.value, into: &out)
                case .gauge(let gauge): sample(name, labels.pairs, gauge.value, into: &out)
                case .histogram(let histogram):
                    let snapshot = histogram.snapshot()
                    for (index, bound) in histogram.bounds.enumerated() {
                        sample(name + "_bucket", labels.pairs + [(name: "le", value: number(bound))],
                               Double(snapshot.cumulative[index]), into: &out)
                    }
                    sample(name + "_bucket", labels.pairs + [(name: "le", value: "+Inf")], Double(snapshot.count), into: &out)
                    sample(name + "_sum", labels.pairs, snapshot.sum, into: &out)
                    sample(name + "_count", labels.pairs, Double(snapshot.count), into: &out)
                }
            }
        }
        var groups: [String: [ContributedSample]] = [:]
        var order: [String] = []
        for item in contributed where !seen.contains(item.name) {
            if groups[item.name] == nil { order.append(item.name) }
            groups[item.name, default: []].append(item)
        }
        for name in order {
            let items = groups[name]!
            header(name, items[0].kind == .histogram ? .gauge : items[0].kind, "", into: &out)
            var written = Set<MetricLabels>()
            for item in items {
                let labels = MetricLabels(item.labels)
                guard written.insert(labels).inserted else { continue }
                sample(name, labels.pairs, item.value, into: &out)
            }
        }
        return out
    }

    private static func header(_ name: String, _ kind: MetricKind, _ help: String, into out: inout String) {
        if !help.isEmpty {
            out += "# HELP \(name) "
            for character in help {
                switch character {
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                default: out.append(character)
                }
            }
            out += "\n"
        }
        out += "# TYPE \(name) \(kind.rawValue)\n"
    }

    private static func sample(_ name: String, _ labels: [(name: String, value: String)], _ value: Double,
                               into out: inout String) {
        out += name
        if !labels.isEmpty {
            out += "{"
            for (index, label) in labels.enumerated() {
                if index > 0 { out += "," }
                out += label.name
                out += "=\""
                for character in label.value {
                    switch character {
                    case "\\": out += "\\\\"
                    case "\"": out += "\\\""
                    case "\n": out += "\\n"
                    default: out.append(character)
                    }
                }
                out += "\""
            }
            out += "}"
        }
        out += " "
        out += number(value)
        out += "\n"
    }

    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == .infinity { return "+Inf" }
        if value == -.infinity { return "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
