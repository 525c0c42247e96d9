import Foundation
import Testing
@testable import HessianLR

/// `hvpBlock`: Hutchinson and Hutch++ (fixed and adaptive), the diagonal, XTrace, XDiag and the
/// spectral density (runs in lockstep, up to the Krylov limit n) hand a batching backend blocks
/// of 2…hvpBlock products and give the same bits as one-at-a-time runs; a backend
/// that does not batch never sees a block (and the estimators hold no extra vectors for one); a
/// product failing inside a block fails the run with every vector released.
@Suite struct HVPBlockTests {
    static let matrix: DenseOperator = {
        var spectrum: [Double] = []
        for i in 0..<40 {
            let value: Double = 3 / Double(i + 1)
            spectrum.append(i % 5 == 0 ? value - 0.4 : value)
        }
        return DenseOperator(spectrum: spectrum)
    }()

    /// The configurations compared: each kind that takes `hvp_block`, Hutchinson and Hutch++ both
    /// with a fixed budget and adaptive (they stop mid-block), SLQ with 7 runs (blocks of 4 and 3)
    /// of 40 steps (= n, the Krylov limit: a run may break down before it).
    static let cases: [(kind: EstimatorKind, settings: [(EstimatorParameter, Double)], adaptive: Bool)] = [
        (.hutchinson, [(.samples, 23), (.minSamples, 5)], false),
        (.hutchinson, [(.samples, 60), (.relativeTolerance, 0.2), (.minSamples, 5)], true),
        (.diagonal, [(.samples, 23)], false),
        (.xtrace, [(.matvecs, 22)], false),
        (.xdiag, [(.matvecs, 22)], false),
        (.hutchPlusPlus, [(.matvecs, 31), (.sketchSize, 10), (.minSamples, 5)], false),
        (.hutchPlusPlus, [(.matvecs, 60), (.sketchSize, 10), (.relativeTolerance, 0.05), (.minSamples, 5)], true),
        (.spectralDensity, [(.runs, 7), (.steps, 40)], false),
    ]

    /// Every result of one run of case `index` (through `EstimatorConfig`, the C ABI's path) in
    /// key order, vectors' elements included, except the HVP count (an adaptive run may make a
    /// block's last products past its stopping sample); the vectors are released.
    static func run(
        _ index: Int, hvpBlock: Int, batches: Bool, backend: TrackingBackend? = nil
    ) throws -> (values: [Double], backend: TrackingBackend) {
        let backend = try backend ?? TrackingBackend(matrix)
        backend.batches = batches
        let (kind, settings, _) = cases[index]
        var config = EstimatorConfig(kind)
        for (parameter, value) in settings + [(.hvpBlock, Double(hvpBlock))] { try config.set(parameter, value) }
        let run = try config.run(on: backend)
        var values: [Double] = []
        for key in run.producedKeys where key != .hvps {
            values += run.values[key] ?? []
            for vector in run.vectors[key] ?? [] {
                values += vector.withUnsafeBufferPointer { Array($0) }
                backend.release(vector)
            }
        }
        return (values, backend)
    }

