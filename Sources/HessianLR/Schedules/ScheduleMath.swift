import RealModule

/// Elementary operations shared by the schedule formulas, with Python's conventions where they
/// differ from RealModule's, so closed forms match torch's arithmetic.
enum ScheduleMath {
    /// xʸ for x ≥ 0 with 0⁰ = 1 (Python's `0.0 ** 0`; RealModule's `pow` returns NaN there).
    static func power(_ x: Double, _ y: Double) -> Double {
        if y == 0 { return 1 }
        if x == 0 { return y > 0 ? 0 : .infinity }
        return Double.pow(x, y)
    }

    /// cos(x) (the C library's, as Python's `math.cos`).
    static func cos(_ x: Double) -> Double { Double.cos(x) }

    /// n/d as a Double fraction (n ≤ d in every use, so the result is in [0, 1]).
    static func fraction(_ n: UInt64, _ d: UInt64) -> Double { Double(n) / Double(d) }

    /// start + (end − start)·u, written so that no intermediate exceeds max(|start|, |end|)
    /// when u ∈ [0, 1].
    static func interpolate(_ start: Double, _ end: Double, _ u: Double) -> Double {
        start + (end - start) * u
    }
}
