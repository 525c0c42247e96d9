import Testing
@testable import HessianLR

/// Helpers shared by the schedule tests. Expectations in these tests come from formulas written
/// here (often in a different but equivalent form from the implementation), never from values
/// printed by torch.
enum ScheduleTestSupport {
    /// |a − b| ≤ tolerance·max(|a|, |b|) (exact equality passes, including 0 = 0).
    static func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-13) -> Bool {
        a == b || abs(a - b) <= tolerance * max(abs(a), abs(b))
    }

    /// Steps every test probes besides its own: the start, small steps, far past any end and the
    /// largest step.
    static let extremeSteps: [UInt64] = [0, 1, 2, 1 << 32, 1 << 53, (1 << 53) + 1, .max - 1, .max]

    /// Asserts `expected(t)` ≈ `schedule.value(at: t)` at `steps`.
    static func expectMatches(
        _ schedule: Schedule, _ steps: some Sequence<UInt64>, tolerance: Double = 1e-13,
        sourceLocation: SourceLocation = #_sourceLocation, _ expected: (UInt64) -> Double
    ) {
        for step in steps {
            let got = schedule.value(at: step)
            let want = expected(step)
            #expect(close(got, want, tolerance), "step \(step): got \(got), expected \(want)",
                    sourceLocation: sourceLocation)
        }
    }

    /// The error of a throwing call, or nil.
    static func error(_ body: () throws(HLRError) -> Void) -> HLRError? {
        do {
            try body()
            return nil
        } catch {
            return error
        }
    }
}
