// swift-tools-version:6.1
// Atlas — a multi-tenant, AI-native SaaS platform backend in one executable.
import PackageDescription

/// Settings every Atlas target shares: Swift 6 language mode plus the upcoming features that make
/// each dependency and each existential explicit.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    // An awaited nonisolated async function runs on its caller's executor: no hop per `await` on a
    // request's path (ADR-015).
    .enableUpcomingFeature("NonisolatedNonsendingByDefault"),
    // One section per function, so the release link can place start-up code together (ADR-013).
    .unsafeFlags(["-Xfrontend", "-function-sections"], .when(platforms: [.linux], configuration: .release)),
]

/// The release link of `atlas` (ADR-013): lld with relative relocations packed (RELR), no symbol
/// table exported for `dlsym`, and the functions start-up runs (`Sources/atlas/startup.order`,
/// written by `scripts/startup-order.sh`) placed together, so an idle server keeps a few hundred
/// kilobytes of its text resident instead of pages scattered over all of it.
let releaseLinkerSettings: [LinkerSetting] = [
    .unsafeFlags([
        "-use-ld=lld",
        "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
        "-Xlinker", "--no-export-dynamic",
        "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/Sources/atlas/startup.order",
        "-Xlinker", "--no-warn-symbol-ordering",
    ], .when(platforms: [.linux], configuration: .release)),
]

