// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Core

/// Settings of the `assistant` graph: its model provider (``LLMConfiguration``), its guard rails
/// (``SafetyConfiguration``), and
///
/// | variable | default | meaning |
/// | --- | --- | --- |
/// | `ATLAS_AI_EVALUATION_MODE` | `fast` | `fast` reviews high hallucination risk only; `strict` also medium risk and negative questions |
/// | `ATLAS_AI_RETRIEVAL_TOP_K` | `4` | passages retrieved per question |
public struct AssistantConfiguration: Sendable {
    public var llm: LLMConfiguration
    public var safety: SafetyConfiguration
    public var evaluationMode: EvaluationMode
    public var topK: Int

    public init(llm: LLMConfiguration = LLMConfiguration(), safety: SafetyConfiguration = SafetyConfiguration(),
                evaluationMode: EvaluationMode = .fast, topK: Int = 4) {
        self.llm = llm
        self.safety = safety
        self.evaluationMode = evaluationMode
        self.topK = min(20, max(1, topK))
    }

    /// Reads the variables above and those of ``LLMConfiguration`` and ``SafetyConfiguration``;
    /// throws ``ConfigurationError`` naming the variable.
    public init(environment: EnvironmentReader) throws {
        self.init(llm: try LLMConfiguration(environment: environment),
                  safety: try SafetyConfiguration(environment: environment),
                  evaluationMode: try environment.choice("ATLAS_AI_EVALUATION_MODE", default: EvaluationMode.fast),
                  topK: try environment.int("ATLAS_AI_RETRIEVAL_TOP_K", default: 4, in: 1...20))
    }
}
