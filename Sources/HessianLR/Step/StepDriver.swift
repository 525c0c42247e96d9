/// The step driver: one call runs a whole step of any tuner over a `StepBackend`,
///
///     while need(atStep: t) ≠ nothing:  measure it through the backend;  observe it
///
/// so the loop, the assembly of every observation and every failure policy exist once, for host
/// buffers (`HostStepBackend`), C callbacks (`hlr_tuner_step`) and torch (the Python binding's
/// adapter) alike. The observations (layouts in `ObservationKind`):
///
/// - `.curvature` → [s_0, c_0, s_1, c_1, …] from `slopes()` and `curvatures()`;
/// - `.slope`     → [L(w), s_0, …, s_{K−1}], L(w) from `currentLoss` or one `loss()` at w;
/// - `.losses`    → L(w − Σ_k ξ_jk·d_k) per probe row j: `setTrial(row)` then `loss()`; a row of
///                  zeros uses `currentLoss` when given; one `restore()` after the rows.
///
/// Distributed (`backend.isDistributed`): each observation's values, with 1 appended, go through
/// one `allReduce` and are divided by the resulting process count P (the mean over processes),
/// before any check, so every process takes the same branch and feeds the same bits.
///
/// Failure policy (the same in every language and backend):
/// - a trial loss (a probe row with a non-zero step) that is NaN or ±Inf is information, not an
///   error: the step was too long. The observation is reported with `observeFailure` (GeN and
///   Hi-DLR: every rate × fit_failure_decay; Armijo: backtrack), or, for a method that
///   `acceptsDivergedTrials` (auto), observed with +∞ at those rows; counted in
///   `StepReport.failures`. Single-process, the remaining rows are skipped (no forward pass is
///   wasted); distributed, every process evaluates every row (a forward pass may be collective).
/// - a non-finite loss at the current weights, slope or curvature: the step fails with
///   `nonFinite` naming the quantity (the trainer's state is broken; no rule can use it).
/// - a backend operation that throws, a wrong count of values, a missing capability, the round
///   cap: the step fails.
/// A failed step changes nothing: the loop runs on a copy of the tuner, committed when the step
/// needs nothing more, and the weights are restored.
extension Tuner {
    /// Runs step `step` to completion through `backend`; the rates of the step are then
    /// `learningRates(step:)`.
    ///
    /// - Parameters:
    ///   - currentLoss: L(w) on this process if the trainer has it (saves a forward pass for the
    ///     slope and for zero probe rows); must be finite when given.
    ///   - maxRounds: cap on the observations of one step (≥ 1); hitting it is `wrongState`.
    @discardableResult
    public mutating func runStep<B: StepBackend>(
        step: UInt64, backend: inout B, currentLoss: Double? = nil,
        maxRounds: Int = HostStepLimits.defaultMaxRounds
    ) throws(HLRError) -> StepReport {
        guard maxRounds >= 1 else { throw .invalid("max_rounds must be at least 1, got \(maxRounds)") }
        guard backend.groupCount == groupCount else {
            throw .invalid("the step backend has \(backend.groupCount) groups, the tuner has \(groupCount)")
        }
        if let currentLoss, !currentLoss.isFinite {
            throw HLRError(.nonFinite, "the current loss is not finite: \(currentLoss)")
        }
        var next = self
        var report = StepReport()
        while true {
            let need = next.need(atStep: step)
            guard let kind = need.kind else { break }
            guard report.rounds < maxRounds else {
                throw HLRError(
                    .wrongState,
                    "step \(step) still needs \(kind.name) after \(report.rounds) observations (max_rounds \(maxRounds))")
            }
            switch need {
            case .nothing:
                break
            case .curvature:
                let slopes = try StepDriver.perGroup(backend.slopes(), "slopes", groups: groupCount)
                let curvatures = try StepDriver.perGroup(backend.curvatures(), "curvatures", groups: groupCount)
                report.curvatureCalls += 1
                var values = zip(slopes, curvatures).flatMap { [$0, $1] }
                try StepDriver.average(&values, backend: &backend)
                for group in 0..<groupCount {
                    try StepDriver.requireFinite(values[2 * group], "gᵀd of group \(group)")
                    try StepDriver.requireFinite(values[2 * group + 1], "dᵀHd of group \(group)")
                }
                try next.observe(step: step, kind: .curvature, values: values)
            case .slope:
                let slopes = try StepDriver.perGroup(backend.slopes(), "slopes", groups: groupCount)
                let loss: Double
                if let currentLoss {
                    loss = currentLoss
                } else {
                    loss = try backend.loss()
                    report.lossCalls += 1
                }
                var values = [loss] + slopes
                try StepDriver.average(&values, backend: &backend)
                try StepDriver.requireFinite(values[0], "the loss at the current weights")
                for group in 0..<groupCount {
                    try StepDriver.requireFinite(values[group + 1], "gᵀd of group \(group)")
                }
                try next.observe(step: step, kind: .slope, values: values)
            case .losses(let probes):
                var values = try StepDriver.probeLosses(
                    probes, groups: groupCount, currentLoss: currentLoss, backend: &backend,
                    lossCalls: &report.lossCalls)
                try StepDriver.average(&values, backend: &backend)
                for (j, row) in probes.enumerated() where row.allSatisfy({ $0 == 0 }) {
                    try StepDriver.requireFinite(values[j], "the loss at the current weights (probe \(j))")
                }
                if values.allSatisfy({ $0.isFinite }) {
                    try next.observe(step: step, kind: .losses, values: values)
                } else if next.acceptsDivergedTrials {
                    try next.observe(step: step, kind: .losses, values: values.map { $0.isFinite ? $0 : .infinity })
                    report.failures += 1
                } else {
                    try next.observeFailure(step: step)
                    report.failures += 1
                }
            }
            report.rounds += 1
        }
        self = next
        return report
    }
}

