/// HessianLR as a state machine over scalar observations (seed 000, generalised).
///
/// Schedule of requests: curvature is wanted at steps t ≥ W with (t − W) mod P = 0 (W =
/// warmup_steps, P = update_period) that come after the last observed step. Before the first
/// update, lr(t) = η₀·(t+1)/W during warmup and η₀ after it; each observation moves every group's
/// rate by `HessianLRRule.decide`, and between observations the rate stays where it is. Every rate
/// handed out is within [lr_min, lr_max].
///
/// Observation layout: [gᵀd₀, dᵀHd₀, gᵀd₁, dᵀHd₁, …], with d = g (direction gradient) or d = u.
/// A value that is NaN or ±Inf, or gᵀg < 0 with direction gradient, is refused and nothing
/// changes.
public typealias HessianLRTuner = RuleTuner<HessianLRRule>

/// HessianLR's state: the current rate per group (meaningful once the history counts an
/// update), the decision log and the last observation of every group.
public struct HessianLRState: RateState, TabledState {
    public internal(set) var current: [Double]
    var decisions: DecisionLog
    var observed: CurvatureLog

    public init(groups: Int) {
        current = Array(repeating: .nan, count: groups)
        decisions = DecisionLog(groups: groups)
        observed = CurvatureLog(groups: groups)
    }

    /// Payload fields: current rates, decisions, last observation.
    public static let payload: [StateField<Self>] = [
        .perGroup("current", \.current), .decisions(\.decisions), .observed(\.observed),
    ]
}

extension HessianLRRule: TuningRule {
    public typealias Options = HessianLROptions
    public typealias State = HessianLRState

    public static func usesUpdateDirection(_ options: HessianLROptions) -> Bool { options.direction == .update }

    /// Whether the schedule (ignoring the last observed step) asks for curvature at `step`:
    /// step ≥ W and (step − W) mod P = 0.
    static func isScheduled(_ step: UInt64, options: HessianLROptions) -> Bool {
        step >= options.warmupSteps && (step - options.warmupSteps) % options.updatePeriod == 0
    }

    /// The first step ≥ `from` at which the schedule asks for curvature, or nil when that step
    /// would not fit in a UInt64.
    static func nextScheduledStep(from step: UInt64, options: HessianLROptions) -> UInt64? {
        let warmup = options.warmupSteps
        if step <= warmup { return warmup }
        let offset = (step - warmup) % options.updatePeriod
        if offset == 0 { return step }
        let (next, overflow) = step.addingReportingOverflow(options.updatePeriod - offset)
        return overflow ? nil : next
    }

    public static func need(atStep step: UInt64, of tuner: HessianLRTuner) -> Need {
        if tuner.history.isStale(step) { return .nothing }
        return isScheduled(step, options: tuner.options) ? .curvature : .nothing
    }

    public static func requireObservation(
        _ kind: ObservationKind, atStep step: UInt64, of tuner: HessianLRTuner
    ) throws(HLRError) {
        guard kind == .curvature else {
            throw HLRError(.wrongState, "hessianlr observes curvature only, not \(kind.name)")
        }
        if tuner.wantsCurvature(atStep: step) { return }
        if let lastStep = tuner.history.lastStep, step <= lastStep {
            throw HLRError(
                .wrongState,
                "step \(step) does not want curvature: steps must increase and step \(lastStep) "
                    + "was already observed")
        }
        let options = tuner.options
        throw HLRError(
            .wrongState,
            "step \(step) does not want curvature (warmup_steps \(options.warmupSteps), "
                + "update_period \(options.updatePeriod)): the next curvature step is "
                + (nextScheduledStep(from: step, options: options).map { "\($0)" } ?? "beyond 2^64 − 1"))
    }

    public static func observe(
        step: UInt64, kind: ObservationKind, values: [Double], into tuner: inout HessianLRTuner
    ) throws(HLRError) {
        try requireObservation(kind, atStep: step, of: tuner)
        let groups = tuner.groupCount
        let options = tuner.options
        try ObservationGuard.requireCount(
            values, need: .curvature, groups: groups, layout: "gᵀd, dᵀHd for each of \(groups) groups")
        for group in 0..<groups {
            let slope = values[2 * group]
            let curvature = values[2 * group + 1]
            guard slope.isFinite else {
                throw HLRError(.nonFinite, "gᵀd of group \(group) is not finite: \(slope)")
            }
            guard curvature.isFinite else {
                throw HLRError(.nonFinite, "dᵀHd of group \(group) is not finite: \(curvature)")
            }
            if options.direction == .gradient && slope < 0 {
                throw .invalid(
                    "gᵀg of group \(group) is negative (\(slope)); with direction gradient it is a squared norm")
            }
        }
        let updated = tuner.history.updates > 0
        for group in 0..<groups {
            let slope = values[2 * group]
            let curvature = values[2 * group + 1]
            let rate = updated
                ? tuner.state.current[group]
                : scheduled(initial: options.initialLR[group], step: step, options: options)
            let decision = decide(current: rate, slope: slope, curvature: curvature, options: options)
            tuner.state.current[group] = decision.learningRate
            tuner.state.decisions.record(group: group, candidate: decision.candidate, flags: decision.flags)
            tuner.state.observed.record(group: group, slope: slope, curvature: curvature)
        }
        tuner.history.recordUpdate(atStep: step)
    }

    /// The warmup ramp changes the rate every step before warmup_steps; after it the rate is
    /// the initial or the current one, whatever the step.
    public static func rateSteadyUntil(step: UInt64, of tuner: HessianLRTuner) -> UInt64 {
        step < tuner.options.warmupSteps ? step + 1 : .max
    }

    /// The warmup schedule before the first update and during warmup, then the current rate,
    /// within [lr_min, lr_max].
    public static func rate(group: Int, step: UInt64, of tuner: HessianLRTuner) -> Double {
        let options = tuner.options
        if step < options.warmupSteps || tuner.history.updates == 0 {
            return scheduled(initial: options.initialLR[group], step: step, options: options)
        }
        var flags: DecisionFlags = []
        return clamp(tuner.state.current[group], options, &flags)
    }

    public static func info(_ key: InfoKey, group: Int, of tuner: HessianLRTuner) -> Double? {
        let state = tuner.state
        if let value = state.decisions.info(key, group: group) ?? state.observed.info(key, group: group) {
            return value
        }
        // Its observations are curvature only: the next update is the next curvature step.
        guard key == .nextCurvatureStep else { return nil }
        return nextObservationStep(of: tuner).map { Double($0) } ?? -1
    }

    /// The first curvature step after the last observed one (nil when none fits in a UInt64).
    public static func nextObservationStep(of tuner: HessianLRTuner) -> UInt64? {
        guard let from = tuner.history.lastStep.map({ $0 == .max ? nil : $0 + 1 }) ?? 0 else { return nil }
        return nextScheduledStep(from: from, options: tuner.options)
    }

    /// Once updated: a last step and valid rates.
    public static func checkRestored(_ tuner: HessianLRTuner) throws(HLRError) {
        if tuner.history.updates > 0 {
            guard tuner.history.lastStep != nil else {
                throw HLRError(.snapshotCorrupt, "snapshot has updates but no last step")
            }
            try TunerPayload.requireValidRates(tuner.state.current)
        }
    }
}
