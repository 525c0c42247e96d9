import Testing
@testable import HessianLR

@Suite struct PolynomialScheduleTests {
    typealias S = ScheduleTestSupport

    @Test func powerOneIsLinearToZero() throws {
        let schedule = try Schedule(.polynomial, [.baseLR: 0.1, .totalIters: 100, .power: 1])
        S.expectMatches(schedule, 0...150) { 0.1 * Double(100 - min($0, 100)) / 100 }
        #expect(schedule.value(at: 100) == 0)
        #expect(schedule.value(at: .max) == 0)
    }

    @Test func squareAndSquareRoot() throws {
        let square = try Schedule(.polynomial, [.baseLR: 2, .totalIters: 1000, .power: 2])
        S.expectMatches(square, stride(from: 0, through: 1200, by: 13)) {
            let r = Double(1000 - min($0, 1000)) / 1000
            return 2 * r * r
        }
        let root = try Schedule(.polynomial, [.baseLR: 2, .totalIters: 64, .power: 0.5])
        S.expectMatches(root, 0...80) { 2 * (Double(64 - min($0, 64)) / 64).squareRoot() }
        #expect(root.value(at: 48) == 1)  // √(16/64) = 1/2 exactly
    }

    @Test func powerZeroIsConstant() throws {
        let schedule = try Schedule(.polynomial, [.baseLR: 0.3, .totalIters: 5, .power: 0])
        for step in S.extremeSteps + [5] { #expect(schedule.value(at: step) == 0.3) }
    }

    @Test func torchDefaults() throws {
        let schedule = try Schedule(.polynomial, [.baseLR: 1])
        S.expectMatches(schedule, 0...8) { Double(5 - min($0, 5)) / 5 }
    }
}
