import Testing
@testable import HessianLR

/// Every method's options at their documented defaults, in table (snapshot) order: each value
/// is the one the method's options table documents and its source gives (the header comment of
/// each `*Options.swift` says why), read back both from a fresh tuner and from the method's specs
/// (`hlr_param_bounds`). A change of any default, or of the order, fails here.
@Suite struct DocumentedDefaultsTests {
    static let documented: [Method: [(ParameterKey, Double)]] = [
        // seed 000's README
        .hessianLR: [
            (.initialLR, 1e-3), (.warmupSteps, 0), (.updatePeriod, 10), (.lrBoundLow, 0.3),
            (.lrBoundHigh, 3.0), (.lrMin, 1e-8), (.lrMax, 1.0), (.smoothing, 0.9),
            (.negativeCurvatureDecay, 0.5), (.direction, 0),
        ],
        // seed 002 (σ = 2 "on edge", the update direction) and the library's conventions
        .cdat: [
            (.initialLR, 1e-3), (.updatePeriod, 1), (.lrMin, 1e-8), (.lrMax, .infinity), (.smoothing, 0.9),
            (.direction, 1), (.sigma, 2.0), (.epsilon, 1e-12), (.sharpness, 0),
        ],
        // GeN's code (seed 001, gen-optim)
        .gen: [
            (.initialLR, 1e-3), (.updatePeriod, 4), (.lrBoundLow, 0.5), (.lrBoundHigh, 2.0), (.lrMin, 1e-8),
            (.lrMax, .infinity), (.smoothing, 0.9), (.probeCount, 3), (.probeScale, 1.0), (.r2Threshold, 0.99),
            (.fitFailureDecay, 0.5),
        ],
        // GeN's safeguards, Hi-DLR's period and automatic probe count
        .hidlr: [
            (.initialLR, 1e-3), (.updatePeriod, 10), (.lrBoundLow, 0.5), (.lrBoundHigh, 2.0), (.lrMin, 1e-8),
            (.lrMax, .infinity), (.smoothing, 0.9), (.probeCount, 0), (.probeScale, 1.0), (.r2Threshold, 0.99),
            (.fitFailureDecay, 0.5), (.seed, 0), (.model, 0), (.eigenFloor, 1e-3),
        ],
        // optax's scale_by_backtracking_linesearch
        .armijo: [
            (.initialLR, 1.0), (.lrMax, 1.0), (.sufficientDecrease, 1e-4), (.decreaseFactor, 0.8),
            (.increaseFactor, 1.5), (.maxBacktracks, 15),
        ],
        .constant: [(.initialLR, 1e-3)],
        // AutoRule's derivation (AutoOptions)
        .auto: [
            (.initialLR, 1e-3), (.updatePeriod, 16), (.lrMin, 1e-12), (.lrMax, .infinity), (.smoothing, 0.9),
            (.sigma, 1), (.fitFailureDecay, 0.0625), (.optimizer, 0), (.momentum, 0), (.dampening, 0),
            (.nesterov, 0), (.probePrevious, 0),
        ],
    ]

    @Test func everyMethodIsDocumented() {
        #expect(Set(Self.documented.keys) == Set(Method.allCases))
    }

    @Test(arguments: Method.allCases, [1, 2])
    func defaultsAreTheDocumentedOnes(method: Method, groups: Int) throws {
        let expected = try #require(Self.documented[method])
        try TunerCheck.expectDefaults(method, expected, of: makeTuner(method: method, groups: groups))
    }
}