    @Test(arguments: cases.indices)
    func blocksGiveTheSameBits(index: Int) throws {
        let single = try Self.run(index, hvpBlock: 1, batches: true)
        let unbatched = try Self.run(index, hvpBlock: 4, batches: false)
        let blocked = try Self.run(index, hvpBlock: 4, batches: true)
        #expect(single.backend.blockSizes.isEmpty && unbatched.backend.blockSizes.isEmpty)
        #expect(!blocked.backend.blockSizes.isEmpty)
        #expect(blocked.backend.blockSizes.allSatisfy { (2...4).contains($0) })
        #expect(!single.values.isEmpty)
        #expect(single.values.map(\.bitPattern) == blocked.values.map(\.bitPattern))
        #expect(unbatched.values.map(\.bitPattern) == single.values.map(\.bitPattern))
        for run in [single, unbatched, blocked] { #expect(run.backend.live == 0) }
        if Self.cases[index].adaptive {  // stops mid-block at the same sample, at most 3 products more
            #expect(blocked.backend.hvps >= single.backend.hvps && blocked.backend.hvps <= single.backend.hvps + 3)
        } else {
            #expect(blocked.backend.hvps == single.backend.hvps)
        }
    }

    /// XDiag on an operator of rank 6 < s = 15 test vectors: the rank-deficient fallback's
    /// residual probes go in blocks and give the one-at-a-time bits.
    @Test func xdiagFallbackProbesInBlocks() throws {
        let lowRank = DenseOperator(spectrum: (0..<40).map { (i: Int) -> Double in i < 6 ? 3 / Double(i + 1) : 0 })
        func estimate(_ hvpBlock: Int, batches: Bool) throws -> ([Double], TrackingBackend) {
            let backend = try TrackingBackend(lowRank)
            backend.batches = batches
            var options = XDiagOptions()
            options.matvecs = 30
            options.hvpBlock = hvpBlock
            let r = try XDiag.estimate(of: backend, options: options)
            defer { backend.release(r.diagonal) }
            #expect(r.sketchRank < 15, "the fallback should run: rank \(r.sketchRank)")
            var values = [r.traceEstimate, Double(r.samples), Double(r.hvpCount)]
            values += r.diagonal.withUnsafeBufferPointer { Array($0) }
            return (values, backend)
        }
        let (single, _) = try estimate(1, batches: true)
        let (blocked, backend) = try estimate(4, batches: true)
        #expect(single[1] > 0, "the fallback should draw residual probes")
        #expect(backend.blockSizes.allSatisfy { (2...4).contains($0) } && !backend.blockSizes.isEmpty)
        #expect(blocked.map(\.bitPattern) == single.map(\.bitPattern))
        #expect(backend.live == 0)
    }

    /// Runs of one lockstep group that stop at different steps (breakdowns near the Krylov limit
    /// n) leave the group one by one; every run's rule is still the lone run's.
    @Test func slqRunsOfDifferentLengthsShareABlock() throws {
        // A spectrum from 3 down to 1e-12: the Krylov space becomes numerically invariant near n,
        // at a step that depends on the probe.
        let ratio: Double = 1e-12 / 3
        let graded = DenseOperator(
            spectrum: (0..<40).map { (i: Int) -> Double in 3 * pow(ratio, Double(i) / 39) }, reflections: 40)
        func quadrature(_ hvpBlock: Int) throws -> (SpectralQuadrature, TrackingBackend) {
            let backend = try TrackingBackend(graded)
            backend.batches = true
            var options = SpectralDensityOptions()
            options.runs = 6
            options.steps = 40
            options.hvpBlock = hvpBlock
            return (try SpectralDensity.quadrature(of: backend, options: options), backend)
        }
        let (alone, _) = try quadrature(1)
        let (together, backend) = try quadrature(8)
        #expect(Set(alone.steps).count > 1, "the runs should stop at different steps: \(alone.steps)")
        #expect(backend.blockSizes.max() == 6 && backend.blockSizes.min()! < 6)  // runs leave the group
        #expect(together.steps == alone.steps && together.hvpCount == alone.hvpCount)
        #expect(together.nodes.map { $0.map(\.bitPattern) } == alone.nodes.map { $0.map(\.bitPattern) })
        #expect(together.weights.map { $0.map(\.bitPattern) } == alone.weights.map { $0.map(\.bitPattern) })
        #expect(together.traceEstimate.bitPattern == alone.traceEstimate.bitPattern)
        #expect(backend.live == 0)
    }

    @Test(arguments: cases.indices)
    func aProductFailingInABlockReleasesEverything(index: Int) throws {
        let backend = try TrackingBackend(Self.matrix)
        backend.failAtHVP = 6
        var caught: HLRError?
        do {
            _ = try Self.run(index, hvpBlock: 4, batches: true, backend: backend)
        } catch let error as HLRError {
            caught = error
        }
        #expect(caught?.kind == .callbackFailed)
        #expect(!backend.blockSizes.isEmpty)
        #expect(backend.live == 0)
    }
}
