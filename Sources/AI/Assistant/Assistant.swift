// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Core
import Foundation
public import Logging

/// The built-in `assistant` graph (SPEC §4 "AI runtime"): the reference design's four-node stub
/// made real.
///
/// ```
/// retrieve → safety → cache ─(hit)──→ evaluate ─(needs review)→ hitl → END
///                           └(miss)→ llm ─┘      └(otherwise)───→ auto → END
/// ```
///
/// - **retrieve**: refuses an over-budget tenant (402, before anything is spent), redacts PII in
///   the question, embeds it once and looks it up in the semantic cache with that embedding; on a
///   miss searches the tenant's documents (hybrid, ``AssistantConfiguration/topK``, the same
///   embedding), on a hit reuses the passages stored with the cached answer (the lookup confirmed
///   the entry against the current document generation); then adds the tenant's data-catalog
///   entries that share words with the question (``TenantDataCatalog``, when the Data module
///   provides one) and its feature values.
/// - **safety**: drops passages the injection check flags (recorded in `safety.flagged_chunks`)
///   and numbers the rest `[1]…[n]` (`context`, `citations`).
/// - **cache**: serves the hit the lookup found (`cached`, `response`, `cache`); a hit skips the
///   model, and **evaluate** still judges the cached answer against its context.
/// - **llm**: the provider, metered: budget checked first, usage recorded after
///   (source `ai.assistant:<model>`); the answer is redacted and cut to the length limit.
/// - **evaluate**: groundedness, hallucination risk, sentiment, `needs_review`.
/// - **auto**: stores the answer in the semantic cache; `route` = `auto`.
/// - **hitl**: sends an `ai.review_requested` notice, then interrupts with the question, the
///   draft, its evaluation and citations. On resume: `approve` keeps the draft, `edit` replaces it
///   with the reviewer's text (a string, or `{"response": …}`), `reject` replaces it with an
///   escalation message; an approved or edited answer is cached. `route` = `hitl`.
///
/// The final state keeps the reference fields `question`, `tenant`, `context`, `response`,
/// `cached`, `evaluation {sentiment, hallucination_risk, needs_review, …}`, `route`, plus
/// `citations`, `safety`, `usage`, `model` and, after review, `review`.
public final class Assistant: Sendable {
    /// The name the graph is registered under.
    public static let graphName = "assistant"
    /// The response after a reviewer rejected the draft.
    public static let escalatedResponse = "A reviewer did not approve the drafted answer, so this question has been escalated to a member of the support team, who will follow up."
    /// The runbook a review notice points to.
    public static let runbook = "automation/playbooks/human-review.md"

    public let configuration: AssistantConfiguration
    let retriever: any Retriever
    let cache: any SemanticCache
    let provider: MeteredProvider
    let safety: SafetyFilter
    let evaluator: Evaluator
    let notifier: (any Notifier)?
    let dataCatalog: (any TenantDataCatalog)?
    let logger: Logger

    /// - Parameters:
    ///   - provider: the model; `nil` builds the one the configuration names.
    ///   - budgetGuard: refuses over-budget tenants (Billing's); `nil` never refuses.
    ///   - usageMeter: records each model call (Billing's); `nil` records nothing.
    ///   - notifier: where review requests go (Billing's outbox); `nil` only interrupts.
    ///   - dataCatalog: the tenant's datasets and features (the Data module's), if any.
    public init(retriever: any Retriever, semanticCache: any SemanticCache, configuration: AssistantConfiguration,
                provider: (any LLMProvider)? = nil, budgetGuard: (any BudgetGuard)?, usageMeter: (any UsageMeter)?,
                notifier: (any Notifier)?, dataCatalog: (any TenantDataCatalog)? = nil, logger: Logger,
                usageMetrics: AIUsageMetrics? = nil) {
        self.configuration = configuration
        self.retriever = retriever
        self.cache = semanticCache
        self.provider = MeteredProvider(provider ?? configuration.llm.makeProvider(), budgetGuard: budgetGuard, usageMeter: usageMeter,
                                        usageMetrics: usageMetrics)
        self.safety = SafetyFilter(configuration: configuration.safety)
        self.evaluator = Evaluator(mode: configuration.evaluationMode)
        self.notifier = notifier
        self.dataCatalog = dataCatalog
        self.logger = logger
    }

    /// Throws the budget guard's 402 when `tenant` may not run the assistant now. Callers that
    /// start runs (`POST /ai/runs`, `atlas ai run`) call it first so the refusal is the answer
    /// itself rather than a failed run; the graph checks again before spending anything.
    public func checkBudget(_ tenant: TenantID) async throws {
        try await provider.checkBudget(tenant)
    }

