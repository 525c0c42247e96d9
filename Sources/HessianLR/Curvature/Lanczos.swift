/// Extreme eigenpairs of a symmetric operator by the Lanczos method with full reorthogonalisation
/// (`LanczosProcess`): after m steps the Ritz values θᵢ (eigenvalues of the m×m tridiagonal T,
/// `TridiagonalEigen`) approximate the extreme eigenvalues of H, with residual
/// ‖H yᵢ − θᵢ yᵢ‖ = |β_m·s_{m,i}| read off the last row of T's eigenvectors (no extra HVP).
///
/// Stopping rule, checked after every step (one HVP each):
/// 1. converged: at least k Ritz values exist and every wanted pair (the first k in `which` order)
///    passes, i.e. with s = max(|θᵢ|, 10⁻⁸·max_j|θ_j|)
///    a. its residual rᵢ = |β_m s_{m,i}| ≤ tolerance·s, or
///    b. (eigenvalue_tolerance ε > 0) its error estimate eᵢ = min(rᵢ, rᵢ²/δᵢ) ≤ ε·s, where
///       δᵢ = min_{j≠i} (|θᵢ − θ_j| − r_j) over the other Ritz values (each θ_j has an eigenvalue
///       within r_j), and eᵢ = rᵢ when there is none or δᵢ ≤ 0. rᵢ bounds the distance from θᵢ to
///       the spectrum rigorously; rᵢ²/δᵢ is the Kato–Temple-type quadratic bound with the gap to
///       the rest of the spectrum estimated from the Ritz values, so it is an estimate (a part of
///       the spectrum no Ritz value has seen yet could be closer). The error of λ_max on real
///       Hessians is measured in benchmarks/curvature;
///    after a restart, the extreme Ritz pair(s) of the newest block on the wanted side must also
///    pass (its unseen part could hold a wanted eigenvalue);
/// 2. breakdown (β ≈ 0, an invariant subspace): the block's Ritz values are exact. If the basis
///    spans the whole space, stop (`exhausted`). If this block was itself opened by a restart and
///    beats none of the k wanted values found before it (by more than tolerance, relatively), stop
///    (converged). Otherwise restart: a new block from probe r = 1, 2, … of stream `.lanczosStart`
///    orthogonalised against the basis (up to 3 probes; none leaving the span → `exhausted`).
///    Restarts find further copies of a repeated eigenvalue once a Krylov sequence has become
///    invariant (H = cI, a null space). Without a breakdown a single Krylov sequence sees one
///    vector per eigenspace, so an exact multiplicity can be under-reported (as with ARPACK);
/// 3. m reached min(maxDimension, n): stop (`iterationLimit`, not converged).
public enum Lanczos {
    /// The k wanted eigenpairs of the backend's operator. Throws `invalidArgument` for n = 0,
    /// k ∉ 1...n, bad options or a non-symmetric operator; `nonFinite` when a dot or HVP output is
    /// NaN/Inf; the backend's error (e.g. `callbackFailed`) when an operation fails.
    public static func eigenpairs<B: OperatorBackend>(
        of backend: B, options: LanczosOptions = LanczosOptions()
    ) throws(HLRError) -> LanczosResult<B.Vector> {
        let n = backend.dimension
        try options.validate(dimension: n)
        let session = BackendSession(backend, estimator: "Lanczos")
        defer { session.close() }
        var process = LanczosProcess(session: session, symmetryTolerance: options.symmetryTolerance)
        let cap = Swift.min(options.maxDimension, n)
        let k = options.count
        let which = options.which

        let start = try session.scratch()
        try session.probe(start, seed: options.seed, stream: .lanczosStart, index: 0, distribution: options.distribution)
        guard try process.open(with: start) else {
            throw .invalid("Lanczos: the start vector is zero")
        }
        var finished: [RitzCandidate] = []
        var current: [RitzCandidate] = []
        var nextProbe = 1
        var restarts = 0
        var termination = EigenTermination.iterationLimit
        var converged = false

        while true {
            let brokeDown = try process.step()
            let blockIndex = process.blockStarts.count - 1
            current = try ritzPairs(process, block: blockIndex, coupling: process.lastBeta)
            let m = process.dimension
            if brokeDown {
                let contributes = beatsWanted(
                    current, others: finished, k: k, which: which, tolerance: options.tolerance)
                finished += current
                current = []
                if m == n {
                    termination = .exhausted
                    converged = true
                    break
                }
                if blockIndex > 0 && !contributes {
                    termination = .converged
                    converged = true
                    break
                }
                if m == cap {
                    converged = passes(select(finished, k: k, which: which), all: finished, options)
                    termination = converged ? .converged : .iterationLimit
                    break
                }
                var opened = false
                for _ in 0..<3 {
                    let probe = try session.scratch()
                    try session.probe(
                        probe, seed: options.seed, stream: .lanczosStart, index: nextProbe,
                        distribution: options.distribution)
                    nextProbe += 1
                    if try process.open(with: probe) {
                        opened = true
                        break
                    }
                }
                if !opened {
                    termination = .exhausted
                    converged = true
                    break
                }
                restarts += 1
                continue
            }
            let all = finished + current
            if all.count >= k {
                var ok = passes(select(all, k: k, which: which), all: all, options)
                if ok && blockIndex > 0 {
                    ok = passes(extremes(current, which: which), all: all, options)
                }
                if ok {
                    termination = .converged
                    converged = true
                    break
                }
            }
            if m == cap { break }
            process.advance()
        }

        let all = finished + current
        let wanted = select(all, k: k, which: which)
        var vectors: [B.Vector] = []
        if options.computeVectors {
            var cache: [Int: TridiagonalEigen] = [:]
            for candidate in wanted {
                let range = blockRange(process, candidate.block)
                let eigen: TridiagonalEigen
                if let cached = cache[candidate.block] {
                    eigen = cached
                } else {
                    let (d, e) = process.block(range)
                    eigen = try TridiagonalEigen(diagonal: d, offDiagonal: e)
                    cache[candidate.block] = eigen
                }
                let y = try session.result()
                for (local, index) in range.enumerated() {
                    let weight = eigen.component(row: local, vector: candidate.index)
                    try backend.axpy(weight, process.basis[index], y)
                }
                vectors.append(y)
            }
        }
        session.commit()
        return LanczosResult(
            eigenvalues: wanted.map(\.value), residuals: wanted.map(\.residual),
            errorBounds: wanted.map { errorEstimate($0, among: all) }, eigenvectors: vectors,
            converged: converged, termination: termination, iterations: process.dimension,
            hvpCount: session.hvpCount, restarts: restarts, maxAsymmetry: process.maxAsymmetry)
    }

