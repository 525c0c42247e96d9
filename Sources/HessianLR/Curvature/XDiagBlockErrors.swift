/// The block restrictions E_b (E_b = diag(1 on the block's rows)) of the s×s Gram matrices that
/// XDiag's per-block jackknife needs, for every block: K = QᵀE_bQ, L = QᵀE_bZ (Z = AQ), and,
/// column i from test vector ω_i, J = QᵀE_bΩ and F = ZᵀE_bΩ. Row-major s×s, one array per block;
/// formed by the backend's `blockDots`, one pass per pair of vectors for all blocks at once.
struct XDiagBlockGrams {
    let size: Int
    let blockCount: Int
    private(set) var k: [[Double]]
    private(set) var l: [[Double]]
    private(set) var j: [[Double]]
    private(set) var f: [[Double]]

    /// K and L from the basis (s(s+1)/2 + s² block dots); J and F are filled column by column
    /// with `addTestVector`.
    init<B: OperatorBackend>(
        _ session: BackendSession<B>, basis: [B.Vector], z: [B.Vector], blocks: GroupLayout
    ) throws(HLRError) {
        let s = basis.count
        size = s
        blockCount = blocks.groupCount
        let empty = [[Double]](repeating: [Double](repeating: 0, count: s * s), count: blocks.groupCount)
        k = empty
        l = empty
        j = empty
        f = empty
        for a in 0..<s {
            for c in a..<s {
                let values = try session.blockDots(basis[a], basis[c], blocks: blocks, "q\(a)ᵀE_b q\(c)")
                for b in 0..<blockCount {
                    k[b][a * s + c] = values[b]
                    k[b][c * s + a] = values[b]
                }
            }
            for c in 0..<s {
                let values = try session.blockDots(basis[a], z[c], blocks: blocks, "q\(a)ᵀE_b(Aq\(c))")
                for b in 0..<blockCount { l[b][a * s + c] = values[b] }
            }
        }
    }

    /// Column i of J and F from test vector ω_i (2s block dots).
    mutating func addTestVector<B: OperatorBackend>(
        _ session: BackendSession<B>, _ probe: B.Vector, index i: Int, basis: [B.Vector], z: [B.Vector],
        blocks: GroupLayout
    ) throws(HLRError) {
        let s = size
        for a in 0..<s {
            let jValues = try session.blockDots(basis[a], probe, blocks: blocks, "q\(a)ᵀE_b ω\(i)")
            let fValues = try session.blockDots(z[a], probe, blocks: blocks, "(Aq\(a))ᵀE_b ω\(i)")
            for b in 0..<blockCount {
                j[b][a * s + i] = jValues[b]
                f[b][a * s + i] = fValues[b]
            }
        }
    }
}

