import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where tests keep their files: one folder per test process in the system's temporary folder,
/// removed when the process exits; a folder left by a process that was killed is removed by the
/// next run. (Each test made its own folder there, and most left it behind: this machine's
/// `/tmp` had gathered some 17,000 of them.)
public enum Scratch {
    static let prefix = "mailroom-tests-"

    public static let root: URL = {
        let temporary = FileManager.default.temporaryDirectory
        for name in (try? FileManager.default.contentsOfDirectory(atPath: temporary.path)) ?? [] where name.hasPrefix(prefix) {
            if let pid = Int32(name.dropFirst(prefix.count)), kill(pid, 0) != 0, errno == ESRCH {
                try? FileManager.default.removeItem(at: temporary.appendingPathComponent(name))
            }
        }
        let root = temporary.appendingPathComponent("\(prefix)\(getpid())")
        try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: Scratch.root) }
        return root
    }()

    /// A fresh path for one test's file or folder, `name-UUID` (not created).
    public static func url(_ name: String, extension ext: String? = nil) -> URL {
        let url = root.appendingPathComponent("\(name)-\(UUID().uuidString)")
        return ext.map { url.appendingPathExtension($0) } ?? url
    }

    /// A fresh folder for one test's files.
    public static func folder(_ name: String) throws -> URL {
        let url = url(name)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
