// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Core
import Foundation

/// A reviewer's answer to an interrupt (LangGraph's `Command(resume:)`).
///
/// - For an interrupt raised inside a node by ``NodeContext/interrupt(_:)``, the node runs again
///   from its start and that call returns this command; the node decides what each decision means.
/// - For a static interrupt (``CompileOptions/interruptBefore`` / ``CompileOptions/interruptAfter``):
///   `approve` continues; `edit` first applies `value` (an object) to the state through the
///   reducers, then continues; `reject` sends the run to ``CompileOptions/rejectRoute`` (default `END`).
public struct ResumeCommand: Sendable, Codable, Hashable {
    /// The three answers SPEC §4 names.
    public enum Decision: String, Sendable, Codable, Hashable, CaseIterable {
        case approve, reject, edit
    }

    public var decision: Decision
    /// The edited value (`edit`), or any value the reviewer attaches.
    public var value: JSONValue?
    /// A free-text note from the reviewer.
    public var comment: String?

    public init(decision: Decision, value: JSONValue? = nil, comment: String? = nil) {
        self.decision = decision
        self.value = value
        self.comment = comment
    }

    public static func approve(comment: String? = nil) -> ResumeCommand { ResumeCommand(decision: .approve, comment: comment) }
    public static func reject(comment: String? = nil) -> ResumeCommand { ResumeCommand(decision: .reject, comment: comment) }
    public static func edit(_ value: JSONValue, comment: String? = nil) -> ResumeCommand {
        ResumeCommand(decision: .edit, value: value, comment: comment)
    }

    /// The command as a JSON object `{decision, value?, comment?}`.
    public var json: JSONValue {
        var object: [String: JSONValue] = ["decision": .string(decision.rawValue)]
        if let value { object["value"] = value }
        if let comment { object["comment"] = .string(comment) }
        return .object(object)
    }
}

/// Where a run stopped for review.
public struct PendingInterrupt: Sendable, Codable, Hashable {
    /// `before` / `after` a node named in the compile options, or `node`: raised inside the node.
    public enum Kind: String, Sendable, Codable, Hashable {
        case before, after, node
    }

    public var kind: Kind
    /// The node the interrupt belongs to.
    public var node: String
    /// What the reviewer is shown: the node's payload, or for a static interrupt `{node, state}`.
    public var payload: JSONValue
    /// Answers already given to earlier `interrupt` calls of the same node run (a node may ask more than once).
    public var resumes: [ResumeCommand]

    public init(kind: Kind, node: String, payload: JSONValue, resumes: [ResumeCommand] = []) {
        self.kind = kind
        self.node = node
        self.payload = payload
        self.resumes = resumes
    }
}

/// Thrown by ``NodeContext/interrupt(_:)`` to stop the node until a reviewer answers. A node must
/// let it propagate: catch it only to rethrow it.
public struct NodeInterrupt: Error, Sendable {
    public let node: String
    public let payload: JSONValue
    /// The answers the node had already consumed.
    let resumes: [ResumeCommand]
}

/// What a node gets besides the state: who it runs for, and the means to ask for review.
public final class NodeContext: Sendable {
    /// The run (the checkpoint thread).
    public let runID: String
    public let tenant: TenantID
    public let graph: String
    public let node: String
    /// The superstep number being computed (the checkpoint this step produces has `step + 1`).
    public let step: Int
    let resumes: [ResumeCommand]
    private let consumed = LockedCounter()

    init(runID: String, tenant: TenantID, graph: String, node: String, step: Int, resumes: [ResumeCommand]) {
        self.runID = runID
        self.tenant = tenant
        self.graph = graph
        self.node = node
        self.step = step
        self.resumes = resumes
    }

    /// Whether the node runs again after a reviewer answered one of its interrupts.
    public var isResuming: Bool { !resumes.isEmpty }

    /// Asks for human review (LangGraph's `interrupt(value)`). The first time, this throws
    /// ``NodeInterrupt``: the run stops with status `interrupted` and `payload` on the run. When the
    /// run is resumed, the node runs again from its start and this call returns the reviewer's
    /// ``ResumeCommand``. Calls are matched by order, so a node may call it several times; code
    /// before the call runs again on resume and must be safe to repeat.
    ///
    /// ```swift
    /// let review = try context.interrupt(.object(["draft": state["draft"] ?? .null]))
    /// switch review.decision {
    /// case .approve: return ["status": "approved"]
    /// case .edit: return ["draft": review.value ?? .null]
    /// case .reject: return ["status": "rejected"]
    /// }
    /// ```
    public func interrupt(_ payload: JSONValue) throws -> ResumeCommand {
        let index = consumed.next()
        if index < resumes.count { return resumes[index] }
        throw NodeInterrupt(node: node, payload: payload, resumes: Array(resumes.prefix(index)))
    }
}

/// @unchecked: the count is only read and written under `lock`.
private final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        defer { value += 1 }
        return value
    }
}
