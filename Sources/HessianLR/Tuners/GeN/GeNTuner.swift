/// GeN (seed 001) as a state machine over forward losses: backprop-free, lazy, one shared
/// scale for all groups (see `GeNRule` for the math and the multi-group meaning).
///
/// Protocol: `need(atStep: t)` is `.losses(probes:)` at the steps t ≥ 0 with t mod P = 0
/// (P = update_period, default 4) after the last observed step, `.nothing` otherwise. The probes
/// are m rows of K step sizes ξ_jk = s·lr_k·ρ_j computed from the current rates (change no option
/// between `need` and `observe`: the tuner recomputes the same probes to interpret the losses).
/// The trainer evaluates L(w − Σ_k ξ_jk·d_k) at each (d = the optimizer's update, or g; ξ = 0 is
/// the current loss) and observes the m losses in probe order, then reads the rates of step t.
/// The optimizer is stepped once, with the new rates (GeN's reference steps it twice).
///
/// Before the first update the rate is clamp(initial_lr). Refused, changing nothing: a step that
/// does not need losses or another kind (`wrongState`), a wrong count (`invalidArgument`),
/// NaN/±Inf losses (`nonFinite`). A caller that cannot measure the losses reports it with
/// `observeFailure(step:)` instead: the rate is multiplied by fit_failure_decay (GeN halves).
public typealias GeNTuner = RuleTuner<GeNRule>

extension GeNRule: ProbeFitRule {
    public typealias Options = GeNOptions
    public typealias Layout = PerGroupFit

    public static func probes(of tuner: GeNTuner) -> [[Double]] {
        probes(rates: tuner.rates, options: tuner.options)
    }

    public static func fit(losses: [Double], of tuner: GeNTuner, into state: inout State) throws(HLRError) {
        state.record(try decide(current: tuner.rates, losses: losses, options: tuner.options))
    }
}