    /// The question a run's input carries, validated: 422 when missing, blank or too long.
    public func validatedQuestion(_ input: GraphState) throws -> String {
        guard let question = input["question"]?.string?.trimmingCharacters(in: .whitespacesAndNewlines), !question.isEmpty else {
            throw AtlasError.unprocessable("question: a non-empty string is required", code: "invalid_question")
        }
        guard question.count <= configuration.safety.maxQuestionCharacters else {
            throw AtlasError.unprocessable("question: at most \(configuration.safety.maxQuestionCharacters) characters",
                                           code: "invalid_question")
        }
        return question
    }

    // MARK: Nodes

    func retrieve(_ state: GraphState, _ context: NodeContext) async throws -> GraphState {
        try await provider.checkBudget(context.tenant)
        let (question, redactions) = safety.redact(try validatedQuestion(state))
        let tenant = context.tenant
        // One embedding serves the cache lookup and the search.
        let query = try await retriever.embedQuery(question, tenant: tenant)
        let lookup = try await cache.lookup(query, tenant: tenant)
        provider.usageMetrics?.recordCacheLookup(tenant: context.tenant, hit: lookup.hit != nil)
        var update: GraphState = ["cache": .null]
        var retrieved: [JSONValue]
        if let hit = lookup.hit {
            update["cache"] = .object([
                "question": .string(hit.question), "answer": .string(hit.answer), "similarity": .number(Self.rounded(hit.similarity)),
                "hits": .number(Double(hit.hits)), "reviewed": hit.metadata["reviewed"] ?? .bool(false),
                "citations": hit.metadata["citations"] ?? .null,
            ])
        }
        if let hit = lookup.hit, let passages = Self.storedPassages(hit.metadata) {
            // The lookup confirmed the entry against the tenant's current document generation in
            // storage, and every change to the documents advances it and deletes the entries: the
            // passages the answer was drawn from are still the tenant's documents, unchanged.
            retrieved = passages
        } else {
            let hits = try await retriever.search(query, tenant: tenant, topK: configuration.topK, mode: .hybrid)
            retrieved = hits.map { hit in
                .object(["title": .string(hit.title), "text": .string(hit.text), "source": .string(hit.chunkID),
                         "document_id": .string(hit.documentID), "score": .number(Self.rounded(hit.score))])
            }
        }
        if let dataCatalog {
            let questionTerms = Set(TextAnalyzer.shared.terms(question)).subtracting(TextAnalyzer.questionWords)
            do {
                let datasets = try await dataCatalog.catalog(for: tenant)
                update["data_catalog"] = .array(datasets.map { dataset in
                    .object(["name": .string(dataset.name), "description": .string(dataset.description),
                             "freshness": dataset.freshness.map { .string($0.formatted(.iso8601)) } ?? .null])
                })
                for dataset in datasets {
                    let text = "\(dataset.name.replacingOccurrences(of: "_", with: " ")): \(dataset.description)"
                    guard !questionTerms.isDisjoint(with: TextAnalyzer.shared.terms(text)) else { continue }
                    let fresh = dataset.freshness.map { " Last refreshed \($0.formatted(.iso8601))." } ?? " Not built yet."
                    retrieved.append(.object(["title": .string("Dataset \(dataset.name)"), "text": .string(dataset.description + fresh),
                                              "source": .string("catalog:\(dataset.name)"), "score": .number(0)]))
                }
                update["features"] = .object(try await dataCatalog.features(for: tenant))
            } catch let error as CancellationError {
                throw error
            } catch {
                // The catalog enriches an answer; its absence must not fail one.
                logger.warning("data catalog unavailable", metadata: ["tenant.id": "\(tenant)", "error": "\(error)"])
            }
        }
        update["question"] = .string(question)
        update["tenant"] = .string(tenant.rawValue)
        update["generation"] = .number(Double(lookup.generation))
        update["retrieved"] = .array(retrieved)
        update["safety"] = .object(["input_redactions": Self.json(redactions)])
        return update
    }

