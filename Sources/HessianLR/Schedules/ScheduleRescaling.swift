/// The same schedule for another learning-rate level: what a torch scheduler does for each param
/// group of an optimizer, where the group's initial lr takes the place of the scheduler's base.
///
/// With N the schedule's nominal rate and N′ the new one, every rate parameter x of every node
/// (base_lr, max_lr, start_lr, final_lr, infimum_lr, a warmup's start_lr, the pieces of a join)
/// becomes
///
///     x′ = N′            if x = N  (the base the group's lr replaces, exactly as torch sets it)
///     x′ = x·(N′/N)      otherwise
///
/// except `eta_min` of `cosine` and `cosine_warm_restarts`, which stays as it is: torch's
/// CosineAnnealingLR and CosineAnnealingWarmRestarts take it as an absolute rate shared by all
/// groups, not as a fraction of each group's lr. Step counts, factors, γ, powers and choices
/// are unchanged. For torch's schedulers this is exactly the schedule torch runs for a group
/// whose initial lr is N′: base_lr = N′ for ConstantLR … PolynomialLR and the cosine kinds,
/// max_lr = N′ for OneCycleLR (its initial and final rates follow from the divisors), CyclicLR
/// given base_lr and max_lr lists in the ratio of the groups' lrs, and SequentialLR's LinearLR
/// warmup with start_factor = start_lr/N. The kinds torch does not have (warmup_stable_decay,
/// the hyperbolic kinds) scale as a whole.
///
/// A schedule whose nominal rate is 0 (every rate parameter 0) is returned as it is. A
/// hyperbolic node rescaled to 0 becomes the constant 0 (its limit; the kind itself needs
/// infimum_lr < base_lr). The result is validated like any schedule: a rescaled rate above
/// `ScheduleParameterSpec.maxRate`, or a broken constraint, throws `invalidArgument` naming it.
extension Schedule {
    public func rescaled(toNominal target: Double) throws(HLRError) -> Schedule {
        guard target.isFinite, target >= 0, target <= ScheduleParameterSpec.maxRate else {
            throw .invalid(
                "rescale: the nominal rate must be finite and in [0, \(ScheduleParameterSpec.maxRate)], "
                    + "got \(target)")
        }
        let current = nominalRate
        guard current > 0 else { return self }
        return try rescaledNode(from: current, to: target, ratio: target / current)
    }

    private func rescaledNode(from: Double, to: Double, ratio: Double) throws(HLRError) -> Schedule {
        if (kind == .hyperbolic || kind == .expHyperbolic) && to == 0 {
            return try Schedule(.constant, [.baseLR: 0])
        }
        var node = self
        var settings: [ScheduleParameter: Double] = [:]
        for (parameter, value) in parameterValues where Self.scalesWithNominal(parameter, of: kind) {
            settings[parameter] = value == from ? to : value * ratio
        }
        try node.set(settings)
        if !children.isEmpty {
            var pieces: [Schedule] = []
            pieces.reserveCapacity(children.count)
            for child in children {
                pieces.append(try child.rescaledNode(from: from, to: to, ratio: ratio))
            }
            try node.attach(pieces, boundaries: boundaries)
        }
        return node
    }

    /// Whether `parameter` of `kind` is a rate that follows the nominal rate: every rate but
    /// eta_min, the absolute floor of the cosine kinds (the only kinds that have it).
    static func scalesWithNominal(_ parameter: ScheduleParameter, of kind: ScheduleKind) -> Bool {
        switch parameter {
        case .baseLR, .maxLR, .startLR, .finalLR, .infimumLR: return true
        default: return false
        }
    }
}
