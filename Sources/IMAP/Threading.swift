/// What THREAD needs of one message (RFC 5256 §3), gathered by the session.
public struct ThreadMessage: Hashable, Sendable {
    /// What the response names the message by: its sequence number or its UID.
    public var number: UInt32
    /// The Message-ID without angle brackets; nil when missing or invalid.
    public var messageID: String?
    /// The References IDs, oldest first; when there are none, the first In-Reply-To ID.
    public var references: [String]
    /// The base subject (RFC 5256 §2.1), as ``Casemap`` maps it.
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

/// A thread written as nested values: a message (nil for a dummy standing in for a parent
/// not in the result) and its replies. Handy for small hand-made trees; the algorithms answer
/// a ``ThreadForest``.
public struct ThreadNode: Hashable, Sendable {
    public var number: UInt32?
    public var children: [ThreadNode]

    public init(_ number: UInt32?, _ children: [ThreadNode] = []) {
        self.number = number
        self.children = children
    }
}

/// Threads as flat arrays: node `i` is message `numbers[i]` (nil: a dummy) with replies
/// `children[i]`. Flat, so that a reply chain thousands of messages long costs no recursion
/// (nested values would recurse to build, compare, encode and free).
public struct ThreadForest: Hashable, Sendable {
    public var numbers: [UInt32?] = []
    public var children: [[Int]] = []
    /// The threads, in answer order.
    public var roots: [Int] = []

    public init() {}

    /// From nested nodes (small trees: this recurses).
    public init(_ nodes: [ThreadNode]) {
        func add(_ n: ThreadNode, to forest: inout ThreadForest) -> Int {
            let i = forest.numbers.count
            forest.numbers.append(n.number)
            forest.children.append([])
            let kids = n.children.map { add($0, to: &forest) }
            forest.children[i] = kids
            return i
        }
        roots = nodes.map { add($0, to: &self) }
    }
}

/// THREAD=ORDEREDSUBJECT and THREAD=REFERENCES (RFC 5256 §3), and the THREAD response.
///
/// Input messages are in mailbox (sequence) order: ties of sent date keep that order.
public enum Threader {
    /// ORDEREDSUBJECT: messages of one base subject form one thread, the earliest as the
    /// parent of all the others (in sent-date order); threads go by their first message's date.
    public static func orderedSubject(_ messages: [ThreadMessage]) -> ThreadForest {
        let order = messages.indices.sorted { a, b in
            let x = messages[a]
            let y = messages[b]
            if x.baseSubject != y.baseSubject {
                return x.baseSubject.utf8.lexicographicallyPrecedes(y.baseSubject.utf8)
            }
            if x.date != y.date { return x.date < y.date }
            return a < b
        }
        // Node i is message i.
        var forest = ThreadForest()
        forest.numbers = messages.map(\.number)
        forest.children = Array(repeating: [], count: messages.count)
        var i = 0
        while i < order.count {
            var j = i + 1
            while j < order.count, messages[order[j]].baseSubject == messages[order[i]].baseSubject { j += 1 }
            forest.children[order[i]] = Array(order[(i + 1)..<j])
            forest.roots.append(order[i])
            i = j
        }
        forest.roots.sort { a, b in messages[a].date != messages[b].date ? messages[a].date < messages[b].date : a < b }
        return forest
    }

    /// REFERENCES: threads by Message-ID, References and In-Reply-To, then threads whose
    /// roots share a base subject gathered together (RFC 5256 §3, steps 1 to 6).
    public static func references(_ messages: [ThreadMessage]) -> ThreadForest {
        var t = ReferenceThreader(messages)
        return t.run()
    }

