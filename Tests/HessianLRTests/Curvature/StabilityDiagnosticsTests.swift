import Testing
@testable import HessianLR

@Suite struct StabilityDiagnosticsTests {
    @Test func edgeOfStabilityAndTrace() throws {
        #expect(try StabilityDiagnostics.edgeOfStability(learningRate: 0.1, lambdaMax: 20) == 1)
        #expect(try StabilityDiagnostics.edgeOfStability(learningRate: 0.01, lambdaMax: 50) == 0.25)
        #expect(try StabilityDiagnostics.maxStableLearningRate(lambdaMax: 40) == 0.05)
        #expect(try StabilityDiagnostics.maxStableLearningRate(lambdaMax: -1) == .infinity)
        #expect(try StabilityDiagnostics.sgdTraceStability(learningRate: 0.02, trace: 300) == 3)
    }

    @Test func batchSizeScaling() throws {
        #expect(try StabilityDiagnostics.scaledLearningRate(0.1, fromBatchSize: 128, toBatchSize: 512, rule: .linear) == 0.4)
        #expect(try StabilityDiagnostics.scaledLearningRate(1e-3, fromBatchSize: 64, toBatchSize: 256, rule: .squareRoot) == 2e-3)
    }

    @Test func badValuesThrow() {
        let nan = #expect(throws: HLRError.self) { try StabilityDiagnostics.edgeOfStability(learningRate: 0.1, lambdaMax: .nan) }
        #expect(nan?.kind == .nonFinite && nan?.message.contains("λ_max") == true)
        let negative = #expect(throws: HLRError.self) {
            try StabilityDiagnostics.scaledLearningRate(0.1, fromBatchSize: 0, toBatchSize: 8, rule: .linear)
        }
        #expect(negative?.kind == .invalidArgument && negative?.message.contains("the old batch size") == true)
    }
}
