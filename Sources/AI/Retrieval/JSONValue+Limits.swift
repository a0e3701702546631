// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

import Core

/// Limits the retrieval module applies to document metadata.
extension JSONValue {
    /// Whether a string or key anywhere in the value holds U+0000, which PostgreSQL cannot store.
    var containsNUL: Bool {
        switch self {
        case .string(let value): value.unicodeScalars.contains("\u{0}")
        case .array(let values): values.contains { $0.containsNUL }
        case .object(let values): values.contains { $0.key.unicodeScalars.contains("\u{0}") || $0.value.containsNUL }
        default: false
        }
    }

    /// Nesting depth (a scalar is 0), to refuse pathological documents.
    var depth: Int {
        switch self {
        case .array(let values): 1 + (values.map(\.depth).max() ?? 0)
        case .object(let values): 1 + (values.values.map(\.depth).max() ?? 0)
        default: 0
        }
    }
}
