// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

/// A model, test or project file that cannot be parsed or rendered: names the file and the line,
/// e.g. `models/marts/orders.sql:12: unsupported tag 'macro'`.
public struct TemplateError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file, relative to the project folder.
    public var file: String
    /// 1-based.
    public var line: Int
    public var message: String

    public init(file: String, line: Int, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { "\(file):\(line): \(message)" }
}
