// swift-tools-version:6.0
// libhessianlr: curvature-aware learning rates behind one stable C ABI.
//
// Targets (dependencies point down only):
//   HessianLRABI  thin export layer: @_cdecl functions, handles, validation, status codes
//   HessianLR     pure Swift core: schedules, tuners, estimators, snapshots (no C types)
//   HessianLRLoops, HessianLRLoopsX86V3
//                 the host vector kernels' element loops, one source file compiled for the
//                 baseline CPU and for x86-64-v3 (AVX2); the core picks one at run time
//
// `make lib` builds the `hessianlr` product as libhessianlr.so with the Swift runtime linked
// statically, a SONAME carrying the major version and a version script that exports exactly the
// functions of include/hessianlr.h.
import PackageDescription

// The x86-64-v3 copy of the element loops (Sources/HessianLRLoopsX86V3 links to the same file).
// `haswell` names the x86-64-v3 instruction set (AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE) in a form
// the clang importer accepts (it refuses `x86-64-v3` as a CPU). The flag is for x86_64 hosts
// only; elsewhere that module is a second baseline copy, never called.
#if arch(x86_64)
let x86V3: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
#else
let x86V3: [SwiftSetting] = []
#endif

// The element loops are optimized in debug builds too (a release build optimizes everything):
// the tests run the host kernels over vectors past the parallel threshold and over many estimator
// runs, and unoptimized loops made `swift test` take 82 s instead of 50 s (same machine; the
// kernel and coverage suites 36 s → 6 s and 57 s → 31 s). Only these two small targets: the
// core stays debuggable, its build time unchanged. Release semantics (no fast-math) either way.
// `-fno-math-errno` reaches the C inline function behind Swift's `squareRoot()` (the standard
// library's shim, code-generated in this module): without it each lane's √ branches to libm's
// `sqrt` for a negative argument (to set errno), and the Gaussian probe transform
// (GaussianProbes.swift) is scalarised around that branch — 2.6× slower. √ is correctly rounded
// either way; no result changes.
let optimizedLoops: [SwiftSetting] = [.unsafeFlags(["-O", "-Xcc", "-fno-math-errno"])]

let package = Package(
    name: "libhessianlr",
    products: [
        .library(name: "HessianLR", targets: ["HessianLR"]),
        .library(name: "hessianlr", type: .dynamic, targets: ["HessianLRABI"]),
        .executable(name: "hessianlr-swift-example", targets: ["SwiftExample"]),
        .executable(name: "hessianlr-replay", targets: ["HessianLRReplay"]),
        .executable(name: "hessianlr-fuzz", targets: ["HessianLRFuzz"]),
        .executable(name: "hessianlr-soak", targets: ["HessianLRSoak"]),
        // Benchmark only (benchmarks/kernels): the core's host kernels behind plain C symbols.
        .library(name: "hessianlr-kernel-bench", type: .dynamic, targets: ["HessianLRKernelBench"]),
    ],
    dependencies: [
        // RealModule: elementary functions (exp, log, cos, pow) as pure Swift API for the core.
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    ],
    targets: [
        .target(
            name: "HessianLR",
            dependencies: [
                .product(name: "RealModule", package: "swift-numerics"), "HessianLRLoops", "HessianLRLoopsX86V3",
            ],
            exclude: ["README.md"]),
        .target(name: "HessianLRLoops", swiftSettings: optimizedLoops),
        .target(name: "HessianLRLoopsX86V3", swiftSettings: x86V3 + optimizedLoops),
        .target(name: "HessianLRABI", dependencies: ["HessianLR"]),
        .executableTarget(name: "SwiftExample", dependencies: ["HessianLR"], path: "examples/swift"),
        .executableTarget(
            name: "HessianLRReplay", dependencies: ["HessianLR"], path: "Tests/determinism/swift"),
        .executableTarget(
            name: "HessianLRFuzz", dependencies: ["HessianLRABI"], path: "Tests/fuzz",
            exclude: ["corpus", "README.md"]),
        .executableTarget(name: "HessianLRSoak", dependencies: ["HessianLR"], path: "Tests/soak/swift"),
        .target(
            name: "HessianLRKernelBench", dependencies: ["HessianLR", "HessianLRLoops", "HessianLRLoopsX86V3"],
            path: "benchmarks/kernels/swift"),
        .testTarget(name: "HessianLRTests", dependencies: ["HessianLR", "HessianLRLoops", "HessianLRLoopsX86V3"]),
    ]
)