    /// A Ritz value with its residual estimate, its block and its index within the block's
    /// ascending eigenvalues.
    struct RitzCandidate {
        var value: Double
        var residual: Double
        var block: Int
        var index: Int
    }

    static func blockRange<B>(_ process: LanczosProcess<B>, _ block: Int) -> Range<Int> {
        let start = process.blockStarts[block]
        let end = block + 1 < process.blockStarts.count ? process.blockStarts[block + 1] : process.dimension
        return start..<end
    }

    /// Ritz values of one block and residuals |coupling·s_{last,i}|.
    static func ritzPairs<B>(
        _ process: LanczosProcess<B>, block: Int, coupling: Double
    ) throws(HLRError) -> [RitzCandidate] {
        let range = blockRange(process, block)
        let (d, e) = process.block(range)
        let eigen = try TridiagonalEigen(diagonal: d, offDiagonal: e, rows: [range.count - 1])
        return eigen.values.enumerated().map { index, value in
            RitzCandidate(
                value: value, residual: (coupling * eigen.component(row: 0, vector: index)).magnitude,
                block: block, index: index)
        }
    }

    /// The first k candidates in `which` order (ties by block, then index).
    static func select(_ candidates: [RitzCandidate], k: Int, which: EigenTarget) -> [RitzCandidate] {
        let sorted = candidates.sorted { a, b in
            if which.precedes(a.value, b.value) { return true }
            if which.precedes(b.value, a.value) { return false }
            return (a.block, a.index) < (b.block, b.index)
        }
        return Array(sorted.prefix(k))
    }

    /// The block's extreme pair(s) on the wanted side(s).
    static func extremes(_ block: [RitzCandidate], which: EigenTarget) -> [RitzCandidate] {
        guard let low = block.first, let high = block.last else { return [] }  // ascending
        switch which {
        case .largestAlgebraic: return [high]
        case .smallestAlgebraic: return [low]
        case .largestMagnitude: return [low, high]
        }
    }

    /// Whether every pair passes rule 1: residual ≤ tolerance·s, or (eigenvalue_tolerance > 0)
    /// error estimate ≤ eigenvalue_tolerance·s, with s = max(|θ|, 10⁻⁸·max|θ over all|).
    static func passes(
        _ pairs: [RitzCandidate], all: [RitzCandidate], _ options: LanczosOptions
    ) -> Bool {
        let largest = all.reduce(0) { Swift.max($0, $1.value.magnitude) }
        return pairs.allSatisfy {
            let scale = Swift.max($0.value.magnitude, 1e-8 * largest)
            if $0.residual <= options.tolerance * scale { return true }
            return options.eigenvalueTolerance > 0
                && errorEstimate($0, among: all) <= options.eigenvalueTolerance * scale
        }
    }

    /// min(r, r²/δ) with δ = min over the other Ritz values θ_j of |θ − θ_j| − r_j; r when there
    /// is no other Ritz value or δ ≤ 0 (rule 1b).
    static func errorEstimate(_ pair: RitzCandidate, among all: [RitzCandidate]) -> Double {
        var gap = Double.infinity
        var others = false
        for other in all where other.block != pair.block || other.index != pair.index {
            others = true
            gap = Swift.min(gap, (pair.value - other.value).magnitude - other.residual)
        }
        guard others, gap > 0 else { return pair.residual }
        return Swift.min(pair.residual, pair.residual * pair.residual / gap)
    }

    /// Whether some value of the block beats the k-th wanted value among `others` by more than
    /// tolerance·max(|θ|, |θ_k|) (rounding-level differences between copies of one eigenvalue do
    /// not count).
    static func beatsWanted(
        _ block: [RitzCandidate], others: [RitzCandidate], k: Int, which: EigenTarget,
        tolerance: Double
    ) -> Bool {
        let previous = select(others, k: k, which: which)
        guard previous.count == k, let kth = previous.last else { return true }
        return block.contains {
            which.precedes($0.value, kth.value)
                && ($0.value - kth.value).magnitude > tolerance * Swift.max($0.value.magnitude, kth.value.magnitude)
        }
    }
}
