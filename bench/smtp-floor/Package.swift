// swift-tools-version: 6.0
// bench/accept-bound's floor for a server written as Mailroom is: SwiftNIO with its defaults
// and as many event loops as cores, answering every SMTP command at once and keeping nothing.
import PackageDescription

let package = Package(
    name: "smtp-floor",
    platforms: [.macOS(.v14)],
    dependencies: [.package(url: "https://github.com/apple/swift-nio", from: "2.101.2")],
    targets: [
        .executableTarget(
            name: "smtp-floor",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ])
    ]
)
