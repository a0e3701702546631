// swift-tools-version:6.1
// Atlas — retrieval benchmark.
//
// A package of its own, so `make test` never builds or runs it. Its targets are the product's own
// sources through symbolic links (Sources/AI → ../../../Sources/AI, …), compiled in release mode
// here; the AI module is built with testing enabled so the benchmark can drive its internal index
// types directly. Keep the target list in step with the root Package.swift.
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "retrieval-bench",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3"),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq"),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib"),
        .target(name: "CSystemShims"),
        .target(name: "Core", dependencies: [.product(name: "Logging", package: "swift-log")],
                exclude: ["README.md"], swiftSettings: strictSettings),
        .target(
            name: "HTTP",
            dependencies: [
                "Core", "CSystemShims", "CZlib",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["README.md"], swiftSettings: strictSettings),
        .target(
            name: "Storage",
            dependencies: [
                "Core", "CSQLite", "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["README.md"], swiftSettings: strictSettings, plugins: ["EmbedMigrations"]),
        .target(
            name: "AI",
            dependencies: ["Core", "HTTP", "Storage", .product(name: "Logging", package: "swift-log")],
            exclude: ["README.md"],
            swiftSettings: strictSettings + [.unsafeFlags(["-enable-testing"])]),
        .executableTarget(
            name: "RetrievalBench",
            dependencies: ["AI", "Core", "Storage", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings),
        .executableTarget(name: "EmbedMigrationsTool", path: "Plugins/EmbedMigrationsTool"),
        .plugin(name: "EmbedMigrations", capability: .buildTool(), dependencies: ["EmbedMigrationsTool"]),
    ]
)
