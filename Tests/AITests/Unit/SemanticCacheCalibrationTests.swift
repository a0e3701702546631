// Atlas — AITests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import AI
import Foundation
import Testing

/// The semantic cache threshold is chosen on ``ParaphrasePairs``: the highest recall whose
/// precision is at least 0.95. These are the figures recorded in bench/RESULTS.md; a change to
/// the embedder that moves them must re-run the calibration and update both.
@Suite struct SemanticCacheCalibrationTests {
    struct Measure {
        var truePositives = 0
        var falsePositives = 0
        var falseNegatives = 0
        var precision: Double { Double(truePositives) / Double(max(1, truePositives + falsePositives)) }
        var recall: Double { Double(truePositives) / Double(max(1, truePositives + falseNegatives)) }
    }

    static let similarities: [(Double, Bool)] = {
        let embedder = HashingEmbedder()
        return ParaphrasePairs.all.map { pair in
            (Double(VectorMath.dot(embedder.vector(for: pair.first), embedder.vector(for: pair.second))), pair.paraphrase)
        }
    }()

    static func measure(at threshold: Double) -> Measure {
        var measure = Measure()
        for (similarity, paraphrase) in similarities {
            switch (similarity >= threshold, paraphrase) {
            case (true, true): measure.truePositives += 1
            case (true, false): measure.falsePositives += 1
            case (false, true): measure.falseNegatives += 1
            case (false, false): break
            }
        }
        return measure
    }

    @Test func labelledSetIsLargeAndBalancedEnough() {
        #expect(ParaphrasePairs.all.count >= 60)
        #expect(ParaphrasePairs.positives.count >= 30)
        #expect(ParaphrasePairs.negatives.count >= 30)
    }

    @Test func calibratedThresholdKeepsPrecisionAboveNinetyFivePercent() {
        let threshold = SemanticCacheConfiguration.calibratedThreshold
        let measure = Self.measure(at: threshold)
        print(String(format: "semantic cache at %.2f: precision %.3f (%d/%d), recall %.3f (%d/%d) on %d pairs",
                     threshold, measure.precision, measure.truePositives, measure.truePositives + measure.falsePositives,
                     measure.recall, measure.truePositives, measure.truePositives + measure.falseNegatives, ParaphrasePairs.all.count))
        #expect(measure.precision >= 0.95)
        #expect(measure.recall >= 0.60)
        #expect(SemanticCacheConfiguration().similarityThreshold == threshold)
    }

    /// The threshold is the one the calibration rule picks on a 0.01 grid.
    @Test func calibratedThresholdIsTheBestRecallAtThatPrecision() {
        var best: (threshold: Double, recall: Double)?
        for step in 40...95 {
            let threshold = Double(step) / 100
            let measure = Self.measure(at: threshold)
            guard measure.precision >= 0.95 else { continue }
            if measure.recall > (best?.recall ?? -1) { best = (threshold, measure.recall) }
        }
        let chosen = try! #require(best)
        #expect(abs(chosen.threshold - SemanticCacheConfiguration.calibratedThreshold) < 0.005 ||
                Self.measure(at: SemanticCacheConfiguration.calibratedThreshold).recall >= chosen.recall,
                "re-run the calibration: \(chosen.threshold) gives recall \(chosen.recall)")
    }
}
