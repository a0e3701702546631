// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import HTTP
import HTTPTypes

/// The graph and run routes (SPEC §3, "Added by Atlas"), in the request's tenant:
///
/// | route | permission |
/// | --- | --- |
/// | `POST /ai/runs` | `ai.run` |
/// | `GET /ai/runs/{id}` | `ai.read` |
/// | `POST /ai/runs/{id}/resume` | `ai.run` |
/// | `GET /ai/runs/{id}/events` | `ai.read` (Server-Sent Events) |
/// | `GET /ai/runs/{id}/checkpoints` | `ai.read` |
/// | `POST /ai/runs/{id}/replay` | `ai.run` |
/// | `GET /ai/graphs`, `GET /ai/graphs/{name}` | `ai.read` |
///
/// A run of another tenant answers 404, exactly like one that does not exist.
struct RunRoutes: Sendable {
    let runs: RunService

    /// The longest `?wait=true` holds a `POST /ai/runs` before answering with the run as it stands.
    static let longestWait: Duration = .seconds(60)

    func register(_ routes: SecuredRoutes) {
        let runs = self.runs
        routes.post("/ai/runs", requires: .aiRun, tenant: .request) { request, context in
            let body = try RunJSON.decode(CreateRunBody.self, from: request)
            var input = body.input ?? [:]
            if let question = body.question {
                guard !question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    throw GraphError.invalidUpdate("question: must not be empty")
                }
                input["question"] = .string(question)
            }
            if let thread = body.threadID {
                guard (1...200).contains(thread.count) else { throw GraphError.invalidUpdate("thread_id: must be 1 to 200 characters") }
            }
            let wait = try request.query.get("wait", as: Bool.self) ?? false
            var run = try await runs.start(graph: body.graph ?? "assistant", input: input, tenant: context.tenantID, threadID: body.threadID)
            if wait { run = try await Self.settle(run, runs: runs) }
            var response = try RunJSON.response(RunBody(run), status: run.status.isSettled ? .created : .accepted)
            response.headers[.location] = "/ai/runs/\(run.id)"
            return response
        }
        routes.get("/ai/runs/{id}", requires: .aiRead, tenant: .request) { _, context in
            let id = try context.requestContext.parameters.require("id")
            guard let run = try await runs.run(id, tenant: context.tenantID) else { throw RunService.runNotFound(id) }
            return try RunJSON.response(RunBody(run))
        }
        routes.post("/ai/runs/{id}/resume", requires: .aiRun, tenant: .request) { request, context in
            let id = try context.requestContext.parameters.require("id")
            let body = try RunJSON.decode(ResumeBody.self, from: request)
            guard let decision = ResumeCommand.Decision(rawValue: body.decision.lowercased()) else {
                throw GraphError.invalidUpdate("decision: must be one of approve, reject, edit")
            }
            if decision == .edit, body.value == nil {
                throw GraphError.invalidUpdate("value: required when decision is edit")
            }
            let wait = try request.query.get("wait", as: Bool.self) ?? false
            var run = try await runs.resume(id, tenant: context.tenantID,
                                            command: ResumeCommand(decision: decision, value: body.value, comment: body.comment))
            if wait { run = try await Self.settle(run, runs: runs) }
            return try RunJSON.response(RunBody(run), status: run.status.isSettled ? .ok : .accepted)
        }
        routes.get("/ai/runs/{id}/checkpoints", requires: .aiRead, tenant: .request) { _, context in
            let id = try context.requestContext.parameters.require("id")
            let checkpoints = try await runs.checkpoints(of: id, tenant: context.tenantID)
            return try RunJSON.response(CheckpointListBody(runID: id, checkpoints: checkpoints.enumerated().map {
                CheckpointBody($0.element, seq: Int64($0.offset + 1))
            }))
        }
        routes.post("/ai/runs/{id}/replay", requires: .aiRun, tenant: .request) { request, context in
            let id = try context.requestContext.parameters.require("id")
            let body = try RunJSON.decode(ReplayBody.self, from: request)
            let run = try await runs.replay(id, tenant: context.tenantID, from: body.checkpointID, patch: body.patch)
            var response = try RunJSON.response(RunBody(run), status: .accepted)
            response.headers[.location] = "/ai/runs/\(run.id)"
            return response
        }
        routes.get("/ai/runs/{id}/events", requires: .aiRead, tenant: .request) { request, context in
            let id = try context.requestContext.parameters.require("id")
            let tenant = context.tenantID
            guard try await runs.run(id, tenant: tenant) != nil else { throw RunService.runNotFound(id) }
            // A reconnecting EventSource sends the last id it saw (HTML Living Standard §9.2.4).
            let after = request.headers["Last-Event-ID"].flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) } ?? 0
            return .stream(contentType: "text/event-stream") { writer in
                try await runs.follow(id, tenant: tenant, after: max(after, 0)) { event in
                    switch event {
                    case .checkpoint(let seq, let checkpoint):
                        try await writer.writeEvent(data: try RunJSON.text(CheckpointBody(checkpoint, seq: seq)),
                                                    event: checkpoint.interrupt != nil ? "interrupt" : "step", id: String(seq))
                    case .settled(let run):
                        try await writer.writeEvent(data: try RunJSON.text(RunBody(run)), event: run.status.rawValue)
                    case .idle:
                        try await writer.writeComment("keep-alive")
                    }
                }
            }
        }
        routes.get("/ai/graphs", requires: .aiRead, tenant: .request) { _, _ in
            try RunJSON.response(GraphListBody(graphs: runs.graphs.all.map { GraphBody($0, mermaid: false) }))
        }
        routes.get("/ai/graphs/{name}", requires: .aiRead, tenant: .request) { _, context in
            let name = try context.requestContext.parameters.require("name")
            let graph = try runs.requireGraph(name)
            return try RunJSON.response(GraphBody(graph, mermaid: true))
        }
    }

    /// Waits until the run settles, for at most ``longestWait``; the run as it stands then.
    static func settle(_ run: RunRecord, runs: RunService) async throws -> RunRecord {
        let id = run.id, tenant = run.tenant
        return try await withThrowingTaskGroup(of: RunRecord?.self) { group in
            group.addTask { try await runs.wait(for: id, tenant: tenant) }
            group.addTask {
                try await Task.sleep(for: longestWait)
                return nil
            }
            defer { group.cancelAll() }
            if let settled = try await group.next() ?? nil { return settled }
            return try await runs.run(id, tenant: tenant) ?? run
        }
    }
}

