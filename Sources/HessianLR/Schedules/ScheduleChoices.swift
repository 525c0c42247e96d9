/// OneCycleLR's annealing between phase endpoints (`anneal_strategy`), torch's
/// `anneal_strategy="cos" | "linear"`. With p ∈ [0, 1] the phase fraction:
/// cos: end + (start − end)/2·(cos(π·p) + 1); linear: (end − start)·p + start.
public enum AnnealStrategy: Int, CaseIterable, Sendable {
    case cos = 0
    case linear = 1

    /// The name used in messages and by the bindings (torch's string where torch has one).
    public var name: String {
        switch self {
        case .cos: return "cos"
        case .linear: return "linear"
        }
    }
}

/// CyclicLR's amplitude policy (`mode`), torch's `mode=`: triangular keeps the amplitude,
/// triangular2 halves it every cycle (scale 1/2^(cycle−1), cycle counted from 1), exp_range
/// scales it by gamma^step.
public enum CyclicMode: Int, CaseIterable, Sendable {
    case triangular = 0
    case triangular2 = 1
    case expRange = 2

    /// The name used in messages and by the bindings (torch's string where torch has one).
    public var name: String {
        switch self {
        case .triangular: return "triangular"
        case .triangular2: return "triangular2"
        case .expRange: return "exp_range"
        }
    }
}

/// Shape of the decay phase of warmup-stable-decay (`decay_shape`). With u ∈ [0, 1) the
/// fraction of the decay done, peak η_p and final η_f:
/// linear: η_p + (η_f − η_p)·u; cosine: η_f + (η_p − η_f)·(1 + cos(π·u))/2;
/// one_minus_sqrt: η_f + (η_p − η_f)·(1 − √u) (Hägele et al. 2024's cooldown).
public enum DecayShape: Int, CaseIterable, Sendable {
    case linear = 0
    case cosine = 1
    case oneMinusSqrt = 2

    /// The name used in messages and by the bindings (torch's string where torch has one).
    public var name: String {
        switch self {
        case .linear: return "linear"
        case .cosine: return "cosine"
        case .oneMinusSqrt: return "one_minus_sqrt"
        }
    }
}
