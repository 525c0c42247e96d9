import Testing
@testable import HessianLR

/// Power iteration with deflation (PyHessian parity) and its accuracy per HVP against Lanczos.
@Suite struct PowerIterationTests {
    @Test func topEigenvalueWithAClearGap() throws {
        let a = DenseOperator(spectrum: [10, 5] + (0..<98).map { Double($0) / 25 })
        let result = try PowerIteration.eigenpairs(of: try a.space())
        #expect(result.converged == [true])
        // Relative-change stopping at 1e-3 leaves an error of that order (measured 3.0e-4, 13 HVPs).
        #expect(relativeError(result.eigenvalues[0], 10) <= 1e-3)
        #expect(result.hvpCount == result.iterations[0] && result.hvpCount <= 15)
    }

    @Test func deflationFindsTheTopThree() throws {
        let a = DenseOperator(spectrum: [10, -8, 6] + (0..<97).map { Double($0) / 50 }, seed: 3)
        var options = PowerIterationOptions()
        options.count = 3
        options.tolerance = 1e-12
        options.maxIterations = 400
        options.computeVectors = true
        let result = try PowerIteration.eigenpairs(of: try a.space(), options: options)
        for (value, truth) in zip(result.eigenvalues, [10.0, -8, 6]) {
            #expect(relativeError(value, truth) <= 1e-8, "\(result.eigenvalues)")
        }
        #expect(result.eigenvectors.count == 3 && result.converged == [true, true, true])
        #expect(result.residuals.allSatisfy { $0 < 1e-4 })
    }

    /// PyHessian's rule (relative change < 1e-3) stops on a plateau: here the first pair settles
    /// near −8 before the component along λ = 10 has grown, and deflation then finds 10 second.
    /// Reproduced on purpose (parity); `Lanczos` with a residual test does not have this failure.
    @Test func relativeChangeRuleCanStopOnAPlateau() throws {
        let a = DenseOperator(spectrum: [10, -8, 6] + (0..<97).map { Double($0) / 50 }, seed: 3)
        var options = PowerIterationOptions()
        options.count = 2
        let power = try PowerIteration.eigenpairs(of: try a.space(), options: options)
        #expect(relativeError(power.eigenvalues[0], -8) <= 0.05)  // measured −7.697 after 5 HVPs
        #expect(power.residuals[0] > 1)                            // the residual tells
        var lanczos = LanczosOptions()
        lanczos.count = 2
        let l = try Lanczos.eigenpairs(of: try a.space(), options: lanczos)
        #expect(relativeError(l.eigenvalues[0], 10) <= 1e-12 && relativeError(l.eigenvalues[1], -8) <= 1e-12)
    }

    @Test func nullSpaceStartStopsWithZero() throws {
        let backend = try TrackingBackend(DenseOperator(spectrum: [0, 0, 0]))
        let result = try PowerIteration.eigenpairs(of: backend)
        #expect(result.eigenvalues == [0] && result.converged == [true] && result.hvpCount == 1)
        #expect(backend.live == 0)
    }

    /// At the same HVP budget Lanczos is orders of magnitude more accurate: the "more accurate per
    /// HVP" claim against PyHessian / hessian-eigenthings, measured on a 3%-gap spectrum.
    @Test func lanczosBeatsPowerIterationPerHVP() throws {
        let a = DenseOperator(spectrum: LanczosTests.geometric)
        var power = PowerIterationOptions()
        power.tolerance = 0  // run the whole budget
        power.maxIterations = 40
        let p = try PowerIteration.eigenpairs(of: try a.space(), options: power)
        var options = LanczosOptions()
        options.maxDimension = 40
        options.which = .largestAlgebraic
        let l = try Lanczos.eigenpairs(of: try a.space(), options: options)
        #expect(p.hvpCount == 40 && l.hvpCount <= 40)
        let powerError = relativeError(p.eigenvalues[0], 10), lanczosError = relativeError(l.eigenvalues[0], 10)
        #expect(lanczosError <= 1e-12)  // measured 7.1e-16 after 39 HVPs
        #expect(powerError >= 1e-3)     // measured 3.1e-2 after 40 HVPs (0.97^80 convergence)
    }

    @Test func badArguments() throws {
        let a = DenseOperator(spectrum: [1, 2])
        var options = PowerIterationOptions()
        options.count = 3
        let error = #expect(throws: HLRError.self) { try PowerIteration.eigenpairs(of: try a.space(), options: options) }
        #expect(error?.kind == .invalidArgument && error?.message.contains("count (k) must be in 1...2") == true)
        let backend = try TrackingBackend(a)
        backend.failAtHVP = 2
        let failed = #expect(throws: HLRError.self) { try PowerIteration.eigenpairs(of: backend) }
        #expect(failed?.kind == .callbackFailed && backend.live == 0)
    }
}