// MARK: Bodies

/// JSON for these routes: snake_case field names written out, because state keys inside JSON
/// values must stay exactly as the graph wrote them.
enum RunJSON {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }

    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .bytes(Array(try encoder().encode(value))))
    }

    static func text<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder().encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, from request: Request) throws -> T {
        if let contentType = request.headers["Content-Type"].map(RetrievalRoutes.mediaType),
           contentType != "application/json", !contentType.hasSuffix("+json") {
            throw GraphError(status: 415, code: "unsupported_media_type", detail: "the request body must be JSON (Content-Type: application/json)")
        }
        guard !request.body.isEmpty else {
            throw GraphError(status: 400, code: "malformed_json", detail: "the request body is empty; a JSON object is required")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(request.body))
        } catch let error as DecodingError {
            throw GraphError(status: error.isSyntax ? 400 : 422, code: error.isSyntax ? "malformed_json" : "invalid_body",
                             detail: error.explanation)
        }
    }
}

extension DecodingError {
    var isSyntax: Bool {
        if case .dataCorrupted(let context) = self, context.codingPath.isEmpty { return true }
        return false
    }

    var explanation: String {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch self {
        case .typeMismatch(let type, let context): return "\(path(context.codingPath)): expected \(Self.describe(type))"
        case .valueNotFound(let type, let context): return "\(path(context.codingPath)): expected \(Self.describe(type)), got null"
        case .keyNotFound(let key, let context):
            let prefix = path(context.codingPath)
            return "\(prefix.isEmpty ? "" : prefix + ".")\(key.stringValue): required field is missing"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "the body is not valid JSON" : "\(path(context.codingPath)): invalid value"
        @unknown default: return "the body does not match the expected shape"
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is [String: JSONValue].Type: "an object"
        default: "a valid value"
        }
    }
}

struct CreateRunBody: Decodable {
    var graph: String?
    var input: GraphState?
    var question: String?
    var threadID: String?

    enum CodingKeys: String, CodingKey {
        case graph, input, question
        case threadID = "thread_id"
    }
}

struct ResumeBody: Decodable {
    var decision: String
    var value: JSONValue?
    var comment: String?
}

struct ReplayBody: Decodable {
    var checkpointID: String
    var patch: GraphState?

    enum CodingKeys: String, CodingKey {
        case checkpointID = "checkpoint_id"
        case patch
    }
}

