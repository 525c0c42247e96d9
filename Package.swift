// swift-tools-version:6.0
// libhessianlr: curvature-aware learning rates behind one stable C ABI.
//
// Targets (dependencies point down only):
//   HessianLRABI  thin export layer: @_cdecl functions, handles, validation, status codes
//   HessianLR     pure Swift core: schedules, tuners, estimators, snapshots (no C types)
//
// `make lib` builds the `hessianlr` product as libhessianlr.so with the Swift runtime linked
// statically, a SONAME carrying the major version and a version script that exports exactly the
// functions of include/hessianlr.h.
import PackageDescription

let package = Package(
    name: "libhessianlr",
    products: [
        .library(name: "HessianLR", targets: ["HessianLR"]),
        .library(name: "hessianlr", type: .dynamic, targets: ["HessianLRABI"]),
        .executable(name: "hessianlr-swift-example", targets: ["SwiftExample"]),
        .executable(name: "hessianlr-replay", targets: ["HessianLRReplay"]),
        .executable(name: "hessianlr-fuzz", targets: ["HessianLRFuzz"]),
        .executable(name: "hessianlr-soak", targets: ["HessianLRSoak"]),
    ],
    dependencies: [
        // RealModule: elementary functions (exp, log, cos, pow) as pure Swift API for the core.
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    ],
    targets: [
        .target(
            name: "HessianLR",
            dependencies: [.product(name: "RealModule", package: "swift-numerics")],
            exclude: ["README.md"]),
        .target(name: "HessianLRABI", dependencies: ["HessianLR"]),
        .executableTarget(name: "SwiftExample", dependencies: ["HessianLR"], path: "examples/swift"),
        .executableTarget(
            name: "HessianLRReplay", dependencies: ["HessianLR"], path: "Tests/determinism/swift"),
        .executableTarget(
            name: "HessianLRFuzz", dependencies: ["HessianLRABI"], path: "Tests/fuzz",
            exclude: ["corpus", "README.md"]),
        .executableTarget(name: "HessianLRSoak", dependencies: ["HessianLR"], path: "Tests/soak/swift"),
        .testTarget(name: "HessianLRTests", dependencies: ["HessianLR"]),
    ]
)