let package = Package(
    name: "atlas",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "atlas", targets: ["atlas"]),
        // Exposed so the out-of-tree fuzzing package under fuzz/ can drive the request parser.
        .library(name: "AtlasHTTP", targets: ["HTTP"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "4.1.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/slashmo/swift-w3c-trace-context.git", from: "1.0.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // MARK: C libraries, one owner each
        .systemLibrary(
            name: "CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),
        // libpq's headers; the library is opened on first use by CLibPQLoader (ADR-013).
        .systemLibrary(
            name: "CLibPQ",
            providers: [.apt(["libpq-dev"])]),
        .target(name: "CLibPQLoader", dependencies: ["CLibPQ"]),
        .systemLibrary(
            name: "COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        .target(name: "CSystemShims"),
        // Client-side TLS for the HTTP module's outbound client: OpenSSL behind opaque pointers.
        .target(
            name: "CTLSShims", dependencies: ["COpenSSL"],
            linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),

        // MARK: L0
        .target(
            name: "Core",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            exclude: ["README.md"],
            swiftSettings: strictSettings),

        // MARK: L1
        .target(
            name: "HTTP",
            dependencies: [
                "Core", "CSystemShims", "CTLSShims", "CZlib",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["README.md"],
            swiftSettings: strictSettings),
        .target(
            name: "Storage",
            dependencies: [
                "Core", "CSQLite", "CLibPQ", "CLibPQLoader",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["README.md"],
            swiftSettings: strictSettings,
            plugins: ["EmbedMigrations"]),

        // MARK: L2
        .target(
            name: "Telemetry",
            dependencies: ["Core", "HTTP", .product(name: "Logging", package: "swift-log"),
                           .product(name: "HTTPTypes", package: "swift-http-types"),
                           .product(name: "CoreMetrics", package: "swift-metrics"),
                           .product(name: "Metrics", package: "swift-metrics"),
                           .product(name: "Tracing", package: "swift-distributed-tracing"),
                           .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                           .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            exclude: ["README.md"],
            swiftSettings: strictSettings),

        // MARK: L3 feature modules
        .target(
            name: "Auth",
            dependencies: ["Core", "HTTP", "Storage", "Telemetry", "COpenSSL",
                           .product(name: "JWTKit", package: "jwt-kit"),
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "CryptoExtras", package: "swift-crypto"),
                           .product(name: "HTTPTypes", package: "swift-http-types"),
                           .product(name: "Logging", package: "swift-log")],
            exclude: ["README.md"],
            swiftSettings: strictSettings),
        .target(
            name: "Billing",
            dependencies: ["Core", "HTTP", "Storage", "Telemetry",
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "CoreMetrics", package: "swift-metrics"),
                           .product(name: "Tracing", package: "swift-distributed-tracing"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            exclude: ["README.md"],
            swiftSettings: strictSettings),
        .target(
            name: "AI",
            dependencies: ["Core", "HTTP", "Storage", "Telemetry",
                           .product(name: "HTTPTypes", package: "swift-http-types"),
                           .product(name: "CoreMetrics", package: "swift-metrics"),
                           .product(name: "Tracing", package: "swift-distributed-tracing"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            exclude: ["README.md"],
            swiftSettings: strictSettings),
        // The Data module; the target is `DataPlatform` because a module named `Data` would shadow
        // Foundation's `Data` in qualified names (SPEC §1).
        .target(
            name: "DataPlatform",
            dependencies: ["Core", "HTTP", "Storage", "Telemetry",
                           .product(name: "Yams", package: "Yams"),
                           .product(name: "HTTPTypes", package: "swift-http-types"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            path: "Sources/Data",
            exclude: ["README.md"],
            swiftSettings: strictSettings),

        // MARK: L4 composition root
        .executableTarget(
            name: "atlas",
            dependencies: [
                "Core", "HTTP", "Storage", "Telemetry", "Auth", "Billing", "AI", "DataPlatform",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            exclude: ["startup.order"],
            swiftSettings: strictSettings,
            linkerSettings: releaseLinkerSettings,
            plugins: ["EmbedAPIDocument"]),

        // MARK: Build tooling
        .executableTarget(name: "EmbedMigrationsTool", path: "Plugins/EmbedMigrationsTool"),
        .plugin(
            name: "EmbedMigrations", capability: .buildTool(),
            dependencies: ["EmbedMigrationsTool"]),
        .executableTarget(name: "EmbedAPIDocumentTool", path: "Plugins/EmbedAPIDocumentTool"),
        .plugin(
            name: "EmbedAPIDocument", capability: .buildTool(),
            dependencies: ["EmbedAPIDocumentTool"]),

        // MARK: Tests
        .testTarget(name: "CoreTests", dependencies: ["Core"], swiftSettings: strictSettings),
        .testTarget(
            name: "HTTPTests",
            dependencies: ["HTTP", "Core", .product(name: "HTTPTypes", package: "swift-http-types")],
            swiftSettings: strictSettings),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "Core"], swiftSettings: strictSettings),
        .testTarget(
            name: "AuthTests",
            dependencies: ["Auth", "AtlasTestSupport", "Core", "HTTP", "Storage", .product(name: "JWTKit", package: "jwt-kit"),
                           .product(name: "HTTPTypes", package: "swift-http-types"),
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings),
        .testTarget(name: "BillingTests", dependencies: ["Billing", "Core", "HTTP", "Storage"], swiftSettings: strictSettings),
        .testTarget(
            name: "AtlasTests",
            dependencies: ["atlas", "AtlasTestSupport", "Core", "HTTP", "Storage"],
            swiftSettings: strictSettings),
        // Shared by the test targets: an isolated migrated database per test on SQLite or PostgreSQL.
        .target(
            name: "AtlasTestSupport",
            dependencies: ["Core", "HTTP", "Storage", .product(name: "Logging", package: "swift-log"),
                           .product(name: "HTTPTypes", package: "swift-http-types")],
            path: "Tests/Support",
            swiftSettings: strictSettings),
        .testTarget(name: "AITests", dependencies: ["AI", "AtlasTestSupport", "Billing", "Core", "HTTP", "Storage"], swiftSettings: strictSettings),
        .testTarget(name: "DataTests", dependencies: ["DataPlatform", "AtlasTestSupport", "Core", "HTTP", "Storage"], swiftSettings: strictSettings),
        .testTarget(name: "ArchitectureTests", swiftSettings: strictSettings),
        .testTarget(
            name: "TelemetryTests",
            dependencies: ["Telemetry", "Core", "HTTP", "Storage", "Billing", "AI", "AtlasTestSupport",
                           .product(name: "HTTPTypes", package: "swift-http-types"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "Metrics", package: "swift-metrics"),
                           .product(name: "Tracing", package: "swift-distributed-tracing"),
                           .product(name: "W3CTraceContext", package: "swift-w3c-trace-context")],
            swiftSettings: strictSettings),
    ]
)
