import Testing
@testable import HessianLR

/// The symmetry checks of power iteration, Hutch++, XTrace (free, on by default) and Hutchinson
/// and the diagonal (opt-in): a skewed operator fails with `invalidArgument` naming the
/// asymmetry, every vector released; a symmetric one passes with a rounding-level
/// `maxAsymmetry`; with the check off nothing changes (same results, no allocations).
@Suite struct SymmetryChecksTests {
    static let symmetric = DenseOperator(spectrum: (0..<30).map { 2 * Double.pow(0.8, Double($0)) - 0.2 }, reflections: 4, seed: 5)
    static let skewed = symmetric.skewed(by: 0.05)

    /// The kinds and the settings that make them check.
    static let checking: [(EstimatorKind, [(EstimatorParameter, Double)])] = [
        (.powerIteration, []),
        (.hutchPlusPlus, [(.matvecs, 30)]),
        (.xtrace, [(.matvecs, 30)]),
        (.hutchinson, [(.samples, 20), (.symmetryTolerance, 1e-3)]),
        (.diagonal, [(.samples, 20), (.symmetryTolerance, 1e-3)]),
    ]

    static func config(_ kind: EstimatorKind, _ settings: [(EstimatorParameter, Double)]) throws -> EstimatorConfig {
        var config = EstimatorConfig(kind)
        for (parameter, value) in settings { try config.set(parameter, value) }
        return config
    }

    @Test(arguments: checking.indices)
    func aSkewedOperatorIsRefused(index: Int) throws {
        let (kind, settings) = Self.checking[index]
        let backend = try TrackingBackend(Self.skewed)
        let error = #expect(throws: HLRError.self) { try Self.config(kind, settings).run(on: backend) }
        #expect(error?.kind == .invalidArgument, "\(kind.name)")
        #expect(error?.message.contains("the operator is not symmetric") == true, "\(kind.name): \(String(describing: error))")
        #expect(backend.live == 0, "\(kind.name) released every vector")
    }

    @Test(arguments: checking.indices)
    func aSymmetricOperatorPasses(index: Int) throws {
        let (kind, settings) = Self.checking[index]
        let run = try Self.config(kind, settings).run(on: try TrackingBackend(Self.symmetric))
        let asymmetry = try #require(run.values[.maxAsymmetry]?.first)
        #expect(asymmetry < 1e-12, "\(kind.name): \(asymmetry)")
        #expect(asymmetry > 0 || kind == .powerIteration || kind == .hutchPlusPlus || kind == .xtrace
            || asymmetry == 0)
    }

    /// Off (+∞), the checks change no result and spend no HVP.
    @Test(arguments: checking.indices)
    func offChangesNothing(index: Int) throws {
        let (kind, settings) = Self.checking[index]
        var on = try Self.config(kind, settings)
        if !(try on.parameter(.symmetryTolerance)).isFinite { try on.set(.symmetryTolerance, 1e-3) }
        var off = on
        try off.set(.symmetryTolerance, .infinity)
        let checked = try on.run(on: try TrackingBackend(Self.symmetric))
        let unchecked = try off.run(on: try TrackingBackend(Self.symmetric))
        for key in kind.resultKeys where key != .maxAsymmetry {
            #expect(checked.values[key] == unchecked.values[key], "\(kind.name) \(key.name)")
        }
        // XTrace (and XDiag) still measure QᵀHQ's asymmetry for free when the check is off.
        if kind == .xtrace {
            #expect((unchecked.values[.maxAsymmetry]?.first ?? 1) < 1e-12)
        } else {
            #expect(unchecked.values[.maxAsymmetry] == [0])
        }
    }

    @Test func defaultsAreOnForTheFreeChecksAndOffForTheProbeOnlyKinds() throws {
        for kind in [EstimatorKind.lanczos, .powerIteration, .hutchPlusPlus, .xtrace, .xdiag, .spectralDensity] {
            #expect(try EstimatorConfig(kind).parameter(.symmetryTolerance) == 1e-3, "\(kind.name)")
        }
        for kind in [EstimatorKind.hutchinson, .diagonal] {
            #expect(try EstimatorConfig(kind).parameter(.symmetryTolerance) == .infinity, "\(kind.name)")
        }
    }
}
