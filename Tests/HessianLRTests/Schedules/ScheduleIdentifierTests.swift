import Testing
@testable import HessianLR

/// The numeric ids are an ABI: they are pinned here so that a renumbering fails a test.
@Suite struct ScheduleIdentifierTests {
    @Test func kindIdsAreStable() {
        let expected: [(ScheduleKind, Int, String)] = [
            (.constant, 1, "constant"), (.linear, 2, "linear"), (.step, 3, "step"),
            (.multiStep, 4, "multi_step"), (.exponential, 5, "exponential"),
            (.polynomial, 6, "polynomial"), (.cosine, 7, "cosine"),
            (.cosineWarmRestarts, 8, "cosine_warm_restarts"), (.oneCycle, 9, "one_cycle"),
            (.cyclic, 10, "cyclic"), (.warmupStableDecay, 11, "warmup_stable_decay"),
            (.hyperbolic, 12, "hyperbolic"), (.expHyperbolic, 13, "exp_hyperbolic"),
            (.join, 14, "join"), (.warmup, 15, "warmup"),
        ]
        #expect(ScheduleKind.allCases.count == expected.count)
        for (kind, raw, name) in expected {
            #expect(kind.rawValue == raw)
            #expect(kind.name == name)
        }
    }

    @Test func parameterIdsAreStableAndNamesUnique() {
        let names = [
            "base_lr", "factor", "total_iters", "start_factor", "end_factor", "step_size", "gamma",
            "power", "t_max", "eta_min", "t_0", "t_mult", "max_lr", "total_steps", "pct_start",
            "anneal_strategy", "div_factor", "final_div_factor", "three_phase", "step_size_up",
            "step_size_down", "mode", "warmup_steps", "stable_steps", "decay_steps", "start_lr",
            "final_lr", "decay_shape", "max_iter", "upper_bound", "infimum_lr",
        ]
        #expect(ScheduleParameter.allCases.map(\.rawValue) == Array(1...names.count))
        #expect(ScheduleParameter.allCases.map(\.name) == names)
    }

    @Test func choiceIdsAreStable() {
        #expect(AnnealStrategy.allCases.map(\.rawValue) == [0, 1])
        #expect(AnnealStrategy.allCases.map(\.name) == ["cos", "linear"])
        #expect(CyclicMode.allCases.map(\.name) == ["triangular", "triangular2", "exp_range"])
        #expect(CyclicMode.allCases.map(\.rawValue) == [0, 1, 2])
        #expect(DecayShape.allCases.map(\.name) == ["linear", "cosine", "one_minus_sqrt"])
        #expect(DecayShape.allCases.map(\.rawValue) == [0, 1, 2])
    }

    @Test func unknownIdsAreNamed() {
        let kind = ScheduleTestSupport.error { () throws(HLRError) in _ = try ScheduleKind.from(rawValue: 99) }
        #expect(kind?.kind == .unknownMethod)
        #expect(kind?.message.contains("99") == true)
        let key = ScheduleTestSupport.error { () throws(HLRError) in _ = try ScheduleParameter.from(rawValue: 0) }
        #expect(key?.kind == .unknownKey)
        #expect(key?.message.contains("0") == true)
        #expect(throws: Never.self) { try ScheduleKind.from(rawValue: 7) }
    }
}
