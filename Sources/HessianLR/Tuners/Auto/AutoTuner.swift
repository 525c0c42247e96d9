/// `auto` (`AutoRule`) as a state machine over forward losses.
///
/// Protocol: `need(atStep: t)` is `.losses(probes:)` at the adaptive schedule's steps (the first
/// at step 0, then `period` steps after each observation; the period adapts between 1 and
/// update_period), `.nothing` otherwise. The probe rows are `AutoRule.probes` for the current
/// phase and rates (the bracket's 13 rows at the first observation, then ρ = −1, 0, +1); the
/// trainer evaluates L(w − ρ_j·Σ_k η_k·u_k) for each row (u: the optimizer's previous update,
/// see `AutoRule`; the zero row is the current loss) and observes the losses in row order. A
/// diverged trial may be observed as +∞ (the step driver does so); NaN and −∞ are refused, as
/// a non-finite loss at a zero row.
///
/// Before the first observation the rate is clamp(initial_lr). Every rate handed out is within
/// [lr_min, min(lr_max, 1e140)].
public typealias AutoTuner = RuleTuner<AutoRule>

/// The state of `auto`: the rates, the phase, the averages b̂ and â (per unit of group 0's rate),
/// the adaptive schedule (period and next step), the decision log and the last fit.
public struct AutoState: RateState, TabledState {
    public internal(set) var current: [Double]
    var phase: AutoRule.Phase = .bracket
    var slopeAverage: Double = 0
    var curvatureAverage: Double = 0
    var period: UInt64 = 1
    var nextStep: UInt64 = 0
    /// Tracking fits folded into the averages since they were last reset (gates the period).
    var fits: UInt64 = 0
    /// Group 0's rate never rises above this by a fit: the lowest edge of stability a loss spike
    /// revealed (`AutoRule.edge`), +∞ before any spike.
    var ceiling: Double = .infinity
    var decisions: DecisionLog
    var fit: FitLog

    public init(groups: Int) {
        current = Array(repeating: .nan, count: groups)
        decisions = DecisionLog(groups: groups)
        fit = FitLog(groups: groups, shape: .perGroup)
    }

    /// Payload fields: current (K doubles), phase (UInt8), slope_average, curvature_average,
    /// period, next_step, fits (UInt64), ceiling, decisions, fit.
    public static let payload: [StateField<Self>] = [
        .perGroup("current", \.current), .code("phase", noun: "auto phase", \.phase),
        .double("slope_average", \.slopeAverage), .double("curvature_average", \.curvatureAverage),
        .count("period", \.period), .count("next_step", \.nextStep), .count("fits", \.fits),
        .double("ceiling", \.ceiling), .decisions(\.decisions), .fit(\.fit, shape: .perGroup),
    ]
}

extension AutoOptions: ClampedRateOptions {}

extension AutoRule: TuningRule {
    public typealias Options = AutoOptions
    public typealias State = AutoState

    public static var acceptsDivergedTrials: Bool { true }

    /// Losses at the scheduled steps (t ≥ next step, after the last observed one).
    public static func need(atStep step: UInt64, of tuner: AutoTuner) -> Need {
        guard !tuner.history.isStale(step), step >= tuner.state.nextStep else { return .nothing }
        return .losses(probes: probes(phase: tuner.state.phase, rates: tuner.rates))
    }

    public static func requireObservation(
        _ kind: ObservationKind, atStep step: UInt64, of tuner: AutoTuner
    ) throws(HLRError) {
        try ObservationGuard.require(
            kind, step: step, need: need(atStep: step, of: tuner), method: .auto, lastStep: tuner.history.lastStep,
            schedule: "adaptive period \(tuner.state.period)", nextStep: max(step, tuner.state.nextStep))
    }

    /// Refused, changing nothing: a step that does not need losses or another kind
    /// (`wrongState`), a wrong count (`invalidArgument`), NaN or −∞ anywhere or +∞ at a zero row
    /// (`nonFinite`).
    public static func observe(
        step: UInt64, kind: ObservationKind, values: [Double], into tuner: inout AutoTuner
    ) throws(HLRError) {
        let need = tuner.need(atStep: step)
        try requireObservation(kind, atStep: step, of: tuner)
        try ObservationGuard.requireCount(
            values, need: need, groups: tuner.groupCount, layout: "one loss per probe row, in row order")
        let ratios = ratios(tuner.state.phase)
        for (index, value) in values.enumerated() where !(value.isFinite || (value == .infinity && ratios[index] != 0)) {
            throw HLRError(
                .nonFinite,
                "loss at probe \(index) is not finite: \(value) (a diverged trial may be +inf, a zero row never)")
        }
        try apply(values, step: step, to: &tuner)
    }

    /// Every trial diverged (the caller could not measure them): the losses of `observe` with
    /// +∞ at every non-zero row, the zero rows at 0 (unused: with every trial at +∞ the bracket
    /// moves down by 4⁻⁷ and tracking by fit_failure_decay).
    public static func observeFailure(step: UInt64, into tuner: inout AutoTuner) throws(HLRError) {
        try requireObservation(.losses, atStep: step, of: tuner)
        let losses = ratios(tuner.state.phase).map { $0 == 0 ? 0 : Double.infinity }
        try apply(losses, step: step, to: &tuner)
    }