/// The observation assembly of `Tuner.runStep`, as static functions (also used by tests).
public enum StepDriver {
    /// The losses at the probe rows (m rows of K finite steps), in row order: `setTrial(row)`
    /// then `loss()`, a zero row from `currentLoss` when given; `restore()` once after the rows
    /// if any trial was set, also when an operation throws. Single-process, the trial rows after
    /// the first non-finite loss are not evaluated (NaN; zero rows still are, so a non-finite
    /// loss at w is told apart); distributed, every row is.
    public static func probeLosses<B: StepBackend>(
        _ probes: [[Double]], groups: Int, currentLoss: Double?, backend: inout B, lossCalls: inout Int
    ) throws(HLRError) -> [Double] {
        for (j, row) in probes.enumerated() {
            guard row.count == groups else {
                throw .invalid("probe \(j) has \(row.count) steps, the tuner has \(groups) groups")
            }
            for (k, step) in row.enumerated() where !step.isFinite {
                throw .invalid("step of group \(k) in probe \(j) is not finite: \(step)")
            }
        }
        var losses: [Double] = []
        losses.reserveCapacity(probes.count)
        var moved = false
        var stopped = false
        do {
            for row in probes {
                let zero = row.allSatisfy { $0 == 0 }
                if stopped && !zero {
                    losses.append(.nan)
                    continue
                }
                if let currentLoss, zero {
                    losses.append(currentLoss)
                    continue
                }
                moved = true
                try backend.setTrial(row)
                let value = try backend.loss()
                lossCalls += 1
                losses.append(value)
                stopped = stopped || (!value.isFinite && !backend.isDistributed)
            }
        } catch {
            if moved { try? backend.restore() }
            throw error
        }
        if moved { try backend.restore() }
        return losses
    }

    /// Checks that an operation returned one value per group.
    static func perGroup(_ values: [Double], _ name: String, groups: Int) throws(HLRError) -> [Double] {
        guard values.count == groups else {
            throw HLRError(.callbackFailed, "\(name) returned \(values.count) values, expected \(groups) (one per group)")
        }
        return values
    }

    /// values ← mean over the processes (`allReduce` of values + [1], divided by the count);
    /// unchanged when the backend is not distributed.
    public static func average<B: StepBackend>(_ values: inout [Double], backend: inout B) throws(HLRError) {
        guard backend.isDistributed else { return }
        var buffer = values + [1]
        try backend.allReduce(&buffer)
        guard buffer.count == values.count + 1 else {
            throw HLRError(
                .callbackFailed, "all_reduce returned \(buffer.count) values, expected \(values.count + 1)")
        }
        let processes = buffer[values.count]
        guard processes >= 1, processes <= Double(1 << 32), processes.rounded() == processes else {
            throw HLRError(
                .callbackFailed,
                "all_reduce summed the process count to \(processes): it must add the arrays of all processes")
        }
        for index in values.indices { values[index] = buffer[index] / processes }
    }

    static func requireFinite(_ value: Double, _ what: String) throws(HLRError) {
        guard value.isFinite else { throw HLRError(.nonFinite, "\(what) is not finite: \(value)") }
    }
}
