import Testing
@testable import HessianLR

/// Householder QR with column pivoting: exact recoveries, residuals, rank deficiency, errors.
@Suite struct LeastSquaresTests {
    static func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-12) -> Bool {
        abs(a - b) <= tolerance * max(1, abs(a), abs(b))
    }

    @Test func interpolatesAQuadraticExactly() throws {
        let xs: [Double] = [0, 1, 2, 3, 4, 5]
        let design = xs.flatMap { x -> [Double] in [1, x, x * x] }
        let y = xs.map { 2 - 3 * $0 + 0.5 * $0 * $0 }
        let solution = try LeastSquares.solve(design: design, rows: 6, columns: 3, observations: y)
        #expect(!solution.isRankDeficient)
        #expect(Self.close(solution.coefficients[0], 2))
        #expect(Self.close(solution.coefficients[1], -3))
        #expect(Self.close(solution.coefficients[2], 0.5))
        #expect(solution.residualSumOfSquares < 1e-24)
    }

    @Test func lineThroughThreePointsByHand() throws {
        // (0, 1), (1, 2), (2, 2): slope Sxy/Sxx = 1/2, intercept ȳ − slope·x̄ = 7/6, RSS = 1/6.
        let solution = try LeastSquares.solve(
            design: [1, 0, 1, 1, 1, 2], rows: 3, columns: 2, observations: [1, 2, 2])
        #expect(Self.close(solution.coefficients[0], 7.0 / 6))
        #expect(Self.close(solution.coefficients[1], 0.5))
        #expect(Self.close(solution.residualSumOfSquares, 1.0 / 6))
        #expect(solution.rank == 2)
    }

    @Test func columnScalesDoNotFakeARankDeficiency() throws {
        // Columns of norm ~1 and ~1e-12 (steps of tiny learning rates): still full rank.
        let xs: [Double] = [-1e-12, 0, 1e-12, 2e-12]
        let design = xs.flatMap { x -> [Double] in [1, x] }
        let y = xs.map { 3 + 5e11 * $0 }
        let solution = try LeastSquares.solve(design: design, rows: 4, columns: 2, observations: y)
        #expect(solution.rank == 2)
        #expect(Self.close(solution.coefficients[1], 5e11, 1e-9))
    }

    @Test func rankDeficiencyIsReportedNotSolved() throws {
        let duplicate = try LeastSquares.solve(
            design: [1, 2, 2, 4, 3, 6], rows: 3, columns: 2, observations: [1, 2, 3])
        #expect(duplicate.isRankDeficient)
        #expect(duplicate.rank == 1)
        #expect(duplicate.coefficients.isEmpty)
        #expect(duplicate.residualSumOfSquares.isNaN)
        let zero = try LeastSquares.solve(
            design: [1, 0, 1, 0, 1, 0], rows: 3, columns: 2, observations: [1, 2, 3])
        #expect(zero.rank == 1)
        let empty = try LeastSquares.solve(design: [0, 0], rows: 2, columns: 1, observations: [1, 2])
        #expect(empty.rank == 0)
        // Nearly dependent beyond the tolerance: x and x + 1e-13·noise.
        let near = try LeastSquares.solve(
            design: [1, 1 + 1e-13, 2, 2, 3, 3 - 1e-13], rows: 3, columns: 2, observations: [1, 2, 3])
        #expect(near.isRankDeficient)
        #expect(try LeastSquares.solve(
            design: [1, 1 + 1e-13, 2, 2, 3, 3 - 1e-13], rows: 3, columns: 2, observations: [1, 2, 3],
            tolerance: 0
        ).rank == 2)
    }

    @Test func pivotingHandlesAnyColumnOrder() throws {
        // The same system with columns permuted gives the permuted coefficients.
        let rows: [[Double]] = [[1, 0.5, 4], [1, -1, 2], [1, 2, 0], [1, 3, -1], [1, -2, 5]]
        let y: [Double] = [1, -2, 0.5, 3, 7]
        let a = try LeastSquares.solve(design: rows.flatMap { $0 }, rows: 5, columns: 3, observations: y)
        let b = try LeastSquares.solve(
            design: rows.flatMap { [$0[2], $0[0], $0[1]] }, rows: 5, columns: 3, observations: y)
        #expect(Self.close(a.coefficients[0], b.coefficients[1]))
        #expect(Self.close(a.coefficients[1], b.coefficients[2]))
        #expect(Self.close(a.coefficients[2], b.coefficients[0]))
        // Normal equations hold at the solution: Xᵀ(y − Xβ) = 0.
        for column in 0..<3 {
            var sum = 0.0
            for (i, row) in rows.enumerated() {
                let fitted = zip(row, a.coefficients).reduce(0) { $0 + $1.0 * $1.1 }
                sum += row[column] * (y[i] - fitted)
            }
            #expect(abs(sum) < 1e-12)
        }
    }

    @Test func malformedInputsAreNamed() {
        let cases: [([Double], Int, Int, [Double], HLRError.Kind, String)] = [
            ([1, 2], 1, 2, [1], .invalidArgument, "as many rows as columns"),
            ([1, 2, 3], 2, 2, [1, 2], .invalidArgument, "3 entries"),
            ([1, 2], 2, 1, [1], .invalidArgument, "observations"),
            ([1, .nan], 2, 1, [1, 2], .nonFinite, "design[1][0]"),
            ([1, 2], 2, 1, [1, .infinity], .nonFinite, "observation 1"),
            ([], 0, 0, [], .invalidArgument, "at least 1 column"),
        ]
        for (design, rows, columns, y, kind, fragment) in cases {
            let error = #expect(throws: HLRError.self) {
                try LeastSquares.solve(design: design, rows: rows, columns: columns, observations: y)
            }
            #expect(error?.kind == kind)
            #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "")")
        }
    }
}
