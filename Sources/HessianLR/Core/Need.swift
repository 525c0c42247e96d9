/// The kinds of observation a tuner consumes. Raw values are the stable `HLR_NEED_*` numbers of
/// include/hessianlr.h (0, nothing, is `Need.nothing`).
public enum ObservationKind: Int, CatalogEnum {
    /// [gᵀd_k, d_kᵀHd_k] for each group k (2K values): slope and curvature along the direction d
    /// restricted to the group (d = g, or the optimizer's update u).
    case curvature = 1
    /// L(w − Σ_k ξ_jk·d_k) for each probe j of `Need.losses` (m values): forward losses only.
    case losses = 2
    /// [L(w), gᵀd_0, …, gᵀd_{K−1}] (K + 1 values): the loss at the current weights and each
    /// group's slope.
    case slope = 3
}

/// What a tuner needs next at a step before that step's learning rates are final. A step may
/// need several observations in turn (a line search asks for one trial loss after another);
/// `nothing` means the rates of the step can be read.
public enum Need: Equatable, Sendable {
    case nothing
    case curvature
    /// Losses at m probes; `probes[j][k]` is the step size ξ_jk of group k in probe j: evaluate
    /// L(w − Σ_k ξ_jk·d_k) (ξ = 0 everywhere is the current loss, which the trainer usually has).
    case losses(probes: [[Double]])
    case slope

    public var kind: ObservationKind? {
        switch self {
        case .nothing: return nil
        case .curvature: return .curvature
        case .losses: return .losses
        case .slope: return .slope
        }
    }

    /// Number of values the observation of this need carries for a tuner with `groups` groups.
    public func valueCount(groups: Int) -> Int {
        switch self {
        case .nothing: return 0
        case .curvature: return 2 * groups
        case .losses(let probes): return probes.count
        case .slope: return groups + 1
        }
    }
}
