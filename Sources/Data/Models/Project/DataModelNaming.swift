// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

/// Where models, seeds and sources live in the database. Every name carries the module's `data_`
/// prefix (ARCHITECTURE.md, rule 3):
///
/// | dbt | relation |
/// | --- | --- |
/// | model or seed `fct_ai_context` | `data_model_fct_ai_context` |
/// | `source('raw', 'knowledge_base')` | `data_raw_knowledge_base` (ingested records) |
/// | `source('core', 'tenant_usage')` | `data_core_tenant_usage` (read-only view over Atlas's tables) |
public enum DataModelNaming {
    /// The relation a model (or seed) is materialised as.
    public static func relation(forModel name: String) -> String { "data_model_" + name.lowercased() }

    /// The relation `source(group, table)` reads.
    public static func relation(forSource group: String, table: String) -> String {
        "data_" + group.lowercased() + "_" + table.lowercased()
    }

    /// The name a table model is built under before it replaces the old one.
    static func buildingRelation(forModel name: String) -> String { relation(forModel: name) + "__atlas_new" }

    /// Whether `name` is a plain lower-case SQL identifier, safe to splice into SQL unquoted.
    public static func isValid(_ name: String) -> Bool {
        guard let first = name.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) || first == UInt8(ascii: "_"),
              name.utf8.count <= 48 else { return false }
        return name.utf8.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || $0 == UInt8(ascii: "_") || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0)
        }
    }

    static func validate(_ name: String, what: String, file: String) throws {
        guard isValid(name) else {
            throw DataProjectError("\(file): \(what) '\(name)' must be letters, digits and '_' (at most 48), starting with a letter or '_'")
        }
    }
}