    /// Applies checked losses: the phase's decision, the rates × its factor (clamped), the
    /// averages, the schedule, the logs. Throws `nonFinite`, changing nothing, when finite
    /// losses give a non-finite slope, curvature or average (differences of losses near ±DBL_MAX).
    static func apply(_ losses: [Double], step: UInt64, to tuner: inout AutoTuner) throws(HLRError) {
        let options = tuner.options
        let rates = tuner.rates
        let observedPhase = tuner.state.phase
        let decision: Decision
        switch tuner.state.phase {
        case .bracket:
            decision = bracket(losses: losses, gain: options.dynamics.steadyGain)
        case .track:
            decision = track(
                losses: losses, rate: rates[0], slopeAverage: tuner.state.slopeAverage,
                curvatureAverage: tuner.state.curvatureAverage, ceiling: tuner.state.ceiling,
                informed: tuner.state.fits > 0, options: options)
        }
        for (name, value) in [("slope", decision.slope), ("curvature", decision.curvature)] where value.isInfinite {
            throw HLRError(.nonFinite, "the \(name) of the fit overflows (\(value)): the losses are too far apart")
        }
        guard decision.slopeAverage.isFinite, decision.curvatureAverage.isFinite else {
            throw HLRError(.nonFinite, "the averages of the slope or curvature overflow")
        }
        var newRates: [Double] = []
        var flags: [DecisionFlags] = []
        for rate in rates {
            var groupFlags = decision.flags
            newRates.append(
                RateSafeguards.clamp(rate * decision.factor, lrMin: options.lrMin, lrMax: options.rateCeiling, flags: &groupFlags))
            flags.append(groupFlags)
        }
        let reset = decision.flags.contains(.lossSpike) || decision.flags.contains(.observationFailed)
        let fitted = observedPhase == .track && !reset && !decision.slope.isNaN
        let fits = reset || observedPhase == .bracket ? 0 : tuner.state.fits + (fitted ? 1 : 0)
        // A flat fit that held the rate: the loss sits at its resolution or a floor, and observing
        // sooner buys nothing, so the period may grow as when the averages are warm.
        let flatHold = observedPhase == .track && decision.flags.contains(.zeroGradient) && decision.factor == 1
        let period = nextPeriod(
            tuner.state.period, factor: decision.factor, phase: decision.phase, maximum: options.updatePeriod,
            warm: fits >= warmFits(smoothing: options.smoothing) || flatHold, reset: reset)
        tuner.state.current = newRates
        tuner.state.phase = decision.phase
        tuner.state.slopeAverage = decision.slopeAverage
        tuner.state.curvatureAverage = decision.curvatureAverage
        tuner.state.period = period
        tuner.state.fits = fits
        if observedPhase == .track { tuner.state.ceiling = decision.ceiling }
        let (next, overflow) = step.addingReportingOverflow(period)
        tuner.state.nextStep = overflow ? .max : next
        tuner.state.decisions = DecisionLog(candidates: rates.map { $0 * decision.factor }, flags: flags)
        let intercept = losses[ratios(observedPhase).firstIndex(of: 0) ?? 0]
        let unit = rates[0]
        tuner.state.fit.record(
            intercept: intercept, slope: rates.map { decision.slope * unit / $0 },
            curvature: rates.map { decision.curvature * (unit / $0) * (unit / $0) }, r2: .nan)
        tuner.history.recordUpdate(atStep: step)
    }

    public static func rate(group: Int, step: UInt64, of tuner: AutoTuner) -> Double {
        tuner.clampedRate(group)
    }

    public static func info(_ key: InfoKey, group: Int, of tuner: AutoTuner) -> Double? {
        let state = tuner.state
        if let value = state.decisions.info(key, group: group) ?? state.fit.info(key, group: group) { return value }
        return key == .nextCurvatureStep ? -1 : nil
    }

    /// The bracket at step 0, then the adaptive period's next step (none after step 2⁶⁴ − 1).
    public static func nextObservationStep(of tuner: AutoTuner) -> UInt64? {
        if let last = tuner.history.lastStep, last == .max { return nil }
        return tuner.state.nextStep
    }

    /// A last step exactly when updated; once updated valid rates, finite averages ≥ 0, a period
    /// in [1, update_period] and a next step after the last one.
    public static func checkRestored(_ tuner: AutoTuner) throws(HLRError) {
        try tuner.checkPeriodicRestore(rates: tuner.state.current)
        let state = tuner.state
        guard state.slopeAverage.isFinite, state.slopeAverage >= 0, state.curvatureAverage.isFinite,
            state.curvatureAverage >= 0
        else {
            throw HLRError(
                .snapshotCorrupt,
                "snapshot holds invalid averages b̂ = \(state.slopeAverage), â = \(state.curvatureAverage)")
        }
        guard state.ceiling > 0, !state.ceiling.isNaN else {
            throw HLRError(.snapshotCorrupt, "snapshot holds an invalid rate ceiling \(state.ceiling)")
        }
        guard state.period >= 1, state.period <= tuner.options.updatePeriod else {
            throw HLRError(
                .snapshotCorrupt,
                "snapshot holds period \(state.period) outside [1, update_period \(tuner.options.updatePeriod)]")
        }
        if let last = tuner.history.lastStep, state.nextStep <= last, last < .max {
            throw HLRError(.snapshotCorrupt, "snapshot holds next step \(state.nextStep) ≤ last step \(last)")
        }
        if tuner.history.lastStep == nil, state.nextStep != 0 {
            throw HLRError(.snapshotCorrupt, "snapshot holds next step \(state.nextStep) before any observation")
        }
    }

    /// A lowered update_period caps the current period.
    public static func optionsChanged(_ tuner: inout AutoTuner) {
        tuner.state.period = min(tuner.state.period, tuner.options.updatePeriod)
    }
}
