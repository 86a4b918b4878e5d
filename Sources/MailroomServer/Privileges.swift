import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `[security] user`: started as root, the server becomes that user before it opens anything,
/// keeping one privilege, CAP_NET_BIND_SERVICE, so that it still binds ports 25, 143, 443,
/// 465, 587 and 993. It does so by starting itself again as the user with that capability
/// ambient: capabilities belong to threads, and a fresh process is the one way to give it to
/// every thread the server will have (event loops, the task pool, writers) without a gap.
public enum Privileges {
    /// Returns when the process already runs as `user`; as root, becomes `user` and runs the
    /// same command again (does not return); anyone else is an error that says what to do.
    public static func become(_ user: String, dataDir: String) throws {
        guard let entry = getpwnam(user) else {
            throw ServerError("security.user: there is no user \(user) on this machine; create it, e.g. `useradd --system --home-dir \(dataDir) \(user)`")
        }
        let (uid, gid) = (entry.pointee.pw_uid, entry.pointee.pw_gid)
        if getuid() == uid && geteuid() == uid { return }
        guard geteuid() == 0 else {
            throw ServerError("security.user is \(user), but the server was started as uid \(geteuid()): start it as root (it then becomes \(user)) or as \(user)")
        }
        try prepare(dataDir: dataDir, user: user, uid: uid, gid: gid)

        // Keep the permitted capabilities through setuid (this thread is the one that execs).
        guard prctl(PR_SET_KEEPCAPS, 1) == 0, initgroups(user, gid) == 0, setgid(gid) == 0, setuid(uid) == 0 else {
            throw ServerError("cannot become \(user): \(String(cString: strerror(errno)))")
        }
        let bind: UInt32 = 1 << 10  // CAP_NET_BIND_SERVICE
        var header = CapabilityHeader(version: 0x2008_0522, pid: 0)  // _LINUX_CAPABILITY_VERSION_3
        var data = [
            CapabilityData(effective: bind, permitted: bind, inheritable: bind), CapabilityData(effective: 0, permitted: 0, inheritable: 0),
        ]
        guard capset(&header, &data) == 0, prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, 10) == 0 else {
            throw ServerError("cannot keep the right to bind ports below 1024 as \(user): \(String(cString: strerror(errno)))")
        }
        let arguments = CommandLine.arguments
        let argv = arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", argv)
        throw ServerError("cannot start again as \(user): \(String(cString: strerror(errno)))")
    }

    /// The data folder must be the user's: created for it when new, refused (with the command
    /// that fixes it) when it or what is directly in it (the database, the blob folders' root,
    /// keys) belongs to someone else, since files the server cannot write would fail later,
    /// message by message. Not the whole tree: millions of message files would slow every start.
    static func prepare(dataDir: String, user: String, uid: uid_t, gid: gid_t) throws {
        let fm = FileManager.default
        if !fm.fileExists(atPath: dataDir) {
            try fm.createDirectory(atPath: dataDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            guard chown(dataDir, uid, gid) == 0 else {
                throw ServerError("cannot give the new data folder \(dataDir) to \(user): \(String(cString: strerror(errno)))")
            }
        }
        func owner(_ path: String) -> UInt? { (try? fm.attributesOfItem(atPath: path))?[.ownerAccountID] as? UInt }
        var owners: Set<UInt?> = [owner(dataDir)]
        for file in (try? fm.contentsOfDirectory(atPath: dataDir)) ?? [] { owners.insert(owner(dataDir + "/" + file)) }
        guard owners == [UInt(uid)] else {
            throw ServerError(
                "the data folder \(dataDir) (or something in it) does not belong to \(user), which the server runs as (security.user): run `chown -R \(user): \(dataDir)` and start it again")
        }
    }

    // The kernel's capability structures (linux/capability.h), for capset(2).
    struct CapabilityHeader {
        var version: UInt32
        var pid: Int32
    }

    struct CapabilityData {
        var effective: UInt32
        var permitted: UInt32
        var inheritable: UInt32
    }

    static let PR_SET_KEEPCAPS: Int32 = 8
    static let PR_CAP_AMBIENT: Int32 = 47
    static let PR_CAP_AMBIENT_RAISE: UInt = 2

    /// prctl(2) and capset(2) are in glibc, but Swift's Glibc module leaves them out (prctl is
    /// variadic; capset has no header there).
    static func prctl(_ option: Int32, _ a: UInt, _ b: UInt = 0) -> Int32 {
        typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
        guard let f = dlsym(nil, "prctl") else { return -1 }
        return unsafeBitCast(f, to: Prctl.self)(option, a, b, 0, 0)
    }

    static func capset(_ header: UnsafeMutablePointer<CapabilityHeader>, _ data: UnsafeMutablePointer<CapabilityData>) -> Int32 {
        typealias Capset = @convention(c) (UnsafeMutableRawPointer, UnsafeMutableRawPointer) -> Int32
        guard let f = dlsym(nil, "capset") else { return -1 }
        return unsafeBitCast(f, to: Capset.self)(header, data)
    }
}