/// Standard errors of XDiag's per-block means (`XDiagEstimate.blockStandardErrors`): the
/// jackknife over leaving one test vector out, as XTrace's (`XTrace.jackknifeStandardError`),
/// applied to the block sum 1_bᵀd̂:
///
///     se_b = (1/|b|) √( ((s−1)/s) Σ_j (θ_(j) − θ̄)² ),   θ_(j) = (1/(s−1)) Σ_{i≠j} T_ij,
///
/// θ_(j) being the block sum of XDiag run on the test vectors without ω_j, and T_ij its term i:
/// the block sum of diag(A − B) + ω_i ⊙ Bω_i with P = Q M Qᵀ the projector onto range(AΩ)
/// without columns i and j, M = I − UUᵀ, U an orthonormal basis of span(ŝ_i, ŝ_j) (the
/// leave-one-out directions of `XTrace.leaveOneOutColumns`) and B = (I − P)A(I − P). With the
/// block Grams K, L, J, F (`XDiagBlockGrams`), H = QᵀZ, c_i = Qᵀω_i and Aω_i = QR_{:,i}:
///
///     1_bᵀdiag(A − B) = 2 tr(MLᵀ) − Σ_ac (MHM)_ac K_ac
///                     = 2(tr L − Σ_k u_kᵀLu_k)
///                       − (Σ_ac H_ac K_ac − Σ_k u_kᵀKHᵀu_k − Σ_k u_kᵀHᵀKu_k + Σ_kl (UᵀHU)_kl (UᵀKU)_kl),
///     ω_iᵀE_b Bω_i   = (UᵀJ_i)·(UᵀR_{:,i}) + J_iᵀMHMc_i − F_iᵀMc_i,
///
/// the same arithmetic as the estimate itself (which is the U = ŝ_i case averaged over i). Every
/// product with U reduces to tables ŝ_aᵀXŝ_c and ŝ_aᵀv_i formed once per block (O(s³)); no HVP,
/// no vector operation. Conservative like XTrace's (Efron–Stein); `CoverageTests` measures it.
enum XDiagBlockErrors {
    /// se_b for every block (+∞ for s = 1; 0 for an empty block).
    static func standardErrors(
        grams: XDiagBlockGrams, h: [Double], c: [Double],
        columns: (directions: [[Double]], norms: [Double]), blockSizes: [Int]
    ) -> [Double] {
        let s = grams.size
        guard s >= 2 else { return blockSizes.map { $0 > 0 ? .infinity : 0 } }
        let hats = columns.directions
        func dot(_ x: [Double], _ y: [Double]) -> Double { zip(x, y).reduce(0) { $0 + $1.0 * $1.1 } }
        func multiply(_ m: [Double], _ v: [Double]) -> [Double] {
            (0..<s).map { a in (0..<s).reduce(0.0) { $0 + m[a * s + $1] * v[$1] } }
        }
        func multiplyT(_ m: [Double], _ v: [Double]) -> [Double] {
            (0..<s).map { a in (0..<s).reduce(0.0) { $0 + m[$1 * s + a] * v[$1] } }
        }
        func column(_ m: [Double], _ i: Int) -> [Double] { (0..<s).map { m[$0 * s + i] } }
        /// table[a][i] = xs[a]ᵀys[i].
        func table(_ xs: [[Double]], _ ys: [[Double]]) -> [[Double]] { xs.map { x in ys.map { dot(x, $0) } } }

        // Block-independent: γ = ŜᵀŜ, ŜᵀHŜ, Ŝᵀc_i, ŜᵀHc_i and the vectors Hŝ, Hᵀŝ, Hc_i.
        let cs = (0..<s).map { column(c, $0) }
        let hHats = hats.map { multiply(h, $0) }
        let hTHats = hats.map { multiplyT(h, $0) }
        let hcs = cs.map { multiply(h, $0) }
        let gamma = table(hats, hats)
        let shs = table(hats, hHats)
        let sc = table(hats, cs)
        let shc = table(hats, hcs)

        var errors: [Double] = []
        for block in 0..<grams.blockCount {
            let size = blockSizes[block]
            guard size > 0 else {
                errors.append(0)
                continue
            }
            let kMatrix = grams.k[block], lMatrix = grams.l[block]
            let js = (0..<s).map { column(grams.j[block], $0) }
            let fs = (0..<s).map { column(grams.f[block], $0) }
            let kHats = hats.map { multiply(kMatrix, $0) }
            let sls = table(hats, hats.map { multiply(lMatrix, $0) })
            let sks = table(hats, kHats)
            let kht = table(kHats, hTHats)  // ŝ_aᵀKHᵀŝ_c
            let htk = table(hHats, kHats)  // ŝ_aᵀHᵀKŝ_c
            let sj = table(hats, js)
            let sf = table(hats, fs)
            let shtj = table(hHats, js)  // ŝ_aᵀHᵀJ_i
            var traceL = 0.0, hk = 0.0
            for a in 0..<s {
                traceL += lMatrix[a * s + a]
                for b in 0..<s { hk += h[a * s + b] * kMatrix[a * s + b] }
            }
            let jhc = (0..<s).map { dot(js[$0], hcs[$0]) }
            let fc = (0..<s).map { dot(fs[$0], cs[$0]) }
            // Σ_{j} of term i without i and j, and the block sum without j.
            var left = [Double](repeating: 0, count: s)
            for j in 0..<s {
                var sum = 0.0
                for i in 0..<s where i != j {
                    let pair = PairBasis(i: i, j: j, gamma: gamma[i][j])
                    let l2 = pair.bilinear(sls)
                    let k2 = pair.bilinear(sks)
                    let h2 = pair.bilinear(shs)
                    let kh2 = pair.bilinear(kht)
                    let hk2 = pair.bilinear(htk)
                    let hkU = h2.0 * k2.0 + h2.1 * k2.1 + h2.2 * k2.2 + h2.3 * k2.3
                    let lowRank = 2 * (traceL - (l2.0 + l2.3)) - (hk - (kh2.0 + kh2.3) - (hk2.0 + hk2.3) + hkU)
                    let uJ = pair.linear(sj, i), uC = pair.linear(sc, i), uHc = pair.linear(shc, i)
                    let uHtJ = pair.linear(shtj, i), uF = pair.linear(sf, i)
                    let uR = pair.project(1 / columns.norms[i], 0)
                    let jHUc = uJ.0 * (h2.0 * uC.0 + h2.1 * uC.1) + uJ.1 * (h2.2 * uC.0 + h2.3 * uC.1)
                    let jMHMc = jhc[i] - (uJ.0 * uHc.0 + uJ.1 * uHc.1) - (uHtJ.0 * uC.0 + uHtJ.1 * uC.1) + jHUc
                    let fMc = fc[i] - (uF.0 * uC.0 + uF.1 * uC.1)
                    sum += lowRank + (uJ.0 * uR.0 + uJ.1 * uR.1) + jMHMc - fMc
                }
                left[j] = sum / Double(s - 1)
            }
            let mean = left.reduce(0, +) / Double(s)
            let variance = Double(s - 1) / Double(s) * left.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            errors.append(variance.squareRoot() / Double(size))
        }
        return errors
    }