    /// The THREAD response's data: `(2)(3 6 (4 23)(44 7 96))`.
    ///
    ///     thread-list    = "(" (thread-members / thread-nested) ")"   ; RFC 5256 §5
    ///     thread-members = nz-number *(SP nz-number) [SP thread-nested]
    ///     thread-nested  = 2*thread-list
    public static func encode(_ forest: ThreadForest) -> String {
        enum Step {
            case list(Int)
            case close
        }
        var out = ""
        var steps: [Step] = forest.roots.reversed().map { .list($0) }
        while let step = steps.popLast() {
            guard case .list(var node) = step else {
                out += ")"
                continue
            }
            out += "("
            // A chain of single replies is written flat; more than one reply, each as a list.
            var separator = ""
            while true {
                if let n = forest.numbers[node] {
                    out += separator + String(n)
                    separator = " "
                }
                guard forest.children[node].count == 1, forest.numbers[node] != nil else { break }
                node = forest.children[node][0]
            }
            if !forest.children[node].isEmpty { out += separator }
            steps.append(.close)
            steps += forest.children[node].reversed().map { .list($0) }
        }
        return out
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

    mutating func run() -> ThreadForest {
        // (1) Link by references.
        containers.reserveCapacity(messages.count + messages.count / 4)
        byID.reserveCapacity(messages.count + messages.count / 4)
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
        var roots = prune(containers.indices.filter { containers[$0].parent == nil })
        // (5) Gather roots that share a base subject, going through them by date: the RFC
        // leaves the order open, and the answer depends on it (a reply joins the original
        // under it if it comes before a second original makes a dummy of both). By date, it
        // does not depend on mailbox order, and Dovecot goes this way too.
        roots = gatherBySubject(byDate(roots))
        // (6) Siblings by sent date (a dummy, only ever a root, by its first child).
        for c in containers.indices where containers[c].children.count > 1 {
            let sorted = byDate(containers[c].children)
            containers[c].children = sorted
        }
        var forest = ThreadForest()
        forest.numbers = containers.map { $0.message.map { messages[$0].number } }
        forest.children = containers.map(\.children)
        forest.roots = byDate(roots)
        return forest
    }

    /// Containers in ``precedes(_:_:)`` order, each one's key found once (a dummy's is a walk
    /// over its children).
    func byDate(_ cs: [Int]) -> [Int] {
        let keyed = cs.map { (key: key($0), container: $0) }
        return keyed.sorted { a, b in
            a.key.date != b.key.date ? a.key.date < b.key.date : a.key.index < b.key.index
        }.map(\.container)
    }

    mutating func container(for id: String) -> Int {
        if let c = byID[id] { return c }
        containers.append(Container())
        byID[id] = containers.count - 1
        return containers.count - 1
    }

    /// Whether `child` is `parent` or one of its ancestors.
    func wouldLoop(parent: Int, child: Int) -> Bool {
        // Without replies of its own, `child` is no one's ancestor: the common case, a new
        // message under its parent, costs no walk up the thread.
        if containers[child].children.isEmpty { return parent == child }
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

    /// A thread's base subject: its message's, or a dummy's earliest child's
    /// (RFC 5256 5.B.i says "first child", before step 6 sorts them; by date, the answer does
    /// not depend on the order links were made, and Dovecot reads it so too).
    func baseSubject(_ c: Int) -> String? {
        let k = key(c)
        return k.index == Int.max ? nil : messages[k.index].baseSubject
    }

    /// (4) Dummies without children go; dummies with children give way to them, except at the
    /// root where that would split a thread (more than one child). Children before parents, by
    /// walking the trees once without recursion.
    mutating func prune(_ roots: [Int]) -> [Int] {
        var preorder: [Int] = []
        var stack = roots
        while let c = stack.popLast() {
            preorder.append(c)
            stack += containers[c].children
        }
        /// What stands in a container's place under its parent once it is pruned, by container.
        var replacement = [[Int]?](repeating: nil, count: containers.count)
        for c in preorder.reversed() {
            let kids = containers[c].children.flatMap { replacement[$0] ?? [$0] }
            containers[c].children = kids
            for k in kids { containers[k].parent = c }
            replacement[c] = containers[c].message != nil ? [c] : kids
        }
        var out: [Int] = []
        for c in roots {
            let kids = containers[c].children
            if containers[c].message != nil || kids.count > 1 {
                out.append(c)
            } else if let only = kids.first {
                containers[only].parent = nil
                out.append(only)
            }
        }
        return out
    }

    /// (5) The subject table: one root per base subject, the others merged into it.
    mutating func gatherBySubject(_ roots: [Int]) -> [Int] {
        var table: [String: Int] = [:]
        table.reserveCapacity(roots.count)
        func isDummy(_ c: Int) -> Bool { containers[c].message == nil }
        func isReply(_ c: Int) -> Bool { containers[c].message.map { messages[$0].isReplyOrForward } ?? false }
        // (5.B)
        for c in roots {
            guard let s = baseSubject(c), !s.isEmpty else { continue }
            guard let old = table[s] else {
                table[s] = c
                continue
            }
            if !isDummy(old) && (isDummy(c) || (isReply(old) && !isReply(c))) { table[s] = c }
        }
        // (5.C)
        // By container; dummies added here are never removed (each takes over its subject).
        var removed = [Bool](repeating: false, count: containers.count)
        var added: [Int] = []
        for c in roots {
            // Asked again here: merging two dummies can change the earlier one's first child.
            guard !removed[c], let s = baseSubject(c), !s.isEmpty, let t = table[s], t != c else { continue }
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
                removed[t] = true
                added.append(dummy)
            }
            removed[c] = true
        }
        return roots.filter { !removed[$0] } + added
    }

    /// The sort key of a container: its message's, or a dummy's earliest child's (a dummy's
    /// children are messages: pruning leaves dummies only at the root).
    func key(_ c: Int) -> (date: Double, index: Int) {
        if let m = containers[c].message { return (messages[m].date, m) }
        var best = (date: Double.infinity, index: Int.max)
        for child in containers[c].children {
            guard let m = containers[child].message else { continue }
            let k = (date: messages[m].date, index: m)
            if k.date < best.date || (k.date == best.date && k.index < best.index) { best = k }
        }
        return best
    }

    /// (6) Sent date, then mailbox order.
    func precedes(_ a: Int, _ b: Int) -> Bool {
        let x = key(a)
        let y = key(b)
        return x.date != y.date ? x.date < y.date : x.index < y.index
    }
}
