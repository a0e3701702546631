// swift-tools-version:6.2
// Atlas — Bench
// SPDX-License-Identifier: Apache-2.0
//
// A baseline for `make bench` only: never a dependency of atlas (whose own Package.swift must not pull in
// SwiftNIO). Built on its own with `swift build -c release` inside this folder. The folder is not named
// `hummingbird`: SwiftPM names a root package after its folder, and that name would collide with the
// dependency's identity.
import PackageDescription

let package = Package(
    name: "atlas-bench-hummingbird",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "hummingbird-baseline", targets: ["HummingbirdBaseline"]),
    ],
    dependencies: [
        // No traits: the default ones add swift-configuration and full Foundation, which a
        // two-route baseline does not use.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
    ],
    targets: [
        .executableTarget(
            name: "HummingbirdBaseline",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
                .enableUpcomingFeature("InternalImportsByDefault"),
            ]),
    ]
)