    /// The orthonormal basis u₁ = ŝ_i, u₂ = (ŝ_j − γŝ_i)/ν of span(ŝ_i, ŝ_j), γ = ŝ_iᵀŝ_j,
    /// ν = √(1 − γ²), applied to tables of ŝ-products.
    struct PairBasis {
        let i: Int
        let j: Int
        let gamma: Double
        let nu: Double

        init(i: Int, j: Int, gamma: Double) {
            self.i = i
            self.j = j
            self.gamma = gamma
            nu = Swift.max(1 - gamma * gamma, 0).squareRoot()
        }

        /// (u₁ᵀv, u₂ᵀv) from (ŝ_iᵀv, ŝ_jᵀv).
        func project(_ pi: Double, _ pj: Double) -> (Double, Double) { (pi, (pj - gamma * pi) / nu) }

        /// Uᵀv_col from table[a][col] = ŝ_aᵀv_col.
        func linear(_ table: [[Double]], _ col: Int) -> (Double, Double) { project(table[i][col], table[j][col]) }

        /// UᵀXU = ((u₁ᵀXu₁, u₁ᵀXu₂), (u₂ᵀXu₁, u₂ᵀXu₂)), row by row, from table[a][c] = ŝ_aᵀXŝ_c.
        func bilinear(_ t: [[Double]]) -> (Double, Double, Double, Double) {
            let x11 = t[i][i]
            let x12 = (t[i][j] - gamma * t[i][i]) / nu
            let x21 = (t[j][i] - gamma * t[i][i]) / nu
            let x22 = (t[j][j] - gamma * t[j][i] - gamma * t[i][j] + gamma * gamma * t[i][i]) / (nu * nu)
            return (x11, x12, x21, x22)
        }
    }
}
