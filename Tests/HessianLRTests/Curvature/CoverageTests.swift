import RealModule
import Testing
@testable import HessianLR

/// Coverage of the reported standard errors: over many seeds on matrices with known traces, the
/// fraction of runs whose true error is within 1 and 2 reported standard errors, for every
/// estimator that reports one. Nominal for a normal error: 68% and 95%.
@Suite struct CoverageTests {
    static let n = 60
    static let flat = DenseOperator(spectrum: (0..<n).map { 1 + 0.1 * Double($0 % 7) }, reflections: n, seed: 11)
    static let decaying = DenseOperator(spectrum: (0..<n).map { Double.pow(Double($0 + 1), -1.5) }, reflections: n, seed: 12)
    static let indefinite = DenseOperator(
        spectrum: (0..<n).map { (i: Int) -> Double in (i % 3 == 0 ? -1.0 : 1.0) * Double.pow(Double(i + 1), -0.7) },
        reflections: n, seed: 13)
    static let seeds = 200

    /// (within 1 se, within 2 se) fractions over `seeds` runs.
    static func coverage(_ truth: [Double], _ run: (UInt64) throws -> [(Double, Double)]) rethrows -> (Double, Double) {
        var one = 0, two = 0, total = 0
        for seed in 0..<UInt64(seeds) {
            for (index, (estimate, error)) in try run(seed).enumerated() {
                let miss = abs(estimate - truth[index])
                if miss <= error { one += 1 }
                if miss <= 2 * error { two += 1 }
                total += 1
            }
        }
        return (Double(one) / Double(total), Double(two) / Double(total))
    }

    static let matrices = [("flat", flat), ("decaying", decaying), ("indefinite", indefinite)]

    @Test(arguments: matrices.indices)
    func traceEstimators(_ m: Int) throws {
        let (name, a) = Self.matrices[m]
        let space = try a.space()
        let hutchinson = try Self.coverage([a.trace]) { seed in
            var o = HutchinsonOptions()
            o.maxSamples = 30
            o.seed = seed
            let r = try Hutchinson.trace(of: space, options: o)
            return [(r.estimate, r.standardError)]
        }
        let plus = try Self.coverage([a.trace]) { seed in
            var o = HutchPlusPlusOptions()
            o.matvecs = 30
            o.seed = seed
            let r = try HutchPlusPlus.trace(of: space, options: o)
            return [(r.estimate, r.standardError)]
        }
        let xtrace = try Self.coverage([a.trace]) { seed in
            var o = XTraceOptions()
            o.matvecs = 30
            o.seed = seed
            let r = try XTrace.trace(of: space, options: o)
            return [(r.estimate, r.standardError)]
        }
        // Hutchinson and Hutch++ (residual se, conditional on Q) at nominal: 1 se within ±3 binomial
        // sd (3.3%) of 68%, 2 se at least 88%. Measured (1 se, 2 se): flat (0.65, 0.97) /
        // (0.685, 0.91), decaying (0.645, 0.93) / (0.67, 0.915), indefinite (0.64, 0.92) /
        // (0.69, 0.935).
        for (label, value) in [("hutchinson", hutchinson), ("hutch++", plus)] {
            #expect(value.0 >= 0.58 && value.0 <= 0.78 && value.1 >= 0.88, "\(name) \(label): \(value)")
        }
        // XTrace's jackknife se is conservative, never under: measured flat (0.715, 0.965),
        // decaying (0.865, 0.995), indefinite (0.84, 0.985). The former std(t_i)/√s covered
        // 42–59% / 69–90% on such spectra (numpy replica, n = 80, 200 seeds).
        #expect(xtrace.0 >= 0.62 && xtrace.1 >= 0.93, "\(name) xtrace: \(xtrace)")
    }

    static let blocks = try! GroupLayout(offsets: [0, 10, 35, 60], elementCount: n)

    @Test(arguments: matrices.indices)
    func blockTraces(_ m: Int) throws {
        let (name, a) = Self.matrices[m]
        let space = try a.space()
        let truth = (0..<3).map { b in Self.blocks.range(of: b).reduce(0.0) { $0 + a.diagonal[$1] } }
        let hutchinson = try Self.coverage(truth) { seed in
            var o = HutchinsonOptions()
            o.maxSamples = 30
            o.seed = seed
            o.blocks = Self.blocks
            let r = try Hutchinson.trace(of: space, options: o)
            return Array(zip(r.blockEstimates, r.blockStandardErrors))
        }
        let plus = try Self.coverage(truth) { seed in
            var o = HutchPlusPlusOptions()
            o.matvecs = 30
            o.seed = seed
            o.blocks = Self.blocks
            let r = try HutchPlusPlus.trace(of: space, options: o)
            return Array(zip(r.blockEstimates, r.blockStandardErrors))
        }
        // Per-block traces (3 blocks × 200 seeds) at nominal: 1 se within ±3 binomial sd (5.7%) of
        // 68%, 2 se at least 90%. Measured (1 se, 2 se) Hutchinson / Hutch++: flat (0.688, 0.935) /
        // (0.677, 0.932), decaying (0.678, 0.932) / (0.657, 0.92), indefinite (0.658, 0.937) /
        // (0.672, 0.925).
        for (label, value) in [("hutchinson", hutchinson), ("hutch++", plus)] {
            #expect(value.0 >= 0.6 && value.0 <= 0.76 && value.1 >= 0.9, "\(name) \(label) blocks: \(value)")
        }
    }

    @Test(arguments: matrices.indices)
    func diagonalBlockMeans(_ m: Int) throws {
        let (name, a) = Self.matrices[m]
        let space = try a.space()
        let blocks = Self.blocks
        let truth = (0..<3).map { b in blocks.range(of: b).reduce(0.0) { $0 + a.diagonal[$1] } / Double(blocks.range(of: b).count) }
        let diagonal = try Self.coverage(truth) { seed in
            var o = DiagonalOptions()
            o.samples = 30
            o.seed = seed
            o.blocks = blocks
            let r = try HutchinsonDiagonal.estimate(of: space, options: o)
            return Array(zip(r.blockMeans, r.blockStandardErrors))
        }
        // Per-block means of Hutchinson's diagonal at nominal (3 blocks × 200 seeds): measured
        // flat (0.697, 0.943), decaying (0.688, 0.93), indefinite (0.638, 0.94).
        #expect(diagonal.0 >= 0.6 && diagonal.0 <= 0.76 && diagonal.1 >= 0.9, "\(name) diagonal blocks: \(diagonal)")
        let xdiag = try Self.coverage(truth) { seed in
            var o = XDiagOptions()
            o.matvecs = 30
            o.seed = seed
            o.blocks = blocks
            let r = try XDiag.estimate(of: space, options: o)
            return Array(zip(r.blockMeans, r.blockStandardErrors))
        }
        // XDiag's jackknife block errors are conservative like XTrace's, never under: measured flat
        // (0.833, 0.977), decaying (0.937, 0.997), indefinite (0.857, 0.997).
        #expect(xdiag.0 >= 0.62 && xdiag.1 >= 0.93, "\(name) xdiag blocks: \(xdiag)")
    }
}