struct InterruptBody: Encodable {
    var kind: String
    var node: String
    var payload: JSONValue

    init(_ interrupt: PendingInterrupt) {
        kind = interrupt.kind.rawValue
        node = interrupt.node
        payload = interrupt.payload
    }
}

struct RunBody: Encodable {
    var run: RunRecord

    init(_ run: RunRecord) { self.run = run }

    enum CodingKeys: String, CodingKey {
        case id, graph, tenant, status, input, state, interrupt, error, step, links
        case threadID = "thread_id"
        case checkpointID = "checkpoint_id"
        case parentRunID = "parent_run_id"
        case parentCheckpointID = "parent_checkpoint_id"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case finishedAt = "finished_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(run.id, forKey: .id)
        try container.encode(run.graph, forKey: .graph)
        try container.encode(run.tenant.rawValue, forKey: .tenant)
        try container.encode(run.threadID, forKey: .threadID)
        try container.encode(run.status.rawValue, forKey: .status)
        try container.encode(run.input, forKey: .input)
        try container.encode(run.state, forKey: .state)
        try container.encode(run.interrupt.map(InterruptBody.init), forKey: .interrupt)
        try container.encode(run.error, forKey: .error)
        try container.encode(run.step, forKey: .step)
        try container.encode(run.checkpointID, forKey: .checkpointID)
        try container.encode(run.parentRunID, forKey: .parentRunID)
        try container.encode(run.parentCheckpointID, forKey: .parentCheckpointID)
        try container.encode(run.createdAt, forKey: .createdAt)
        try container.encode(run.updatedAt, forKey: .updatedAt)
        try container.encode(run.finishedAt, forKey: .finishedAt)
        try container.encode([
            "self": "/ai/runs/\(run.id)", "events": "/ai/runs/\(run.id)/events",
            "checkpoints": "/ai/runs/\(run.id)/checkpoints", "resume": "/ai/runs/\(run.id)/resume",
        ], forKey: .links)
    }
}

struct CheckpointBody: Encodable {
    var checkpoint: Checkpoint
    var seq: Int64

    init(_ checkpoint: Checkpoint, seq: Int64) {
        self.checkpoint = checkpoint
        self.seq = seq
    }

    enum CodingKeys: String, CodingKey {
        case id, seq, step, source, state, next, writes, interrupt, resume
        case runID = "run_id"
        case parentID = "parent_id"
        case createdAt = "created_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(checkpoint.id, forKey: .id)
        try container.encode(checkpoint.runID, forKey: .runID)
        try container.encode(seq, forKey: .seq)
        try container.encode(checkpoint.parentID, forKey: .parentID)
        try container.encode(checkpoint.step, forKey: .step)
        try container.encode(checkpoint.source.rawValue, forKey: .source)
        try container.encode(checkpoint.next, forKey: .next)
        try container.encode(checkpoint.writes.map { JSONValue.object(["node": .string($0.node), "update": .object($0.update)]) }, forKey: .writes)
        try container.encode(checkpoint.interrupt.map(InterruptBody.init), forKey: .interrupt)
        try container.encode(checkpoint.command?.json, forKey: .resume)
        try container.encode(checkpoint.state, forKey: .state)
        try container.encode(checkpoint.createdAt, forKey: .createdAt)
    }
}

struct CheckpointListBody: Encodable {
    var runID: String
    var checkpoints: [CheckpointBody]

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case checkpoints
    }
}

struct GraphBody: Encodable {
    var name: String
    var description: String
    var nodes: [String]
    var channels: [String: String]
    var interruptBefore: [String]
    var interruptAfter: [String]
    var recursionLimit: Int
    var mermaid: String?

    init(_ graph: CompiledGraph, mermaid: Bool) {
        name = graph.name
        description = graph.description
        nodes = graph.nodeNames
        channels = graph.channelReducers
        interruptBefore = graph.options.interruptBefore.sorted()
        interruptAfter = graph.options.interruptAfter.sorted()
        recursionLimit = graph.options.recursionLimit
        self.mermaid = mermaid ? graph.mermaid() : nil
    }

    enum CodingKeys: String, CodingKey {
        case name, description, nodes, channels, mermaid
        case interruptBefore = "interrupt_before"
        case interruptAfter = "interrupt_after"
        case recursionLimit = "recursion_limit"
    }
}

struct GraphListBody: Encodable {
    var graphs: [GraphBody]
}