    func screen(_ state: GraphState, _ context: NodeContext) async throws -> GraphState {
        let retrieved = state["retrieved"]?.assistantItems ?? []
        let passages = retrieved.enumerated().map { index, item in
            LLMPassage(number: index + 1, title: item["title"]?.string ?? "", text: item["text"]?.string ?? "",
                       source: item["source"]?.string ?? "")
        }
        let (kept, flagged) = safety.screen(passages)
        var citations: [JSONValue] = []
        var texts: [JSONValue] = []
        for (index, passage) in kept.enumerated() {
            let original = retrieved[passage.number - 1]
            var citation: [String: JSONValue] = ["number": .number(Double(index + 1)), "title": .string(passage.title),
                                                 "source": .string(passage.source)]
            if let document = original["document_id"] { citation["document_id"] = document }
            if let score = original["score"] { citation["score"] = score }
            citations.append(.object(citation))
            texts.append(.string(passage.text))
        }
        if !flagged.isEmpty {
            logger.notice("retrieved passages dropped by the injection check",
                          metadata: ["tenant.id": "\(context.tenant)", "ai.run_id": "\(context.runID)", "ai.flagged": "\(flagged.count)"])
        }
        return [
            "context": .array(texts), "citations": .array(citations), "retrieved": .null,
            "safety": .object(["flagged_chunks": .array(flagged.map { chunk in
                .object(["source": .string(chunk.source), "title": .string(chunk.title),
                         "reasons": .array(chunk.reasons.map { .string($0) })])
            })]),
        ]
    }

    /// Serves the hit that the retrieve step's lookup found and counted: the cached answer, with
    /// the citations its numbers refer to.
    func lookUpCache(_ state: GraphState, _ context: NodeContext) async throws -> GraphState {
        guard case .object(var hit)? = state["cache"], let answer = hit.removeValue(forKey: "answer")?.string else {
            return ["cached": .bool(false)]
        }
        let citations = hit.removeValue(forKey: "citations")
        var update: GraphState = ["cached": .bool(true), "response": .string(answer), "cache": .object(hit)]
        if let citations, citations != .null { update["citations"] = citations }
        return update
    }

    func generate(_ state: GraphState, _ context: NodeContext) async throws -> GraphState {
        let texts = state["context"]?.assistantItems ?? []
        let citations = state["citations"]?.assistantItems ?? []
        let passages = zip(texts, citations).enumerated().map { index, pair in
            LLMPassage(number: index + 1, title: pair.1["title"]?.string ?? "", text: pair.0.string ?? "", source: pair.1["source"]?.string ?? "")
        }
        let request = LLMRequest(messages: [.user(state["question"]?.string ?? "")], passages: passages,
                                 maxTokens: configuration.llm.maxOutputTokens, temperature: 0)
        let completion = try await provider.complete(request, tenant: context.tenant, idempotencyKey: "\(context.runID):llm:\(context.step)")
        let (response, redactions, truncated) = safety.screenOutput(completion.text)
        return [
            "response": .string(response),
            "model": .string(completion.model),
            "usage": .object([
                "provider": .string(completion.provider), "input_tokens": .number(Double(completion.usage.inputTokens)),
                "output_tokens": .number(Double(completion.usage.outputTokens)),
                "total_tokens": .number(Double(completion.usage.totalTokens)), "latency_ms": .number(Self.rounded(completion.latencyMs)),
            ]),
            "safety": .object(["output_redactions": Self.json(redactions), "truncated": .bool(truncated)]),
        ]
    }

    func evaluate(_ state: GraphState, _ context: NodeContext) async throws -> GraphState {
        let cached = state["cached"] == .bool(true)
        let texts = (state["context"]?.assistantItems ?? []).compactMap(\.string)
        let evaluation = evaluator.evaluate(question: state["question"]?.string ?? "", answer: state["response"]?.string ?? "",
                                            context: texts,
                                            passageCount: cached ? nil : (state["citations"]?.assistantItems ?? []).count)
        var json = evaluation.json
        // A reviewer already approved this answer: serving it again needs no second review.
        if cached, state["cache"]?["reviewed"] == .bool(true), evaluation.needsReview {
            json = Self.replacing(json, ["needs_review": .bool(false), "reasons": .array([.string("approved by a reviewer before it was cached")])])
        }
        return ["evaluation": json]
    }

    static func replacing(_ object: JSONValue, _ entries: [String: JSONValue]) -> JSONValue {
        guard case .object(var fields) = object else { return object }
        fields.merge(entries) { _, new in new }
        return .object(fields)
    }

    static func route(_ state: GraphState) -> String {
        state["evaluation"]?["needs_review"] == .bool(true) ? "hitl" : "auto"
    }

    func finishAutomatically(_ state: GraphState, _ context: NodeContext) async throws -> GraphState {
        try await storeInCache(state, response: state["response"]?.string, reviewed: false, tenant: context.tenant)
        return ["route": .string("auto")]
    }

