// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

/// Flags retrieved text that tries to steer the model instead of informing it (indirect prompt
/// injection, OWASP LLM01). Heuristics over the text's lower-cased words, so spacing, case and
/// punctuation tricks do not hide a phrase:
///
/// - **override**: *ignore*, *disregard*, *forget*, *override* or *bypass*, then within five words a
///   qualifier (*previous*, *prior*, *above*, *earlier*, *all*, *your*, *system* …) and an object
///   (*instructions*, *prompt(s)*, *rules*, *guidelines*, *context* …): "ignore the above
///   instructions", not "ignore the welcome message";
/// - **role-play**: *from now on you are/will*, *pretend to be / you are*, *act as an unrestricted*,
///   *developer mode*, *do anything now*, *jailbreak*, or *you are now* followed by a persona (*DAN*,
///   *an unrestricted AI*, *the administrator*) — not "you are now subscribed";
/// - **system-prompt**: chat-template markers (`<|im_start|>`, `<|system|>`, `[INST]`, `<<SYS>>`,
///   `### system`, `new instructions:`), a line starting `system:` or `assistant:`, *new system
///   prompt*, *reveal / print / show your system prompt*;
/// - **exfiltration**: in text holding a URL, *send / post / forward / upload* followed within seven
///   words by *password*, *credentials*, *secret*, *token* or *key*.
public struct InjectionDetector: Sendable {
    public init() {}

    private static let overrideVerbs: Set<String> = ["ignore", "disregard", "forget", "override", "bypass"]
    private static let overrideQualifiers: Set<String> = [
        "previous", "prior", "above", "earlier", "preceding", "all", "your", "system", "original", "initial", "safety", "every",
    ]
    private static let overrideObjects: Set<String> = [
        "instruction", "instructions", "prompt", "prompts", "rule", "rules", "direction", "directions", "guideline",
        "guidelines", "context", "message", "messages", "policy", "policies", "constraints", "restrictions",
    ]
    private static let rolePlayPhrases: [[String]] = [
        ["from", "now", "on", "you", "are"], ["from", "now", "on", "you", "will"], ["pretend", "to", "be"], ["pretend", "you", "are"],
        ["act", "as", "an", "unrestricted"], ["act", "as", "a", "unrestricted"], ["developer", "mode"], ["do", "anything", "now"],
        ["jailbreak"], ["jailbroken"], ["roleplay", "as"], ["role", "play", "as"], ["no", "longer", "bound"],
    ]
    private static let systemPhrases: [[String]] = [
        ["new", "system", "prompt"], ["reveal", "your", "system", "prompt"], ["reveal", "the", "system", "prompt"],
        ["print", "your", "system", "prompt"], ["show", "your", "system", "prompt"], ["repeat", "your", "instructions"],
    ]
    private static let templateMarkers = ["<|im_start|>", "<|system|>", "<|endoftext|>", "[inst]", "<<sys>>", "### system", "### instruction", "new instructions:"]
    /// What follows "you are now" in a persona swap (not in "you are now subscribed").
    private static let personas: Set<String> = [
        "dan", "unrestricted", "jailbroken", "uncensored", "evil", "developer", "ai", "assistant", "chatbot", "model", "bot", "gpt",
        "claude", "llm", "admin", "administrator", "root",
    ]
    private static let exfiltrationVerbs: Set<String> = ["send", "post", "forward", "email", "upload", "exfiltrate", "leak"]
    private static let secrets: Set<String> = ["password", "passwords", "credentials", "credential", "secret", "secrets", "token", "tokens", "key", "keys"]

    /// Why `text` looks like an injection attempt (e.g. `["override: ignore … instructions"]`);
    /// empty when it does not.
    public func reasons(_ text: String) -> [String] {
        var reasons: [String] = []
        let lowered = text.lowercased()
        let words = TextAnalyzer.shared.words(lowered).map(\.text)

        for (index, word) in words.enumerated() where Self.overrideVerbs.contains(word) {
            var sawQualifier = false
            for offset in 1...5 where index + offset < words.count {
                let next = words[index + offset]
                if Self.overrideObjects.contains(next), sawQualifier {
                    reasons.append("override: \(word) … \(next)")
                    break
                }
                if Self.overrideQualifiers.contains(next) { sawQualifier = true }
            }
            if !reasons.isEmpty { break }
        }
        if let phrase = Self.firstPhrase(Self.rolePlayPhrases, in: words) {
            reasons.append("role-play: \(phrase)")
        } else if let persona = Self.personaSwap(words) {
            reasons.append("role-play: you are now … \(persona)")
        }
        if let marker = Self.templateMarkers.first(where: { lowered.contains($0) }) {
            reasons.append("system-prompt: \(marker)")
        } else if lowered.split(whereSeparator: \.isNewline).contains(where: {
            let line = $0.drop { $0 == " " || $0 == "\t" || $0 == "#" || $0 == "*" || $0 == ">" }
            return line.hasPrefix("system:") || line.hasPrefix("system prompt:") || line.hasPrefix("assistant:")
        }) || lowered.hasPrefix("system:") {
            reasons.append("system-prompt: role line")
        } else if let phrase = Self.firstPhrase(Self.systemPhrases, in: words) {
            reasons.append("system-prompt: \(phrase)")
        }
        if lowered.contains("http://") || lowered.contains("https://") {
            for (index, word) in words.enumerated() where Self.exfiltrationVerbs.contains(word) {
                let window = words[(index + 1)..<min(words.count, index + 8)]
                if let secret = window.first(where: { Self.secrets.contains($0) }) {
                    reasons.append("exfiltration: \(word) … \(secret)")
                    break
                }
            }
        }
        return reasons
    }

    private static func personaSwap(_ words: [String]) -> String? {
        guard words.count >= 4 else { return nil }
        for start in 0...(words.count - 4) where words[start] == "you" && words[start + 1] == "are" && words[start + 2] == "now" {
            if let persona = words[(start + 3)..<min(words.count, start + 7)].first(where: { personas.contains($0) }) { return persona }
        }
        return nil
    }

    private static func firstPhrase(_ phrases: [[String]], in words: [String]) -> String? {
        for phrase in phrases where words.count >= phrase.count {
            for start in 0...(words.count - phrase.count) where words[start] == phrase[0] {
                if Array(words[start..<(start + phrase.count)]) == phrase { return phrase.joined(separator: " ") }
            }
        }
        return nil
    }
}
