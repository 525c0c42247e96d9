import Testing
@testable import HessianLR

@Suite struct SpectralDensityTests {
    static func quadrature(_ a: DenseOperator, _ configure: (inout SpectralDensityOptions) -> Void) throws -> SpectralQuadrature {
        try SpectralDensity.quadrature(of: try a.space(), options: configured(SpectralDensityOptions(), configure))
    }

    /// Trapezoidal integral of the density over the grid intervals that end below `limit`.
    static func trapezoid(_ grid: DensityGrid, below limit: Double) -> Double {
        var sum = 0.0
        for g in 0..<(grid.grid.count - 1) where grid.grid[g + 1] < limit {
            let width: Double = grid.grid[g + 1] - grid.grid[g]
            let height: Double = 0.5 * (grid.density[g] + grid.density[g + 1])
            sum += height * width
        }
        return sum
    }

    @Test func weightsSumToOneAndNodesStayInTheSpectrum() throws {
        let a = DenseOperator(spectrum: (0..<120).map { Double($0) * 0.05 - 2 }, reflections: 20)
        let result = try Self.quadrature(a) { $0.runs = 3; $0.steps = 25 }
        #expect(result.nodes.count == 3 && result.steps == [25, 25, 25] && result.hvpCount == 75)
        for (nodes, weights) in zip(result.nodes, result.weights) {
            #expect(abs(weights.reduce(0, +) - 1) <= 1e-12)
            #expect(weights.allSatisfy { $0 >= 0 })
            #expect(nodes == nodes.sorted())
            #expect(nodes.first! >= -2 - 1e-10 && nodes.last! <= 3.95 + 1e-10)
        }
    }

    /// An m-step rule integrates polynomials of degree ≤ 2m − 1 exactly: Σᵢ wᵢθᵢᵖ = vᵀHᵖv.
    @Test func gaussQuadratureIsExactForLowDegreePolynomials() throws {
        let a = DenseOperator(spectrum: (0..<40).map { Double($0) / 20 - 0.7 }, reflections: 40)
        let result = try Self.quadrature(a) { $0.steps = 5 }
        let rng = CounterRNG(seed: 0, stream: RandomStream.spectralDensity.rawValue, index: 0)
        var v = (0..<40).map { rng.rademacher(UInt64($0)) }
        v = v.map { $0 / Double(40).squareRoot() }
        var power = v
        for p in 1...9 {
            power = a.apply(power)
            let exact = zip(v, power).reduce(0) { $0 + $1.0 * $1.1 }
            let rule = zip(result.nodes[0], result.weights[0]).reduce(0) { $0 + $1.1 * Double.pow($1.0, p) }
            #expect(abs(rule - exact) <= 1e-12, "degree \(p): \(rule) vs \(exact)")
        }
    }

    @Test func fullLengthRunRecoversTheSpectrum() throws {
        let spectrum = (0..<30).map { Double($0 * $0) / 100 - 1 }
        let a = DenseOperator(spectrum: spectrum, reflections: 30)
        let result = try Self.quadrature(a) { $0.steps = 100 }  // capped at n = 30
        #expect(result.steps == [30])
        for (node, truth) in zip(result.nodes[0], spectrum.sorted()) { #expect(abs(node - truth) <= 1e-10) }
    }

    @Test func invariantSubspaceEndsTheRunEarlyWithAnExactRule() throws {
        let values: [Double] = [-1, 0.5, 2, 3, 7]
        let spectrum = (0..<50).map { values[$0 % 5] }
        let result = try Self.quadrature(DenseOperator(spectrum: spectrum, reflections: 0)) { $0.steps = 40; $0.runs = 2 }
        #expect(result.steps == [5, 5] && result.hvpCount == 10)
        for nodes in result.nodes {
            for (node, truth) in zip(nodes, values) { #expect(abs(node - truth) <= 1e-12) }
        }
        // Diagonal H and a normalised Rademacher probe: vᵀHv = tr(H)/n exactly.
        #expect(abs(result.traceEstimate - spectrum.reduce(0, +)) <= 1e-10)
    }

    @Test func smoothedDensityIntegratesToOne() throws {
        let spectrum: [Double] = (0..<60).map { (i: Int) -> Double in i < 50 ? Double(i) / 500 : 5 + Double(i - 50) / 100 }
        let a = DenseOperator(spectrum: spectrum, reflections: 60)
        let rules = try Self.quadrature(a) { $0.steps = 30; $0.runs = 4 }
        var options = DensityGridOptions()
        options.points = 400
        let grid = try DensityGrid(smoothing: rules, options: options)
        #expect(abs(Self.trapezoid(grid, below: .infinity) - 1) <= 1e-12)
        #expect(grid.density.allSatisfy { $0 >= 0 } && grid.grid.count == 400)
        // Mass split: 50 of 60 eigenvalues below 0.1, 10 near 5 (SLQ's stochastic error ~ 1/√(n·runs)).
        let low = Self.trapezoid(grid, below: 2.5)
        #expect(abs(low - 50.0 / 60) <= 0.1, "\(low)")
    }

    @Test func badInputs() throws {
        let a = DenseOperator(spectrum: [1, 2, 3])
        let runs = #expect(throws: HLRError.self) { try Self.quadrature(a) { $0.runs = 0 } }
        #expect(runs?.kind == .invalidArgument)
        let steps = #expect(throws: HLRError.self) { try Self.quadrature(a) { $0.steps = 0 } }
        #expect(steps?.kind == .invalidArgument)
        let shape = #expect(throws: HLRError.self) { try DensityGrid(nodes: [[1, 2]], weights: [[1]]) }
        #expect(shape?.kind == .invalidArgument)
        let nan = #expect(throws: HLRError.self) { try DensityGrid(nodes: [[.nan]], weights: [[1]]) }
        #expect(nan?.kind == .nonFinite)
        var outside = DensityGridOptions()
        outside.lower = 100
        outside.upper = 101
        let empty = #expect(throws: HLRError.self) { try DensityGrid(nodes: [[0]], weights: [[1]], options: outside) }
        var huge = DensityGridOptions()
        huge.points = .max
        let tooMany = #expect(throws: HLRError.self) { try DensityGrid(nodes: [[0]], weights: [[1]], options: huge) }
        #expect(tooMany?.kind == .invalidArgument)
        #expect(empty?.message.contains("no mass") == true)
        let backend = try TrackingBackend(DenseOperator(spectrum: (0..<20).map(Double.init)))
        backend.failAtHVP = 4
        let failed = #expect(throws: HLRError.self) { try SpectralDensity.quadrature(of: backend) }
        #expect(failed?.kind == .callbackFailed && backend.live == 0)
        let skewed = #expect(throws: HLRError.self) {
            try Self.quadrature(DenseOperator(spectrum: (0..<20).map(Double.init)).skewed(by: 0.5)) { $0.steps = 10 }
        }
        #expect(skewed?.kind == .invalidArgument && skewed?.message.contains("SLQ run 0") == true)
    }
}
