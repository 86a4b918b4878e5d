/// What THREAD needs of one message (RFC 5256 §3), gathered by the session.
public struct ThreadMessage: Hashable, Sendable {
    /// What the response names the message by: its sequence number or its UID.
    public var number: UInt32
    /// The Message-ID without angle brackets; nil when missing or invalid.
    public var messageID: String?
    /// The References IDs, oldest first; when there are none, the first In-Reply-To ID.
    public var references: [String]
    /// The base subject (RFC 5256 §2.1), as ``SortRecord/casemap(_:)`` maps it.
    public var baseSubject: String
    /// The subject had a reply or forward marker ("Re:", "Fwd:", "(fwd)", "[fwd: ...]").
    public var isReplyOrForward: Bool
    /// The sent date, seconds since 1970 (the internal date without a usable Date:).
    public var date: Double

    public init(
        number: UInt32, messageID: String?, references: [String], baseSubject: String, isReplyOrForward: Bool,
        date: Double
    ) {
        self.number = number
        self.messageID = messageID
        self.references = references
        self.baseSubject = baseSubject
        self.isReplyOrForward = isReplyOrForward
        self.date = date
    }
}

/// A thread: a message (nil for a dummy standing in for a parent not in the result) and its
/// replies.
public struct ThreadNode: Hashable, Sendable {
    public var number: UInt32?
    public var children: [ThreadNode]

    public init(_ number: UInt32?, _ children: [ThreadNode] = []) {
        self.number = number
        self.children = children
    }
}

/// THREAD=ORDEREDSUBJECT and THREAD=REFERENCES (RFC 5256 §3), and the THREAD response.
///
/// Input messages are in mailbox (sequence) order: ties of sent date keep that order.
public enum Threader {
    /// ORDEREDSUBJECT: messages of one base subject form one thread, the earliest as the
    /// parent of all the others (in sent-date order); threads go by their first message's date.
    public static func orderedSubject(_ messages: [ThreadMessage]) -> [ThreadNode] {
        let order = messages.indices.sorted { a, b in
            let x = messages[a]
            let y = messages[b]
            if x.baseSubject != y.baseSubject {
                return x.baseSubject.utf8.lexicographicallyPrecedes(y.baseSubject.utf8)
            }
            if x.date != y.date { return x.date < y.date }
            return a < b
        }
        var threads: [(first: Int, node: ThreadNode)] = []
        var i = 0
        while i < order.count {
            var j = i + 1
            while j < order.count, messages[order[j]].baseSubject == messages[order[i]].baseSubject { j += 1 }
            let children = order[(i + 1)..<j].map { ThreadNode(messages[$0].number) }
            threads.append((order[i], ThreadNode(messages[order[i]].number, children)))
            i = j
        }
        threads.sort { x, y in
            let a = messages[x.first]
            let b = messages[y.first]
            return a.date != b.date ? a.date < b.date : x.first < y.first
        }
        return threads.map(\.node)
    }

    /// REFERENCES: threads by Message-ID, References and In-Reply-To, then threads whose
    /// roots share a base subject gathered together (RFC 5256 §3, steps 1 to 6).
    public static func references(_ messages: [ThreadMessage]) -> [ThreadNode] {
        var t = ReferenceThreader(messages)
        return t.run()
    }

    /// The THREAD response's data: `(2)(3 6 (4 23)(44 7 96))`.
    ///
    ///     thread-list    = "(" (thread-members / thread-nested) ")"   ; RFC 5256 §5
    ///     thread-members = nz-number *(SP nz-number) [SP thread-nested]
    ///     thread-nested  = 2*thread-list
    public static func encode(_ threads: [ThreadNode]) -> String {
        var out = ""
        for t in threads { list(t, into: &out) }
        return out
    }

    private static func list(_ node: ThreadNode, into out: inout String) {
        out += "("
        members(node, into: &out)
        out += ")"
    }

    /// A chain of single replies is written flat; more than one reply, each as a list.
    private static func members(_ node: ThreadNode, into out: inout String) {
        var node = node
        var separator = ""
        while true {
            if let n = node.number {
                out += separator + String(n)
                separator = " "
            }
            if node.children.count == 1 && node.number != nil {
                node = node.children[0]
                continue
            }
            if !node.children.isEmpty {
                out += separator
                for c in node.children { list(c, into: &out) }
            }
            return
        }
    }
}

/// The REFERENCES algorithm's containers: one per Message-ID seen, with or without its message.
struct ReferenceThreader {
    struct Container {
        var message: Int?
        var parent: Int?
        var children: [Int] = []
    }

    let messages: [ThreadMessage]
    var containers: [Container] = []
    var byID: [String: Int] = [:]

    init(_ messages: [ThreadMessage]) {
        self.messages = messages
    }

