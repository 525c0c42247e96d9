import Testing
@testable import HessianLR

/// Specs, validation and the set/get surface shared by every kind.
@Suite struct ScheduleParameterSpecTests {
    @Test func everyDefaultIsValidAndEveryLeafBuildsWithDefaults() throws {
        for kind in ScheduleKind.allCases {
            let specs = kind.parameterSpecs
            #expect(Set(specs.map(\.parameter)).count == specs.count, "\(kind.name)")
            for spec in specs {
                try spec.validate(spec.defaultValue, kind: kind)
                #expect(spec.minimum <= spec.maximum)
                if spec.integral { #expect(spec.maximum <= ScheduleParameterSpec.maxIntegral) }
            }
            guard !kind.isComposite else { continue }
            let schedule = try Schedule(kind)
            for spec in specs { #expect(try schedule.parameter(spec.parameter) == spec.defaultValue) }
        }
    }

    @Test func torchDefaultsWhereTorchHasThem() throws {
        func defaultOf(_ kind: ScheduleKind, _ parameter: ScheduleParameter) throws -> Double {
            try kind.spec(for: parameter).defaultValue
        }
        #expect(try defaultOf(.linear, .startFactor) == 1.0 / 3)
        #expect(try defaultOf(.linear, .endFactor) == 1)
        #expect(try defaultOf(.linear, .totalIters) == 5)
        #expect(try defaultOf(.step, .gamma) == 0.1)
        #expect(try defaultOf(.multiStep, .gamma) == 0.1)
        #expect(try defaultOf(.polynomial, .totalIters) == 5)
        #expect(try defaultOf(.polynomial, .power) == 1)
        #expect(try defaultOf(.cosine, .etaMin) == 0)
        #expect(try defaultOf(.cosineWarmRestarts, .tMult) == 1)
        #expect(try defaultOf(.oneCycle, .pctStart) == 0.3)
        #expect(try defaultOf(.oneCycle, .divFactor) == 25)
        #expect(try defaultOf(.oneCycle, .finalDivFactor) == 1e4)
        #expect(try defaultOf(.cyclic, .stepSizeUp) == 2000)
        #expect(try defaultOf(.cyclic, .stepSizeDown) == -1)
        #expect(try defaultOf(.cyclic, .gamma) == 1)
        #expect(try defaultOf(.hyperbolic, .upperBound) == 250)
        #expect(try defaultOf(.hyperbolic, .infimumLR) == 1e-6)
    }

    @Test func messagesNameKindParameterAndValue() {
        let cases: [(ScheduleKind, ScheduleParameter, Double, String)] = [
            (.step, .gamma, 1.5, "1.5"),
            (.cosine, .tMax, 2.5, "2.5"),
            (.cosine, .tMax, 0, "0.0"),
            (.exponential, .baseLR, -1, "-1.0"),
            (.linear, .startFactor, 0, "0.0"),
            (.oneCycle, .annealStrategy, 2, "2.0"),
            (.cyclic, .stepSizeDown, -2, "-2.0"),
            (.polynomial, .power, -0.5, "-0.5"),
            (.constant, .baseLR, .nan, "nan"),
            (.constant, .factor, .infinity, "inf"),
        ]
        for (kind, parameter, value, shown) in cases {
            let error = ScheduleTestSupport.error { () throws(HLRError) in
                var schedule = try Schedule(kind)
                try schedule.set(parameter, value)
            }
            #expect(error?.kind == .invalidArgument, "\(kind.name) \(parameter.name)")
            #expect(error?.message.contains(parameter.name) == true, "\(error?.message ?? "")")
            #expect(error?.message.contains(kind.name) == true, "\(error?.message ?? "")")
            #expect(error?.message.contains(shown) == true, "\(error?.message ?? "")")
        }
    }

    @Test func unknownParameterOfAKindIsUnknownKey() throws {
        var schedule = try Schedule(.cosine)
        let error = ScheduleTestSupport.error { () throws(HLRError) in try schedule.set(.gamma, 0.5) }
        #expect(error?.kind == .unknownKey)
        #expect(error?.message.contains("gamma") == true)
        #expect(error?.message.contains("cosine") == true)
        #expect(throws: HLRError.self) { try schedule.parameter(.gamma) }
    }

    @Test func failedSetChangesNothing() throws {
        var schedule = try Schedule(.hyperbolic, [.maxIter: 100, .upperBound: 250])
        let before = schedule
        #expect(throws: HLRError.self) { try schedule.set([.maxIter: 300, .gamma: 0.5]) }
        #expect(throws: HLRError.self) { try schedule.set(.maxIter, 300) }  // U = 250 < 300
        #expect(schedule == before)
        try schedule.set([.maxIter: 300, .upperBound: 300])  // valid together
        #expect(try schedule.parameter(.maxIter) == 300)
    }

    @Test func compositeKindsAreNotCreatedDirectly() {
        for kind in [ScheduleKind.join, .warmup] {
            let error = ScheduleTestSupport.error { () throws(HLRError) in _ = try Schedule(kind) }
            #expect(error?.kind == .invalidArgument)
            #expect(error?.message.contains(kind.name) == true)
        }
    }

    @Test func milestonesOnlyForMultiStep() throws {
        var cosine = try Schedule(.cosine)
        let error = ScheduleTestSupport.error { () throws(HLRError) in try cosine.setMilestones([1]) }
        #expect(error?.kind == .invalidArgument)
        var multi = try Schedule(.multiStep)
        let tooMany = [UInt64](repeating: 3, count: Schedule.maxMilestones + 1)
        let limit = ScheduleTestSupport.error { () throws(HLRError) in try multi.setMilestones(tooMany) }
        #expect(limit?.message.contains("\(Schedule.maxMilestones + 1)") == true)
        try multi.setMilestones([9, 2, 2])
        #expect(multi.milestones == [2, 2, 9])
    }
}
