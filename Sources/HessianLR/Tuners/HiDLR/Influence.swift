/// Per-parameter influence (PPI) of a parameter group from a fitted quadratic
/// L(ξ) ≈ c − Σ b_k ξ_k + ½ ξᵀAξ (Hi-DLR):
///
///     PPI_k = sup over ξ ≥ 0 of (b_k·ξ − ½·A_kk·ξ²)
///
/// the largest decrease of the fitted loss that moving group k alone, forward along its descent
/// direction, can give. In loss units, invariant to the units of ξ:
///
/// - A_kk > 0: b_k²/(2·A_kk) when b_k > 0, else 0 (moving does not help);
/// - A_kk = 0: +∞ when b_k > 0, else 0;
/// - A_kk < 0: +∞ (the model is unbounded below along the group: curvature the fit cannot trust).
///
/// A large PPI marks a group whose rate matters; a group with PPI ≈ 0 is a candidate to freeze
/// (the paper's automatic PEFT).
public enum Influence {
    public static func value(slope b: Double, curvature a: Double) -> Double {
        if b.isNaN || a.isNaN { return .nan }
        if a > 0 { return b > 0 ? b * b / (2 * a) : 0 }
        if a == 0 { return b > 0 ? .infinity : 0 }
        return .infinity
    }

    /// Group indices from most to least influential; NaN last; ties by index.
    public static func ranking(_ influence: [Double]) -> [Int] {
        influence.indices.sorted { lhs, rhs in
            let l = influence[lhs]
            let r = influence[rhs]
            if l.isNaN != r.isNaN { return r.isNaN }
            if l != r && !l.isNaN { return l > r }
            return lhs < rhs
        }
    }

    /// rank[k] = position of group k in `ranking` (0 = most influential).
    public static func ranks(_ influence: [Double]) -> [Int] {
        var ranks = [Int](repeating: 0, count: influence.count)
        for (position, group) in ranking(influence).enumerated() { ranks[group] = position }
        return ranks
    }
}