    mutating func run() -> [ThreadNode] {
        // (1) Link by references.
        for (m, message) in messages.enumerated() {
            let own: Int
            if let id = message.messageID, let c = byID[id], containers[c].message == nil {
                own = c
                containers[c].message = m
            } else if let id = message.messageID, byID[id] == nil {
                own = container(for: id)
                containers[own].message = m
            } else {
                // No Message-ID, or a duplicate: a container of its own (§3 REFERENCES 1.A).
                containers.append(Container(message: m))
                own = containers.count - 1
            }
            // (1.A) Each reference the parent of the next; existing links stay.
            var previous: Int?
            for ref in message.references {
                let c = container(for: ref)
                if let p = previous, containers[c].parent == nil, !wouldLoop(parent: p, child: c) {
                    link(parent: p, child: c)
                }
                previous = c
            }
            // (1.B) The last reference is the parent of the message, replacing a link made
            // from another message's (possibly truncated) References.
            if containers[own].parent != nil { unlink(own) }
            if let p = previous, !wouldLoop(parent: p, child: own) { link(parent: p, child: own) }
        }
        // (2) The root set; (3) the ID table is no longer needed; (4) prune dummies.
        var roots = prune(containers.indices.filter { containers[$0].parent == nil }, atRoot: true)
        // (5) Gather roots that share a base subject.
        roots = gatherBySubject(roots)
        // (6) Siblings by sent date, deepest first (a dummy goes by its first child).
        roots = sorted(roots)
        return roots.map(node)
    }

    mutating func container(for id: String) -> Int {
        if let c = byID[id] { return c }
        containers.append(Container())
        byID[id] = containers.count - 1
        return containers.count - 1
    }

    /// Whether `child` is `parent` or one of its ancestors.
    func wouldLoop(parent: Int, child: Int) -> Bool {
        var p: Int? = parent
        while let c = p {
            if c == child { return true }
            p = containers[c].parent
        }
        return false
    }

    mutating func link(parent: Int, child: Int) {
        containers[child].parent = parent
        containers[parent].children.append(child)
    }

    mutating func unlink(_ child: Int) {
        guard let p = containers[child].parent else { return }
        containers[p].children.removeAll { $0 == child }
        containers[child].parent = nil
    }

    func subject(_ c: Int) -> ThreadMessage? {
        if let m = containers[c].message { return messages[m] }
        return containers[c].children.first.flatMap { containers[$0].message.map { messages[$0] } }
    }

    /// (4) Dummies without children go; dummies with children give way to them, except at the
    /// root where that would split a thread (more than one child).
    mutating func prune(_ list: [Int], atRoot: Bool) -> [Int] {
        var out: [Int] = []
        for c in list {
            let children = prune(containers[c].children, atRoot: false)
            containers[c].children = children
            for child in children { containers[child].parent = c }
            if containers[c].message != nil {
                out.append(c)
            } else if children.isEmpty {
                continue
            } else if !atRoot || children.count == 1 {
                for child in children { containers[child].parent = atRoot ? nil : containers[c].parent }
                out += children
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// (5) The subject table: one root per base subject, the others merged into it.
    mutating func gatherBySubject(_ roots: [Int]) -> [Int] {
        var table: [String: Int] = [:]
        func isDummy(_ c: Int) -> Bool { containers[c].message == nil }
        func isReply(_ c: Int) -> Bool { containers[c].message.map { messages[$0].isReplyOrForward } ?? false }
        // (5.B)
        for c in roots {
            guard let s = subject(c)?.baseSubject, !s.isEmpty else { continue }
            guard let old = table[s] else {
                table[s] = c
                continue
            }
            if !isDummy(old) && (isDummy(c) || (isReply(old) && !isReply(c))) { table[s] = c }
        }
        // (5.C)
        var removed: Set<Int> = []
        var added: [Int] = []
        for c in roots {
            guard !removed.contains(c), let s = subject(c)?.baseSubject, !s.isEmpty, let t = table[s], t != c else {
                continue
            }
            if isDummy(t) && isDummy(c) {
                for child in containers[c].children { link(parent: t, child: child) }
                containers[c].children = []
            } else if isDummy(t) || (isReply(c) && !isReply(t)) {
                link(parent: t, child: c)
            } else {
                containers.append(Container())
                let dummy = containers.count - 1
                link(parent: dummy, child: t)
                link(parent: dummy, child: c)
                table[s] = dummy
                removed.insert(t)
                added.append(dummy)
            }
            removed.insert(c)
        }
        return roots.filter { !removed.contains($0) } + added.filter { !removed.contains($0) }
    }

    /// The sort key of a container: its message, or a dummy's first child's.
    func key(_ c: Int) -> (date: Double, index: Int) {
        if let m = containers[c].message { return (messages[m].date, m) }
        guard let first = containers[c].children.first else { return (0, Int.max) }
        return key(first)
    }

    /// (6)
    mutating func sorted(_ list: [Int]) -> [Int] {
        for c in list { containers[c].children = sorted(containers[c].children) }
        return list.sorted { a, b in
            let x = key(a)
            let y = key(b)
            return x.date != y.date ? x.date < y.date : x.index < y.index
        }
    }

    func node(_ c: Int) -> ThreadNode {
        ThreadNode(containers[c].message.map { messages[$0].number }, containers[c].children.map(node))
    }
}
