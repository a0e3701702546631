// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

import Storage

/// Full-text search over chunks: the one place where the two backends differ.
///
/// - SQLite: an FTS5 table `ai_chunks_fts(title, text)` with the `porter unicode61` tokenizer
///   (sqlite.org/fts5.html), keyed by the chunk's `seq` as its rowid and written by this type in the
///   same transaction as the chunk. Not by triggers: with `trusted_schema=OFF` (Storage's fixed
///   PRAGMA) SQLite refuses virtual tables inside triggers. Ranked by `bm25()` with the title
///   weighted twice the text.
/// - PostgreSQL: the generated column `ai_chunks.tsv` (`to_tsvector('english', …)`, title weight
///   A, text weight D) under a GIN index (postgresql.org/docs/15/textsearch.html), so nothing is
///   written here. Ranked by `ts_rank_cd`.
///
/// Queries are built from terms that contain only letters and digits (see ``terms(for:)``), each
/// quoted, and OR-ed: user text never reaches the FTS5 or `tsquery` parser as syntax.
enum LexicalIndex {
    /// Indexes one chunk (SQLite); nothing to do on PostgreSQL.
    static func insert(seq: Int64, title: String, text: String, on conn: any Connection) throws {
        guard conn.dialect == .sqlite else { return }
        try conn.execute("INSERT INTO ai_chunks_fts (rowid, title, text) VALUES (\(seq), \(title), \(text))")
    }

    /// Removes the chunks of one document (SQLite); PostgreSQL's index follows the rows.
    static func removeDocument(_ tenant: String, documentID: String, on conn: any Connection) throws {
        guard conn.dialect == .sqlite else { return }
        try conn.execute("""
            DELETE FROM ai_chunks_fts WHERE rowid IN \
            (SELECT seq FROM ai_chunks WHERE tenant_id = \(tenant) AND document_id = \(documentID))
            """)
    }

    /// The words a lexical query searches for: the query's non-stop words plus the members of
    /// their synonym groups, letters and digits only, at most `limit`.
    static func terms(for query: String, limit: Int = 48) -> [String] {
        let analyzer = TextAnalyzer.shared
        var seen = Set<String>()
        var terms: [String] = []
        func add(_ word: String) {
            guard terms.count < limit, !word.isEmpty, word.unicodeScalars.allSatisfy(TextAnalyzer.isWordScalar),
                  seen.insert(word).inserted else { return }
            terms.append(word)
        }
        let words = analyzer.words(query).map(\.text).filter { !analyzer.isStopWord($0) }
        for word in words { add(word) }
        for word in words {
            guard let term = analyzer.term(word) else { continue }
            for synonym in SynonymTable.members[term] ?? [] { add(synonym) }
        }
        return terms
    }

    /// Chunks of `tenant` matching any of `terms`, best first: `(seq, score)` with higher scores
    /// better on both backends.
    static func search(_ tenant: String, terms: [String], limit: Int, on conn: any Connection) throws -> [(seq: Int64, score: Double)] {
        guard !terms.isEmpty, limit > 0 else { return [] }
        let query: SQLQuery
        switch conn.dialect {
        case .sqlite:
            let match = terms.map { "\"" + $0.replacing("\"", with: "\"\"") + "\"" }.joined(separator: " OR ")
            query = """
                SELECT c.seq AS seq, -bm25(ai_chunks_fts, 2.0, 1.0) AS score \
                FROM ai_chunks_fts JOIN ai_chunks c ON c.seq = ai_chunks_fts.rowid \
                WHERE ai_chunks_fts MATCH \(match) AND c.tenant_id = \(tenant) \
                ORDER BY score DESC, c.seq LIMIT \(limit)
                """
        case .postgres:
            // Each term is letters and digits only, so quoting it makes it one tsquery lexeme.
            let expression = terms.map { "'" + $0 + "'" }.joined(separator: " | ")
            query = """
                SELECT c.seq AS seq, ts_rank_cd(c.tsv, q.query) AS score \
                FROM ai_chunks c, to_tsquery('english', \(expression)) AS q(query) \
                WHERE c.tenant_id = \(tenant) AND c.tsv @@ q.query \
                ORDER BY score DESC, c.seq LIMIT \(limit)
                """
        }
        return try conn.query(query).map { row in
            (try row.decode("seq", as: Int64.self), try row.decode("score", as: Double.self))
        }
    }
}
