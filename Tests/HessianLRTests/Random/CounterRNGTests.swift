import Testing
@testable import HessianLR

@Suite struct CounterRNGTests {
    @Test func mixIsSplitMix64() {
        // SplitMix64 seeded with 0 yields mix(0x9E3779B97F4A7C15) first: 0xE220A8397B1DCDAF.
        #expect(CounterRNG.mix(0x9E37_79B9_7F4A_7C15) == 0xE220_A839_7B1D_CDAF)
    }

    @Test func valuesArePureFunctionsOfTheCounter() {
        let a = CounterRNG(seed: 42, stream: 3, index: 7)
        let b = CounterRNG(seed: 42, stream: 3, index: 7)
        #expect((0..<100).map { a.bits($0) } == (0..<100).map { b.bits($0) })
        #expect(CounterRNG(seed: 42, stream: 3, index: 8) != a)
        #expect(CounterRNG(seed: 42, stream: 4, index: 7) != a)
        #expect(CounterRNG(seed: 43, stream: 3, index: 7) != a)
    }

    @Test func rademacherIsPlusMinusOneWithEqualFrequency() {
        // n = 200 000 fair signs: the count of +1 is within 4.5σ (σ = √n/2 ≈ 224) of n/2.
        let rng = CounterRNG(seed: 1, stream: RandomStream.hutchinson.rawValue, index: 0)
        let n = 200_000
        var plus = 0
        for i in 0..<UInt64(n) {
            let value = rng.rademacher(i)
            #expect(value == 1 || value == -1)
            if value == 1 { plus += 1 }
        }
        #expect(abs(plus - n / 2) < 1_006)
    }

    @Test func gaussianMomentsMatch() {
        // n = 200 000: mean within 5/√n, variance within 5·√(2/n), fourth moment within 3 ± 0.1.
        let rng = CounterRNG(seed: 9, stream: 2, index: 1)
        let n = 200_000
        var sum = 0.0, squares = 0.0, fourth = 0.0
        for i in 0..<UInt64(n) {
            let value = rng.gaussian(i)
            sum += value
            squares += value * value
            fourth += value * value * value * value
        }
        let mean = sum / Double(n)
        let variance = squares / Double(n) - mean * mean
        #expect(abs(mean) < 5 / Double(n).squareRoot())
        #expect(abs(variance - 1) < 5 * (2 / Double(n)).squareRoot())
        #expect(abs(fourth / Double(n) - 3) < 0.1)
    }

    @Test func uniformIsInTheUnitInterval() {
        let rng = CounterRNG(seed: 0, stream: 0, index: 0)
        for i in 0..<UInt64(10_000) {
            let value = rng.uniform(i)
            #expect(value >= 0 && value < 1)
        }
    }
}
