import Testing
@testable import HessianLR

/// Per-parameter influence from a fitted quadratic and the ranking of groups.
@Suite struct InfluenceTests {
    @Test func valueIsTheBestDecreaseOfTheFittedLossAlongTheGroup() {
        #expect(Influence.value(slope: 3, curvature: 12) == 9.0 / 24)  // b²/(2a)
        #expect(Influence.value(slope: -3, curvature: 12) == 0)  // moving forward does not help
        #expect(Influence.value(slope: 0, curvature: 12) == 0)
        #expect(Influence.value(slope: 3, curvature: 0) == .infinity)
        #expect(Influence.value(slope: -3, curvature: 0) == 0)
        #expect(Influence.value(slope: -3, curvature: -1) == .infinity)
        #expect(Influence.value(slope: .nan, curvature: 1).isNaN)
    }

    @Test func rankingIsDescendingWithNaNLastAndTiesByIndex() {
        let influence: [Double] = [0.5, .nan, 2, 0.5, .infinity, 0]
        #expect(Influence.ranking(influence) == [4, 2, 0, 3, 5, 1])
        #expect(Influence.ranks(influence) == [2, 5, 1, 3, 0, 4])
    }

    @Test func tunerRanksGroupsOfASeparableQuadratic() throws {
        // b = (1, 3, 2), a = (1, 1, 8): PPI = (0.5, 4.5, 0.25).
        var tuner = try HiDLRTuner(groups: 3)
        try tuner.setParameter(.initialLR, 0.1, group: nil)
        guard case .losses(let probes) = tuner.need(atStep: 0) else {
            Issue.record("step 0 must need losses")
            return
        }
        let losses = HiDLRRuleTests.quadratic(
            c: 2, b: [1, 3, 2], a: [1, 0, 0, 0, 1, 0, 0, 0, 8], probes: probes)
        try tuner.observe(step: 0, kind: .losses, values: losses)
        #expect(tuner.influenceRanking() == [1, 0, 2])
        #expect(try tuner.info(.influenceRank, group: 1) == 0)
        #expect(try tuner.info(.influenceRank, group: 2) == 2)
        #expect(TunerCheck.close(try tuner.info(.influence, group: 1), 4.5, 1e-9))
        #expect(TunerCheck.close(tuner.influence[2], 0.25, 1e-9))
    }
}
