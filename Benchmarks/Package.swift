// swift-tools-version:6.1
import PackageDescription

// ordo-one/benchmark suites for Backstream's stages, kept out of the root package so that its
// build and CI never pull the benchmark dependencies. Run from this folder:
//   swift package benchmark
//
// The root package is a path dependency; SwiftPM names it after its folder, which differs between
// checkouts (backstream, wt-bench, ...), so the manifest reads that name instead of spelling it.
let root = Context.packageDirectory.split(separator: "/").dropLast().last.map(String.init) ?? "backstream"

let package = Package(
    name: "BackstreamBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        .target(
            name: "BenchmarkFixtures",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ChunkIO", package: root),
            ]),
        benchmarkTarget("DumpBenchmarks", measuring: "SQLiteDump"),
        benchmarkTarget("CompressionBenchmarks", measuring: "Compression"),
    ]
)

/// One suite: an executable in Benchmarks/NAME that measures one module of the root package.
func benchmarkTarget(_ name: String, measuring module: String) -> Target {
    .executableTarget(
        name: name,
        dependencies: [
            "BenchmarkFixtures",
            .product(name: "Benchmark", package: "benchmark"),
            .product(name: "ChunkIO", package: root),
            .product(name: module, package: root),
        ],
        path: "Benchmarks/\(name)",
        plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")])
}
