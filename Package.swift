// swift-tools-version:6.0
import PackageDescription

// One module per stage of the data path: a row source (SQLiteDump over SQLiteAccess) → SQL
// text (SQLiteDump) → gzip (Compression) → sink (ChunkIO files/stdout, ObjectStore uploads).
// Backup holds the jobs, BackupServer the HTTP front end, `backstream` the CLI; README.md
// "Architecture" draws it. Only the executable is a product: modules share `package` API.
//
// Linux only (Debian 12 is what CI runs): the stages call Glibc directly (flock, O_NOFOLLOW,
// fsync, pipes), so no Apple platform is declared.
let package = Package(
    name: "Backstream",
    products: [
        .executable(name: "backstream", targets: ["backstream"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.0.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLibdeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        .target(name: "Support"),
        .target(name: "ChunkIO", dependencies: ["Support"]),
        .target(name: "SQLiteAccess", dependencies: ["CSQLite", "Support"]),
        .target(name: "SQLiteDump", dependencies: ["CSQLite", "SQLiteAccess", "ChunkIO", "Support"]),
        .target(name: "Compression", dependencies: ["CLibdeflate", "CZlib", "CZstd", "ChunkIO", "Support"]),
        .target(name: "ObjectStore", dependencies: [
            "CCurl", "CLibdeflate", "ChunkIO", "Support", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // age v1 (age-encryption.org/v1) framing over swift-crypto's primitives.
        .target(name: "Encryption", dependencies: ["ChunkIO", "Support", .product(name: "Crypto", package: "swift-crypto")]),
        // Crypto: the MD5 D1's import API asks for before an upload.
        .target(name: "D1Source", dependencies: [
            "ObjectStore", "SQLiteAccess", "SQLiteDump", "Support", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "Backup", dependencies: ["SQLiteAccess", "SQLiteDump", "Compression", "Encryption", "ChunkIO", "ObjectStore", "D1Source", "Support"]),
        // Many databases, several replicas: the TOML fleet file, leases in the store, due-order policy.
        .target(name: "Fleet", dependencies: [
            "Backup", "Compression", "Encryption", "ObjectStore", "D1Source", "SQLiteDump", "Support",
            .product(name: "TOMLKit", package: "TOMLKit"),
        ]),
        .target(name: "BackupServer", dependencies: [
            "Backup", "Fleet", "D1Source", "SQLiteDump", "Compression", "Encryption", "ObjectStore", "ChunkIO", "Support",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "JWTKit", package: "jwt-kit"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ], resources: [
            // The admin page's templates, embedded in the binary (no resource bundle to ship).
            .embedInCode("Resources/admin.html"), .embedInCode("Resources/signin.html"), .embedInCode("Resources/list.html"),
            .embedInCode("Resources/signin.js"), .embedInCode("Resources/list.js"),
        ]),
        .executableTarget(name: "backstream", dependencies: [
            "Backup", "BackupServer", "Fleet", "D1Source", "SQLiteAccess", "SQLiteDump", "Compression", "Encryption", "ChunkIO", "ObjectStore", "Support",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .target(name: "TestSupport", dependencies: ["CSQLite", "ChunkIO", "Support"], path: "Tests/TestSupport"),
        .testTarget(name: "SupportTests", dependencies: ["Support"]),
        .testTarget(name: "ChunkIOTests", dependencies: ["ChunkIO", "Support", "TestSupport"]),
        .testTarget(name: "SQLiteAccessTests", dependencies: ["SQLiteAccess", "Support", "TestSupport"]),
        .testTarget(name: "SQLiteDumpTests", dependencies: ["SQLiteDump", "SQLiteAccess", "ChunkIO", "Support", "TestSupport"]),
        .testTarget(name: "EncryptionTests", dependencies: ["Encryption", "ChunkIO", "Support", "TestSupport"]),
        .testTarget(name: "CompressionTests", dependencies: ["Compression", "ChunkIO", "Support", "TestSupport"]),
        .testTarget(name: "ObjectStoreTests", dependencies: ["ObjectStore", "ChunkIO", "Support", "TestSupport"],
                    resources: [.copy("Resources")]),
        .testTarget(name: "BackupTests", dependencies: ["Backup", "SQLiteAccess", "SQLiteDump", "Compression", "ChunkIO", "Support", "TestSupport"]),
        .testTarget(name: "BackstreamCLITests", dependencies: ["TestSupport"]),
        .testTarget(name: "D1SourceTests", dependencies: ["D1Source", "Backup", "SQLiteDump", "ChunkIO", "Support", "TestSupport"],
                    exclude: ["sdk_check.py"]),
        .testTarget(name: "FleetTests", dependencies: ["Fleet", "Backup", "ObjectStore", "Support", "TestSupport"]),
        .testTarget(name: "BackupServerTests", dependencies: [
            "BackupServer", "Backup", "Fleet", "ObjectStore", "Support", "TestSupport",
            .product(name: "JWTKit", package: "jwt-kit"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
    ]
)