    func review(_ state: GraphState, _ context: NodeContext) async throws -> GraphState {
        let question = state["question"]?.string ?? ""
        let draft = state["response"] ?? .null
        let evaluation = state["evaluation"] ?? .null
        let reviewURL = "/ai/runs/\(context.runID)"
        if !context.isResuming, let notifier {
            // Idempotent by id: a node re-run after a crash does not notify twice.
            try await notifier.notify(OperatorNotice(
                type: "ai.review_requested", id: "\(context.runID):review:\(context.step)", tenant: context.tenant,
                summary: "An assistant answer for tenant \(context.tenant) waits for review: \(question.prefix(120))",
                fields: ["run_id": .string(context.runID), "question": .string(question), "response": draft,
                         "evaluation": evaluation, "review_url": .string(reviewURL), "runbook": .string(Self.runbook)]))
        }
        var payload: [String: JSONValue] = [
            "question": .string(question), "draft_response": draft, "evaluation": evaluation,
            "citations": state["citations"] ?? .array([]), "review_url": .string(reviewURL), "runbook": .string(Self.runbook),
            "decisions": .array([.string("approve"), .string("reject"), .string("edit")]),
        ]
        var command = try context.interrupt(.object(payload))
        // An edit without text asks again rather than failing the run.
        var attempts = 1
        while command.decision == .edit, Self.editedText(command.value) == nil, attempts < 5 {
            payload["error"] = .string("edit needs the answer text: a string, or {\"response\": \"…\"}")
            command = try context.interrupt(.object(payload))
            attempts += 1
        }
        var review: [String: JSONValue] = ["decision": .string(command.decision.rawValue)]
        if let comment = command.comment { review["comment"] = .string(comment) }
        var update: GraphState = ["route": .string("hitl")]
        switch command.decision {
        case .approve:
            try await storeInCache(state, response: draft.string, reviewed: true, tenant: context.tenant)
        case .edit:
            let (text, redactions, truncated) = safety.screenOutput(Self.editedText(command.value) ?? Self.escalatedResponse)
            update["response"] = .string(text)
            update["safety"] = .object(["review_redactions": Self.json(redactions), "truncated": .bool(truncated)])
            try await storeInCache(state, response: text, reviewed: true, tenant: context.tenant)
        case .reject:
            update["response"] = .string(Self.escalatedResponse)
        }
        update["review"] = .object(review)
        return update
    }

    static func editedText(_ value: JSONValue?) -> String? {
        let text = value?.string ?? value?["response"]?.string
        guard let text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return nil }
        return text
    }

    /// Caches an approved answer, unless it came from the cache, or the tenant's documents changed
    /// since the run retrieved its context (the answer may be stale).
    func storeInCache(_ state: GraphState, response: String?, reviewed: Bool, tenant: TenantID) async throws {
        guard state["cached"] != .bool(true), let response, !response.isEmpty, cache.isEnabled,
              let question = state["question"]?.string else { return }
        guard case .miss(let key) = try await cache.lookup(question, tenant: tenant) else { return }
        if let generation = state["generation"]?.int64, key.generation != generation { return }
        // The context goes with the citations, so a hit's retrieve step can reuse the passages.
        try await cache.store(response, metadata: .object(["citations": state["citations"] ?? .array([]), "reviewed": .bool(reviewed),
                                                           "context": state["context"] ?? .array([])]),
                              for: key)
    }

    /// The document passages a cached answer was drawn from: its context texts with their
    /// citations (catalog entries, which have no document, are read afresh on every run); `nil`
    /// when the entry holds none.
    static func storedPassages(_ metadata: JSONValue) -> [JSONValue]? {
        guard let texts = metadata["context"]?.assistantItems, let citations = metadata["citations"]?.assistantItems,
              texts.count == citations.count else { return nil }
        return zip(texts, citations).compactMap { text, citation in
            guard let documentID = citation["document_id"], text.string != nil else { return nil }
            return .object(["title": citation["title"] ?? .string(""), "text": text, "source": citation["source"] ?? .string(""),
                            "document_id": documentID, "score": citation["score"] ?? .number(0)])
        }
    }

    // MARK: Helpers

    static func json(_ redactions: [Redaction]) -> JSONValue {
        .object(Dictionary(uniqueKeysWithValues: redactions.map { ($0.kind.rawValue, JSONValue.number(Double($0.count))) }))
    }

    static func rounded(_ value: Double) -> Double {
        (value * 1000).rounded() / 1000
    }
}

extension JSONValue {
    /// The elements, when this is an array.
    fileprivate var assistantItems: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }
}
