import Testing
@testable import HessianLR

/// `EstimatorConfig`: specs and defaults (= the estimators' own), validation and its messages,
/// sentinels, blocks, cross-checks before any backend operation, and dispatch equal to calling
/// each estimator directly.
@Suite struct EstimatorConfigTests {
    static let matrix = DenseOperator(spectrum: (0..<40).map { 4 * Double.pow(0.85, Double($0)) - 0.3 }, reflections: 5, seed: 9)

    @Test func specsAreConsistentAndDefaultsValid() throws {
        for kind in EstimatorKind.allCases {
            let specs = kind.parameterSpecs
            #expect(Set(specs.map(\.parameter)).count == specs.count, "\(kind.name)")
            #expect(specs.contains { $0.parameter == .threads })
            let config = EstimatorConfig(kind)
            for spec in specs {
                try spec.validate(spec.defaultValue, kind: kind)
                #expect(spec.minimum <= spec.maximum)
                #expect(try config.parameter(spec.parameter) == spec.defaultValue)
                if spec.integral {
                    #expect(spec.maximum <= 9_007_199_254_740_992 && spec.minimum.isFinite)
                }
            }
            for parameter in EstimatorParameter.allCases where !specs.contains(where: { $0.parameter == parameter }) {
                #expect(throws: HLRError(.unknownKey, "estimator kind \(kind.name) has no parameter \(parameter.name)")) {
                    try config.parameter(parameter)
                }
            }
            #expect(config.seed == 0 && config.blocks == nil)
        }
    }

    /// A default configuration passes exactly the estimators' default options.
    @Test func defaultsAreTheEstimatorsDefaults() {
        #expect(EstimatorConfig(.lanczos).lanczosOptions == LanczosOptions())
        #expect(EstimatorConfig(.powerIteration).powerIterationOptions == PowerIterationOptions())
        #expect(EstimatorConfig(.hutchinson).hutchinsonOptions == HutchinsonOptions())
        #expect(EstimatorConfig(.hutchPlusPlus).hutchPlusPlusOptions == HutchPlusPlusOptions())
        #expect(EstimatorConfig(.xtrace).xtraceOptions == XTraceOptions())
        #expect(EstimatorConfig(.diagonal).diagonalOptions == DiagonalOptions())
        #expect(EstimatorConfig(.xdiag).xdiagOptions == XDiagOptions())
        #expect(EstimatorConfig(.spectralDensity).spectralDensityOptions == SpectralDensityOptions())
        #expect(EstimatorConfig(.spectralDensity).densityGridOptions == DensityGridOptions())
    }

    /// Every parameter reaches its option field: a valid non-default value set on the
    /// configuration (the range's finite end that is not the default) is what the options hold.
    @Test func everyParameterReachesItsField() throws {
        func expectFieldsReached<O: EstimatorOptionsTable>(_ kind: EstimatorKind, _: O.Type) throws {
            #expect(O.parameterSpecs == kind.parameterSpecs, "\(kind.name)")
            for field in O.fields where field.parameter != .threads {
                let spec = try kind.spec(for: field.parameter)
                let value = try #require(
                    [spec.minimum, spec.maximum].first { $0.isFinite && $0 != spec.defaultValue },
                    "\(kind.name): \(field.parameter.name)")
                var config = EstimatorConfig(kind)
                try config.set(field.parameter, value)
                #expect(field.read(config.options(O.self)) == value, "\(kind.name): \(field.parameter.name)")
                #expect(field.read(EstimatorConfig(kind).options(O.self)) == spec.defaultValue)
            }
        }
        try expectFieldsReached(.lanczos, LanczosOptions.self)
        try expectFieldsReached(.powerIteration, PowerIterationOptions.self)
        try expectFieldsReached(.hutchinson, HutchinsonOptions.self)
        try expectFieldsReached(.hutchPlusPlus, HutchPlusPlusOptions.self)
        try expectFieldsReached(.diagonal, DiagonalOptions.self)
        try expectFieldsReached(.spectralDensity, SpectralDensityRunOptions.self)
        try expectFieldsReached(.xtrace, XTraceOptions.self)
        try expectFieldsReached(.xdiag, XDiagOptions.self)
        var seeded = EstimatorConfig(.spectralDensity)
        seeded.seed = 42
        #expect(seeded.spectralDensityOptions.seed == 42)
    }

    @Test func stableRawValues() {
        #expect(EstimatorKind.allCases.map(\.rawValue) == Array(1...8))
        #expect(EstimatorParameter.allCases.map(\.rawValue) == Array(1...22))
        #expect(EstimatorResultKey.allCases.map(\.rawValue) == Array(1...25))
        #expect(EigenTarget.largestMagnitude.rawValue == 1 && EigenTarget.smallestAlgebraic.rawValue == 3)
        #expect(ProbeDistribution.rademacher.rawValue == 1 && ProbeDistribution.gaussian.rawValue == 2)
        #expect(EigenTermination.converged.rawValue == 0 && EigenTermination.iterationLimit.rawValue == 2)
        #expect(throws: HLRError(.unknownMethod, "unknown estimator kind 9")) { try EstimatorKind.from(rawValue: 9) }
        #expect(throws: HLRError(.unknownKey, "unknown estimator parameter 0")) { try EstimatorParameter.from(rawValue: 0) }
        #expect(throws: HLRError(.unknownKey, "unknown estimator result 26")) { try EstimatorResultKey.from(rawValue: 26) }
    }

    @Test func settersValidateNameTheValueAndChangeNothingOnFailure() throws {
        var config = EstimatorConfig(.lanczos)
        let before = config
        let cases: [(EstimatorParameter, Double, String)] = [
            (.tolerance, .nan, "lanczos: tolerance must be a number, got nan"),
            (.tolerance, 0, "lanczos: tolerance must be in [2.2250738585072014e-308, 1.7976931348623157e+308], got 0.0"),
            (.tolerance, .infinity, "lanczos: tolerance must be finite, got inf"),
            (.count, 1.5, "lanczos: count must be an integer, got 1.5"),
            (.count, 65537, "lanczos: count must be in [1.0, 65536.0], got 65537.0"),
            (.which, 0, "lanczos: which must be in [1.0, 3.0], got 0.0"),
            (.distribution, 3, "lanczos: distribution must be in [1.0, 2.0], got 3.0"),
            (.symmetryTolerance, -.infinity, "lanczos: symmetry_tolerance must be finite, got -inf"),
        ]
        for (parameter, value, message) in cases {
            #expect(throws: HLRError(.invalidArgument, message)) { try config.set(parameter, value) }
        }
        #expect(throws: HLRError(.unknownKey, "estimator kind lanczos has no parameter matvecs")) {
            try config.set(.matvecs, 10)
        }
        #expect(config == before)
        // An infinite bound accepts exactly that infinity.
        try config.set(.symmetryTolerance, .infinity)
        #expect(config.lanczosOptions.symmetryTolerance == .infinity)
        var density = EstimatorConfig(.spectralDensity)
        try density.set(.gridLower, -.infinity)
        #expect(throws: HLRError.self) { try density.set(.gridLower, .infinity) }
        #expect(throws: HLRError.self) { try density.set(.gridUpper, -.infinity) }
    }

    @Test func sentinelsMapToNil() throws {
        var plus = EstimatorConfig(.hutchPlusPlus)
        #expect(plus.hutchPlusPlusOptions.sketchSize == nil)
        try plus.set(.sketchSize, 5)
        #expect(plus.hutchPlusPlusOptions.sketchSize == 5)
        var density = EstimatorConfig(.spectralDensity)
        try density.set(.sigma, 0.25)
        try density.set(.gridLower, 0)  // 0 is a real grid end, not "automatic"
        try density.set(.gridPoints, 50)
        let grid = density.densityGridOptions
        #expect(grid.sigma == 0.25 && grid.lower == 0 && grid.upper == nil && grid.points == 50)
        try density.set(.sigma, 0)
        #expect(density.densityGridOptions.sigma == nil)
    }

    @Test func blocks() throws {
        var lanczos = EstimatorConfig(.lanczos)
        #expect(throws: HLRError.self) { try lanczos.setBlocks([0, 5]) }
        try lanczos.setBlocks(nil)
        var hutchinson = EstimatorConfig(.hutchinson)
        #expect(throws: HLRError(.invalidArgument, "offsets[0] must be 0, got 1")) { try hutchinson.setBlocks([1, 5]) }
        #expect(throws: HLRError.self) { try hutchinson.setBlocks([0]) }
        #expect(throws: HLRError.self) { try hutchinson.setBlocks([]) }
        try hutchinson.setBlocks([0, 3, 3, 40])
        #expect(hutchinson.hutchinsonOptions.blocks?.offsets == [0, 3, 3, 40])
        #expect(throws: HLRError(.invalidArgument, "hutchinson: block offsets end at 40, the dimension is 41")) {
            try hutchinson.validate(dimension: 41)
        }
        try hutchinson.validate(dimension: 40)
    }

    /// Cross-constraints and n-dependent checks throw before the first backend operation.
    @Test func validationRunsBeforeAnyBackendOperation() throws {
        func expectRefused(_ config: EstimatorConfig, dimension: Int? = nil, _ message: String) throws {
            let backend = try TrackingBackend(Self.matrix, dimension: dimension)
            #expect(throws: HLRError(.invalidArgument, message)) { try config.run(on: backend) }
            #expect(backend.hvps == 0 && backend.live == 0)
        }
        let cases: [(kind: EstimatorKind, settings: [(EstimatorParameter, Double)], dimension: Int?, message: String)] = [
            (.lanczos, [(.count, 41)], nil, "lanczos: count (k) must be in 1...40 (the dimension), got 41"),
            (.lanczos, [(.count, 10), (.maxDimension, 9)], nil, "lanczos: max_dimension (9) must be ≥ count (10)"),
            (.hutchinson, [], 0, "hutchinson: operator dimension must be ≥ 1, got 0"),
            (.powerIteration, [(.count, 50)], nil, "power_iteration: count (k) must be in 1...40 (the dimension), got 50"),
            (.hutchPlusPlus, [(.matvecs, 6), (.sketchSize, 3)], nil,
             "hutch_plus_plus: matvecs (6) must be ≥ 2·sketch_size + 1 = 7 (sketch_size 3)"),
            (.hutchPlusPlus, [(.matvecs, 6), (.relativeTolerance, 0.1)], nil,
             "hutch_plus_plus: matvecs (6) must be ≥ 2·sketch_size + min_samples = 14 (sketch_size 2)"),
            (.spectralDensity, [(.gridLower, 2), (.gridUpper, 2)], nil,
             "spectral_density: grid_lower (2.0) must be < grid_upper (2.0)"),
        ]
        for (kind, settings, dimension, message) in cases {
            var config = EstimatorConfig(kind)
            for (parameter, value) in settings { try config.set(parameter, value) }
            try expectRefused(config, dimension: dimension, message)
        }
    }

    /// Each kind's run equals the estimator called directly with the typed options, bit for bit.
    @Test func dispatchEqualsDirectCalls() throws {
        let a = Self.matrix
        let space = try a.space(Double.self)

        var lanczos = EstimatorConfig(.lanczos)
        try lanczos.set(.count, 3)
        try lanczos.set(.computeVectors, 1)
        lanczos.seed = 0xFFFF_FFFF_FFFF_FFFF
        let run = try lanczos.run(on: space)
        let direct = try Lanczos.eigenpairs(of: space, options: lanczos.lanczosOptions)
        #expect(lanczos.lanczosOptions.seed == 0xFFFF_FFFF_FFFF_FFFF)
        #expect(run.values[.eigenvalues] == direct.eigenvalues)
        #expect(run.values[.residuals] == direct.residuals)
        #expect(run.values[.iterations] == [Double(direct.iterations)])
        #expect(run.values[.termination] == [Double(direct.termination.rawValue)])
        #expect(run.values[.restarts] == [Double(direct.restarts)])
        #expect(run.values[.maxAsymmetry] == [direct.maxAsymmetry])
        #expect(run.values[.converged] == [direct.converged ? 1 : 0])
        #expect(run.hvpCount == direct.hvpCount)
        #expect(try run.vectors(.eigenvectors).map(\.elements) == direct.eigenvectors.map(\.elements))
        #expect(run.producedKeys == EstimatorKind.lanczos.resultKeys)

        var power = EstimatorConfig(.powerIteration)
        try power.set(.count, 2)
        try power.set(.tolerance, 1e-8)
        let powerRun = try power.run(on: space)
        let powerDirect = try PowerIteration.eigenpairs(of: space, options: power.powerIterationOptions)
        #expect(powerRun.values[.eigenvalues] == powerDirect.eigenvalues)
        #expect(powerRun.values[.iterations] == powerDirect.iterations.map(Double.init))
        #expect(powerRun.values[.converged] == powerDirect.converged.map { $0 ? 1 : 0 })
        #expect(powerRun.vectors[.eigenvectors] == nil)

        var hutchinson = EstimatorConfig(.hutchinson)
        try hutchinson.set(.samples, 25)
        try hutchinson.setBlocks([0, 10, 40])
        hutchinson.seed = 3
        let trace = try hutchinson.run(on: space)
        let traceDirect = try Hutchinson.trace(of: space, options: hutchinson.hutchinsonOptions)
        #expect(trace.values[.trace] == [traceDirect.estimate])
        #expect(trace.values[.standardError] == [traceDirect.standardError])
        #expect(trace.values[.blockTraces] == traceDirect.blockEstimates)
        #expect(trace.values[.blockTraceErrors] == traceDirect.blockStandardErrors)
        #expect(trace.values[.samples] == [25] && trace.hvpCount == 25)

        var plus = EstimatorConfig(.hutchPlusPlus)
        try plus.set(.matvecs, 30)
        let plusRun = try plus.run(on: space)
        let plusDirect = try HutchPlusPlus.trace(of: space, options: plus.hutchPlusPlusOptions)
        #expect(plusRun.values[.trace] == [plusDirect.estimate])
        #expect(plusRun.values[.sketchRank] == [Double(plusDirect.sketchRank)])
        #expect(plusRun.values[.blockTraces] == nil)

        var exchangeable = EstimatorConfig(.xtrace)
        try exchangeable.set(.matvecs, 21)
        let xRun = try exchangeable.run(on: space)
        let xDirect = try XTrace.trace(of: space, options: exchangeable.xtraceOptions)
        #expect(xRun.values[.trace] == [xDirect.estimate])
        #expect(xRun.values[.standardError] == [xDirect.standardError])
        #expect(xRun.values[.samples] == [10] && xRun.values[.sketchRank] == [10] && xRun.hvpCount == 20)
        #expect(Set(xRun.values.keys) == Set(EstimatorKind.xtrace.resultKeys))

        var xdiag = EstimatorConfig(.xdiag)
        try xdiag.set(.matvecs, 21)
        try xdiag.setBlocks([0, 20, 40])
        let xdiagRun = try xdiag.run(on: space)
        let xdiagDirect = try XDiag.estimate(of: space, options: xdiag.xdiagOptions)
        #expect(try xdiagRun.vectors(.diagonal).map(\.elements) == [xdiagDirect.diagonal.elements])
        #expect(xdiagRun.values[.trace] == [xdiagDirect.traceEstimate])
        #expect(xdiagRun.values[.blockMeans] == xdiagDirect.blockMeans)
        #expect(xdiagRun.values[.samples] == [10] && xdiagRun.values[.sketchRank] == [10] && xdiagRun.hvpCount == 20)
        #expect(Set(xdiagRun.values.keys).union(xdiagRun.vectors.keys) == Set(EstimatorKind.xdiag.resultKeys))

        var diagonal = EstimatorConfig(.diagonal)
        try diagonal.set(.samples, 12)
        try diagonal.setBlocks([0, 20, 40])
        let diagonalRun = try diagonal.run(on: space)
        let diagonalDirect = try HutchinsonDiagonal.estimate(of: space, options: diagonal.diagonalOptions)
        #expect(try diagonalRun.vectors(.diagonal).map(\.elements) == [diagonalDirect.diagonal.elements])
        #expect(diagonalRun.values[.blockMeans] == diagonalDirect.blockMeans)
        #expect(diagonalRun.values[.trace] == [diagonalDirect.traceEstimate])

        var density = EstimatorConfig(.spectralDensity)
        try density.set(.runs, 2)
        try density.set(.steps, 15)
        try density.set(.gridPoints, 64)
        let densityRun = try density.run(on: space)
        let quadrature = try SpectralDensity.quadrature(of: space, options: density.spectralDensityOptions)
        let grid = try DensityGrid(smoothing: quadrature, options: density.densityGridOptions)
        #expect(densityRun.values[.densityNodes] == Array(quadrature.nodes.joined()))
        #expect(densityRun.values[.densityWeights] == Array(quadrature.weights.joined()))
        #expect(densityRun.values[.runSteps] == quadrature.steps.map(Double.init))
        #expect(densityRun.values[.grid] == grid.grid && densityRun.values[.density] == grid.density)
        #expect(densityRun.values[.sigma] == [grid.sigma] && densityRun.values[.trace] == [quadrature.traceEstimate])
    }

    @Test func missingResultsAreWrongStateWithAHint() throws {
        let run = try EstimatorConfig(.hutchinson).run(on: try Self.matrix.space(Double.self))
        #expect(throws: HLRError(
            .wrongState,
            "the last hutchinson run produced no block_traces (set block offsets); it produced: trace, standard_error, samples, converged, max_asymmetry, hvps")) {
            try run.value(.blockTraces)
        }
        #expect(throws: HLRError.self) { try run.value(.eigenvalues) }
        #expect(run.missingMessage(.eigenvalues).contains("hutchinson never produces it"))
        for kind in EstimatorKind.allCases {
            #expect(Set(kind.resultKeys).count == kind.resultKeys.count)
            #expect(kind.resultKeys.contains(.hvps))
        }
    }

    /// A failing backend: the error passes through and every vector is released, for every kind.
    @Test func failuresReleaseEveryVector() throws {
        for kind in EstimatorKind.allCases {
            var config = EstimatorConfig(kind)
            if kind == .lanczos || kind == .powerIteration { try config.set(.computeVectors, 1) }
            for failAt in [1, 3, 8] {
                let backend = try TrackingBackend(Self.matrix)
                backend.failAtHVP = failAt
                #expect(throws: HLRError(.callbackFailed, "HVP callback returned -1 (test)")) {
                    try config.run(on: backend)
                }
                #expect(backend.live == 0, "\(kind.name) failing at HVP \(failAt)")
                let poisoned = try TrackingBackend(Self.matrix)
                poisoned.nanAtHVP = failAt
                #expect(throws: HLRError.self) { try config.run(on: poisoned) }
                #expect(poisoned.live == 0, "\(kind.name) NaN at HVP \(failAt)")
            }
            // On success, only the result vectors stay live (the caller owns them).
            let backend = try TrackingBackend(Self.matrix)
            let run = try config.run(on: backend)
            #expect(backend.live == config.resultVectorCount)
            #expect(run.vectors.values.reduce(0) { $0 + $1.count } == config.resultVectorCount)
        }
    }
}
