/// CDAT (Curvature Dynamics Aware Tuning, seed 002) as a state machine over scalar
/// observations, one rate per parameter group.
///
/// Protocol: `need(atStep: t)` is `.curvature` at the steps t ≥ 0 with t mod P = 0
/// (P = update_period, default 1: every step) after the last observed step, `.nothing`
/// otherwise. The observation is [gᵀu₀, u₀ᵀHu₀, gᵀu₁, u₁ᵀHu₁, …] (2K values, u = the
/// optimizer's update, or g with direction gradient), exactly HessianLR's layout, so
/// `hlr_tuner_observe_curvature` and host mode (`QuadraticTerms`) serve both. Each observation
/// moves every group by `CDATRule.decide`; between observations the rate stays. Before the first
/// observation the rate is clamp(initial_lr). Every rate handed out is within [lr_min, lr_max].
///
/// Edge-of-stability diagnostic: the caller supplies λ_max per group through the `sharpness`
/// option (e.g. from the library's Lanczos estimator, at its own cadence); `info(.edgeOfStability)`
/// is then η_k·λ_max,k, which gradient descent keeps below 2 to stay stable. An option rather
/// than an observation because it never drives the rule: a diagnostic input measured on another
/// schedule, settable from C and Python with the existing set_group_param, and leaving the
/// curvature layout shared with HessianLR unchanged.
///
/// Refused, changing nothing: a step that does not need curvature (`wrongState`), a wrong value
/// count (`invalidArgument`), NaN/±Inf values or an overflowing d = |uᵀHu| + ε or EMA
/// (`nonFinite`), gᵀg < 0 with direction gradient (`invalidArgument`).
public typealias CDATTuner = RuleTuner<CDATRule>

/// CDAT's state: the current rates, the EMAs n̂ and d̂, the decision log and the last
/// observation of every group.
public struct CDATState: RateState, TabledState {
    public internal(set) var current: [Double]
    var numerator: [Double]
    var denominator: [Double]
    var decisions: DecisionLog
    var observed: CurvatureLog

    public init(groups: Int) {
        current = Array(repeating: .nan, count: groups)
        numerator = Array(repeating: 0, count: groups)
        denominator = Array(repeating: 0, count: groups)
        decisions = DecisionLog(groups: groups)
        observed = CurvatureLog(groups: groups)
    }

    /// Payload fields: current rates, the EMAs n̂ and d̂, decisions, last observation.
    public static let payload: [StateField<Self>] = [
        .perGroup("current", \.current), .perGroup("numerator", \.numerator),
        .perGroup("denominator", \.denominator), .decisions(\.decisions), .observed(\.observed),
    ]
}

extension CDATRule: TuningRule {
    public typealias Options = CDATOptions
    public typealias State = CDATState

    public static func usesUpdateDirection(_ options: CDATOptions) -> Bool { options.direction == .update }

    public static func need(atStep step: UInt64, of tuner: CDATTuner) -> Need {
        tuner.isDue(step) ? .curvature : .nothing
    }

    public static func requireObservation(
        _ kind: ObservationKind, atStep step: UInt64, of tuner: CDATTuner
    ) throws(HLRError) {
        try tuner.requirePeriodic(kind, atStep: step)
    }

    public static func observe(
        step: UInt64, kind: ObservationKind, values: [Double], into tuner: inout CDATTuner
    ) throws(HLRError) {
        try requireObservation(kind, atStep: step, of: tuner)
        let groups = tuner.groupCount
        try ObservationGuard.requireCount(
            values, need: .curvature, groups: groups, layout: "gᵀu, uᵀHu for each of \(groups) groups")
        try ObservationGuard.requireFinite(values) { index in
            "\(index % 2 == 0 ? "gᵀu" : "uᵀHu") of group \(index / 2)"
        }
        let options = tuner.options
        for group in 0..<groups {
            let slope = values[2 * group]
            let curvature = values[2 * group + 1]
            if options.direction == .gradient && slope < 0 {
                throw .invalid(
                    "gᵀg of group \(group) is negative (\(slope)); with direction gradient it is a squared norm")
            }
            guard (abs(curvature) + options.epsilon).isFinite else {
                throw HLRError(.nonFinite, "d = |uᵀHu| + ε of group \(group) overflows (uᵀHu = \(curvature))")
            }
            let decision = decide(
                numerator: tuner.state.numerator[group], denominator: tuner.state.denominator[group],
                slope: slope, curvature: curvature, options: options)
            guard decision.numerator.isFinite && decision.denominator.isFinite else {
                throw HLRError(.nonFinite, "the EMAs of n or d of group \(group) overflow")
            }
            tuner.state.current[group] = decision.learningRate
            tuner.state.numerator[group] = decision.numerator
            tuner.state.denominator[group] = decision.denominator
            tuner.state.decisions.record(group: group, candidate: decision.candidate, flags: decision.flags)
            tuner.state.observed.record(group: group, slope: slope, curvature: curvature)
        }
        tuner.history.recordUpdate(atStep: step)
    }

    /// The current rate of `group`: clamp(initial_lr) before the first observation.
    public static func rate(group: Int, step: UInt64, of tuner: CDATTuner) -> Double {
        tuner.clampedRate(group)
    }

    /// Its observations are curvature: every update_period steps (`PeriodicSchedule`).
    public static func nextObservationStep(of tuner: CDATTuner) -> UInt64? {
        tuner.schedule.next(after: tuner.history.lastStep)
    }

    public static func info(_ key: InfoKey, group: Int, of tuner: CDATTuner) -> Double? {
        let state = tuner.state
        if let value = state.decisions.info(key, group: group) ?? state.observed.info(key, group: group) {
            return value
        }
        switch key {
        case .nextCurvatureStep: return nextObservationStep(of: tuner).map { Double($0) } ?? -1
        case .smoothedNumerator: return state.numerator[group]
        case .smoothedDenominator: return state.denominator[group]
        case .edgeOfStability:
            let sharpness = tuner.options.sharpness[group]
            return sharpness > 0 ? tuner.clampedRate(group) * sharpness : .nan
        default: return nil
        }
    }

    /// A last step exactly when updated; per group finite EMAs ≥ 0 and, once updated, a valid rate.
    public static func checkRestored(_ tuner: CDATTuner) throws(HLRError) {
        try tuner.history.requireLastStepExactlyWhenUpdated()
        for group in 0..<tuner.groupCount {
            let n = tuner.state.numerator[group]
            let d = tuner.state.denominator[group]
            guard n.isFinite && n >= 0 && d.isFinite && d >= 0 else {
                throw HLRError(.snapshotCorrupt, "snapshot holds invalid EMAs n̂ = \(n), d̂ = \(d) for group \(group)")
            }
            if tuner.history.updates > 0 {
                try TunerPayload.requireValidRate(tuner.state.current[group], group: group)
            }
        }
    }
}
