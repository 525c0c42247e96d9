/// OneCycleLR's annealing between phase endpoints (`anneal_strategy`), torch's
/// `anneal_strategy="cos" | "linear"`. With p ∈ [0, 1] the phase fraction:
/// cos: end + (start − end)/2·(cos(π·p) + 1); linear: (end − start)·p + start.
public enum AnnealStrategy: Int, CatalogEnum {
    case cos = 0
    case linear = 1
}

/// CyclicLR's amplitude policy (`mode`), torch's `mode=`: triangular keeps the amplitude,
/// triangular2 halves it every cycle (scale 1/2^(cycle−1), cycle counted from 1), exp_range
/// scales it by gamma^step.
public enum CyclicMode: Int, CatalogEnum {
    case triangular = 0
    case triangular2 = 1
    case expRange = 2
}

/// Shape of the decay phase of warmup-stable-decay (`decay_shape`). With u ∈ [0, 1) the
/// fraction of the decay done, peak η_p and final η_f:
/// linear: η_p + (η_f − η_p)·u; cosine: η_f + (η_p − η_f)·(1 + cos(π·u))/2;
/// one_minus_sqrt: η_f + (η_p − η_f)·(1 − √u) (Hägele et al. 2024's cooldown).
public enum DecayShape: Int, CatalogEnum {
    case linear = 0
    case cosine = 1
    case oneMinusSqrt = 2
}
