// Atlas — Core
// SPDX-License-Identifier: Apache-2.0

public import Foundation

/// A configuration value that could not be used. Its description names the variable and why it was
/// refused, never the value itself (the value may be a secret).
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    /// The environment variable (or flag) at fault, e.g. `ATLAS_PORT`.
    public var variable: String
    /// Why the value was refused, e.g. "must be an integer between 1 and 65535".
    public var reason: String

    public init(variable: String, reason: String) {
        self.variable = variable
        self.reason = reason
    }

    public var description: String { "\(variable): \(reason)" }
}

/// Reads typed settings from an environment dictionary.
///
/// Every module's `Configuration` has an `init(environment:)` that uses one of these, so tests pass
/// a dictionary and production passes the process environment:
///
/// ```swift
/// let env = EnvironmentReader()                       // ProcessInfo's environment
/// let port = try env.int("ATLAS_PORT", default: 8000, in: 1...65535)
/// ```
///
/// An empty value counts as unset. A value that is set but unusable throws ``ConfigurationError``:
/// Atlas never falls back silently to a default when a setting is wrong.
public struct EnvironmentReader: Sendable {
    public let values: [String: String]

    public init(_ values: [String: String] = ProcessInfo.processInfo.environment) {
        self.values = values
    }

    /// The raw value, or `nil` when unset or empty.
    public func raw(_ key: String) -> String? {
        guard let value = values[key]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    public func string(_ key: String, default defaultValue: String) -> String {
        raw(key) ?? defaultValue
    }

    public func int(_ key: String, default defaultValue: Int, in range: ClosedRange<Int> = Int.min...Int.max) throws -> Int {
        guard let text = raw(key) else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError(variable: key, reason: "must be an integer \(Self.describe(range))")
        }
        return value
    }

    public func double(_ key: String, default defaultValue: Double, in range: ClosedRange<Double>) throws -> Double {
        guard let text = raw(key) else { return defaultValue }
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            throw ConfigurationError(variable: key, reason: "must be a number between \(range.lowerBound) and \(range.upperBound)")
        }
        return value
    }

    public func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        guard let text = raw(key)?.lowercased() else { return defaultValue }
        switch text {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError(variable: key, reason: "must be true or false")
        }
    }

    /// A duration given in seconds (fractions allowed), e.g. `ATLAS_HTTP_IDLE_TIMEOUT=60`.
    public func seconds(_ key: String, default defaultValue: Duration, in range: ClosedRange<Double> = 0.001...86_400) throws -> Duration {
        guard raw(key) != nil else { return defaultValue }
        let value = try double(key, default: 0, in: range)
        return .milliseconds(Int64((value * 1000).rounded()))
    }

    /// A comma-separated list with blanks removed.
    public func list(_ key: String, default defaultValue: [String]) -> [String] {
        guard let text = raw(key) else { return defaultValue }
        return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// One of a fixed set of values, compared case-insensitively.
    public func choice<T: RawRepresentable & CaseIterable>(_ key: String, default defaultValue: T) throws -> T where T.RawValue == String {
        guard let text = raw(key)?.lowercased() else { return defaultValue }
        guard let value = T.allCases.first(where: { $0.rawValue.lowercased() == text }) else {
            let names = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError(variable: key, reason: "must be one of \(names)")
        }
        return value
    }

    private static func describe(_ range: ClosedRange<Int>) -> String {
        switch (range.lowerBound, range.upperBound) {
        case (Int.min, Int.max): return ""
        case (let low, Int.max): return "of at least \(low)"
        case (Int.min, let high): return "of at most \(high)"
        case (let low, let high): return "between \(low) and \(high)"
        }
    }
}
