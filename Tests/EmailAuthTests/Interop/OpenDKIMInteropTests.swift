import TestSupport
import EmailAuth
import Foundation
import Testing

/// OpenDKIM 2.11 (`opendkim-testmsg`, Debian opendkim-tools) verifies our signatures, looking the
/// keys up in DNS served by NSD from a zone file made of `DKIMKey.dnsZoneLine`.
///
/// `opendkim-testmsg` has no resolver options: libopendkim asks the C library's resolver, which
/// reads /etc/resolv.conf and speaks to port 53 only. So the check runs in a private network and
/// mount namespace (`unshare --net --mount`, needs root): there NSD listens on 127.0.0.1:53, a
/// resolv.conf naming it is bind-mounted over /etc/resolv.conf, and nothing can reach the real
/// network. NSD is stopped by its PID when the script ends. dkimpy's `dkimverify` command (which
/// resolves through /etc/resolv.conf too) is run on the same messages when it is installed.
@Suite("OpenDKIM verifies our signatures against a local DNS zone")
struct OpenDKIMInteropTests {
    static let testmsg = Peers.find("opendkim-testmsg")
    static let nsd = Peers.find("nsd")
    static let unshare = Peers.find("unshare")
    static let ip = Peers.find("ip")
    static let dkimverify = Peers.find("dkimverify")

    /// Namespaces need root (CAP_SYS_ADMIN); probe once.
    static let canUnshare: Bool = {
        guard let unshare else { return false }
        return (try? Peers.run(unshare, ["--net", "--mount", "true"], timeout: 10).status) == 0
    }()

    static var available: Bool { testmsg != nil && nsd != nil && ip != nil && canUnshare }

    /// Runs inside the namespaces. $1: work directory holding nsd.conf, resolv.conf and
    /// messages/*; prints "<tool> <message> <exit status>" per check.
    static let script = #"""
        set -u
        work=$1; ip=$2; nsd=$3; testmsg=$4; dkimverify=${5:-}
        "$ip" link set lo up || exit 90
        mount --bind "$work/resolv.conf" /etc/resolv.conf || exit 91
        "$nsd" -d -c "$work/nsd.conf" >"$work/nsd.out" 2>&1 &
        nsd_pid=$!
        trap 'kill $nsd_pid 2>/dev/null; wait $nsd_pid 2>/dev/null' EXIT
        i=0
        until grep -q "nsd started" "$work/nsd.log" 2>/dev/null; do
            i=$((i + 1)); [ $i -gt 100 ] && { echo "nsd did not start" >&2; cat "$work/nsd.log" "$work/nsd.out" >&2; exit 92; }
            kill -0 $nsd_pid 2>/dev/null || { echo "nsd exited" >&2; cat "$work/nsd.log" "$work/nsd.out" >&2; exit 93; }
            sleep 0.05
        done
        for m in "$work"/messages/*; do
            name=${m##*/}
            "$testmsg" < "$m" >"$work/$name.testmsg.out" 2>&1
            echo "opendkim-testmsg $name $?"
            if [ -n "$dkimverify" ]; then
                "$dkimverify" < "$m" >"$work/$name.dkimverify.out" 2>&1
                echo "dkimverify $name $?"
            fi
        done
        """#

    @Test(
        "RSA and Ed25519 signatures pass, altered messages fail",
        .enabled(
            if: Peers.shouldRun(available),
            "needs opendkim-testmsg (opendkim-tools), nsd, ip and root for unshare; skipped")
    )
    func verify() async throws {
        try await blocking {
            let testmsg = try #require(
                Self.testmsg, "CI=true but opendkim-testmsg is missing: apt-get install opendkim-tools")
            let nsd = try #require(Self.nsd, "CI=true but nsd is missing: apt-get install nsd")
            let ip = try #require(Self.ip, "CI=true but ip is missing: apt-get install iproute2")
            let unshare = try #require(Self.unshare, "CI=true but unshare is missing: apt-get install util-linux")
            try #require(Self.canUnshare, "CI=true but `unshare --net --mount` is refused: run the tests as root")

            let fixture = InteropFixture.shared
            let work = try Scratch.folder("opendkim")
            defer {
                // MAILROOM_KEEP_TEST_FILES=1 keeps the zone, messages and tool outputs for a look.
                if ProcessInfo.processInfo.environment["MAILROOM_KEEP_TEST_FILES"] == nil {
                    try? FileManager.default.removeItem(at: work)
                }
            }
            let messages = work.appendingPathComponent("messages")
            try FileManager.default.createDirectory(at: messages, withIntermediateDirectories: true)
            for testCase in fixture.cases {
                try Data(testCase.message).write(to: messages.appendingPathComponent(testCase.name))
            }
            try fixture.zoneFile().write(to: work.appendingPathComponent("zone"), atomically: true, encoding: .utf8)
            try "nameserver 127.0.0.1\noptions timeout:2 attempts:1\n".write(
                to: work.appendingPathComponent("resolv.conf"), atomically: true, encoding: .utf8)
            try Self.nsdConfig(work: work.path).write(
                to: work.appendingPathComponent("nsd.conf"), atomically: true, encoding: .utf8)
            let scriptURL = work.appendingPathComponent("run.sh")
            try Self.script.write(to: scriptURL, atomically: true, encoding: .utf8)

            let result = try Peers.run(
                unshare,
                ["--net", "--mount", "/bin/sh", scriptURL.path, work.path, ip, nsd, testmsg, Self.dkimverify ?? ""],
                timeout: 60)
            try #require(result.status == 0, "namespace script failed (\(result.status)): \(result.stderr)")

            var statuses: [String: Int] = [:]
            for line in result.stdout.split(separator: "\n") {
                let parts = line.split(separator: " ")
                if parts.count == 3, let status = Int(parts[2]) { statuses["\(parts[0]) \(parts[1])"] = status }
            }
            let tools = ["opendkim-testmsg"] + (Self.dkimverify == nil ? [] : ["dkimverify"])
            for tool in tools {
                for testCase in fixture.cases {
                    let output =
                        (try? String(
                            contentsOf: work.appendingPathComponent("\(testCase.name).\(tool).out"), encoding: .utf8)) ?? ""
                    let status = try #require(
                        statuses["\(tool) \(testCase.name)"], "\(tool) did not run on \(testCase.name)")
                    if testCase.shouldVerify {
                        #expect(status == 0, "\(tool) rejected \(testCase.name): \(output)")
                    } else {
                        #expect(status != 0, "\(tool) accepted the altered message \(testCase.name)")
                    }
                }
            }
        }
    }

    static func nsdConfig(work: String) -> String {
        """
        server:
          ip-address: 127.0.0.1@53
          do-ip6: no
          username: ""
          chroot: ""
          zonesdir: "\(work)"
          database: ""
          zonelistfile: "\(work)/zone.list"
          xfrdfile: "\(work)/xfrd.state"
          xfrdir: "\(work)"
          pidfile: "\(work)/nsd.pid"
          logfile: "\(work)/nsd.log"
          server-count: 1
          verbosity: 1
        remote-control:
          control-enable: no
        zone:
          name: \(InteropFixture.domain)
          zonefile: zone

        """
    }
}
