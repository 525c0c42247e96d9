import Testing
@testable import HessianLR

/// `EstimatorConfig.workBound(dimension:)`: every run makes at most the HVPs the bound states,
/// for random parameters (many far above the dimension) on small operators, and runs whose
/// bound exceeds the limits are refused before the first HVP.
@Suite struct EstimatorWorkBoundTests {
    static let matrix = DenseOperator(spectrum: (0..<12).map { Double($0) - 3.5 }, reflections: 4, seed: 3)

    @Test func hvpsStayWithinTheBound() throws {
        let rng = CounterRNG(seed: 11, stream: 0, index: 0)
        var counter: UInt64 = 0
        func next() -> UInt64 {
            counter += 1
            return rng.bits(counter)
        }
        func draw(_ upper: Int) -> Double { Double(1 + Int(next() % UInt64(upper))) }
        var runs = 0
        for dimension in [1, 2, 5, 12] {
            for kind in EstimatorKind.allCases {
                for _ in 0..<6 {
                    var config = EstimatorConfig(kind)
                    for spec in kind.parameterSpecs where spec.integral && spec.parameter != .which
                        && spec.parameter != .distribution && spec.parameter != .computeVectors
                        && spec.parameter != .threads
                    {
                        let value = Swift.min(Swift.max(draw(60), spec.minimum), spec.maximum)
                        try? config.set(spec.parameter, value)
                    }
                    if kind == .lanczos || kind == .powerIteration {
                        try config.set(.count, Double(1 + Int(next() % UInt64(dimension))))
                    }
                    if kind == .spectralDensity { try config.set(.gridPoints, 50) }
                    let backend = try TrackingBackend(Self.matrix, dimension: dimension)
                    let bound = config.workBound(dimension: dimension)
                    do {
                        _ = try config.run(on: backend)
                        runs += 1
                    } catch {
                        // Refused configurations (e.g. Hutch++ budgets below 2·sketch + 1)
                        // spend nothing.
                        #expect(backend.hvps == 0, "\(kind.name) \(config.values): \(error)")
                    }
                    #expect(backend.hvps <= bound.hvps, "\(kind.name) n=\(dimension) \(config.values)")
                }
            }
        }
        #expect(runs > 100)
    }

    @Test func boundsAboveTheLimitsAreRefusedBeforeAnyHVP() throws {
        var power = EstimatorConfig(.powerIteration)
        try power.set(.count, 12)
        try power.set(.maxIterations, Double(EstimatorConfig.maxRunHVPs))
        var density = EstimatorConfig(.spectralDensity)
        try density.set(.runs, 65_536)
        try density.set(.gridPoints, 10_000_000)
        for config in [power, density] {
            let backend = try TrackingBackend(Self.matrix, dimension: 12)
            #expect(throws: HLRError.self) { try config.run(on: backend) }
            #expect(backend.hvps == 0)
        }
        #expect(power.workBound(dimension: 12).hvps == 12 * EstimatorConfig.maxRunHVPs)
        #expect(density.workBound(dimension: 12).smoothingPairs == 65_536 * 12 * 10_000_000)
    }
}
