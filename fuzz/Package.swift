// swift-tools-version:6.1
// Atlas — fuzzing of the HTTP request parser (libFuzzer). Built and run by run.sh.
import Foundation
import PackageDescription

// A path dependency's identity is its directory's name, which depends on where the repository
// was cloned; derive it instead of hard-coding it.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

let package = Package(
    name: "atlas-fuzz",
    dependencies: [
        .package(path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "RequestParserFuzzer",
            dependencies: [.product(name: "AtlasHTTP", package: root.lastPathComponent)],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]),
    ]
)
