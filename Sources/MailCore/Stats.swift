import Synchronization

/// Counters, gauges and histograms the servers keep for `/metrics`, written out as Prometheus
/// text at each scrape. It lives here, below every protocol, so that SMTP, IMAP, DNS and the
/// queue count into one place without each depending on a metrics library; one per server, not
/// process-wide, so that several servers (as in tests) keep their own.
public final class Stats: Sendable {
    public enum Kind: String, Sendable { case counter, gauge, histogram }

    /// A metric's name, kind and help text; one declaration per metric (``MetricCatalog``).
    public struct Metric: Sendable, Hashable {
        public let name: String
        public let kind: Kind
        public let help: String
        /// Histogram bucket upper bounds, in the metric's unit.
        public let buckets: [Double]

        public init(_ name: String, _ kind: Kind, _ help: String, buckets: [Double] = []) {
            self.name = name
            self.kind = kind
            self.help = help
            self.buckets = buckets
        }
    }

    struct Series: Hashable {
        var metric: String
        var labels: [String]  // name, value, name, value…
    }

    struct Histogram {
        var buckets: [Int]
        var sum = 0.0
        var count = 0
    }

    /// One lock for all of it: an update on a hot path (every IMAP command) takes it once.
    private struct State {
        var values: [Series: Double] = [:]
        var histograms: [Series: Histogram] = [:]
        var metrics: [String: Metric] = [:]
    }
    private let state = Mutex(State())

    public init() {}

    /// Adds `delta` to a counter, or to a gauge (negative to lower it).
    public func add(_ metric: Metric, _ labels: KeyValuePairs<String, String> = [:], _ delta: Double = 1) {
        let series = Self.series(metric, labels)
        state.withLock {
            if $0.metrics[metric.name] == nil { $0.metrics[metric.name] = metric }  // most adds are to a known metric
            $0.values[series, default: 0] += delta
        }
    }

    /// Sets a gauge.
    public func set(_ metric: Metric, _ labels: KeyValuePairs<String, String> = [:], _ value: Double) {
        let series = Self.series(metric, labels)
        state.withLock {
            $0.metrics[metric.name] = metric
            $0.values[series] = value
        }
    }

    /// Records one observation in a histogram.
    public func observe(_ metric: Metric, _ labels: KeyValuePairs<String, String> = [:], _ value: Double) {
        let series = Self.series(metric, labels)
        state.withLock { s in
            s.metrics[metric.name] = metric
            var h = s.histograms[series] ?? Histogram(buckets: Array(repeating: 0, count: metric.buckets.count))
            for (i, bound) in metric.buckets.enumerated() where value <= bound { h.buckets[i] += 1 }
            h.sum += value
            h.count += 1
            s.histograms[series] = h
        }
    }

    /// The sum of every series of a counter or gauge (all labels).
    public func total(_ metric: Metric) -> Double {
        state.withLock { $0.values.filter { $0.key.metric == metric.name }.values.reduce(0, +) }
    }

    /// The current value of a counter or gauge series (tests, `mailroom status`).
    public func value(_ metric: Metric, _ labels: KeyValuePairs<String, String> = [:]) -> Double {
        let series = Self.series(metric, labels)
        return state.withLock { $0.values[series] ?? 0 }
    }

    /// The Prometheus text exposition of everything recorded, metric by metric in name order.
    public func exposition() -> String {
        let (values, histograms, metrics) = state.withLock { ($0.values, $0.histograms, $0.metrics) }
        var text = ""
        for name in metrics.keys.sorted() {
            let metric = metrics[name]!
            text += "# HELP \(name) \(metric.help)\n# TYPE \(name) \(metric.kind.rawValue)\n"
            if metric.kind == .histogram {
                for series in histograms.keys.filter({ $0.metric == name }).sorted(by: Self.order) {
                    let h = histograms[series]!
                    for (i, bound) in metric.buckets.enumerated() {
                        text += "\(name)_bucket\(Self.labelText(series.labels + ["le", Self.number(bound)])) \(h.buckets[i])\n"
                    }
                    text += "\(name)_bucket\(Self.labelText(series.labels + ["le", "+Inf"])) \(h.count)\n"
                    text += "\(name)_sum\(Self.labelText(series.labels)) \(Self.number(h.sum))\n"
                    text += "\(name)_count\(Self.labelText(series.labels)) \(h.count)\n"
                }
            } else {
                for series in values.keys.filter({ $0.metric == name }).sorted(by: Self.order) {
                    text += "\(name)\(Self.labelText(series.labels)) \(Self.number(values[series]!))\n"
                }
            }
        }
        return text
    }

    static func series(_ metric: Metric, _ labels: KeyValuePairs<String, String>) -> Series {
        var flat: [String] = []
        flat.reserveCapacity(labels.count * 2)
        for (key, value) in labels {
            flat.append(key)
            flat.append(value)
        }
        return Series(metric: metric.name, labels: flat)
    }

    static func order(_ a: Series, _ b: Series) -> Bool { a.labels.lexicographicallyPrecedes(b.labels) }

    static func labelText(_ labels: [String]) -> String {
        guard !labels.isEmpty else { return "" }
        var pairs: [String] = []
        for i in stride(from: 0, to: labels.count - 1, by: 2) { pairs.append("\(labels[i])=\"\(escape(labels[i + 1]))\"") }
        return "{" + pairs.joined(separator: ",") + "}"
    }

    /// A label value in the text format: backslash, quote and newline escaped.
    public static func escape(_ value: String) -> String {
        var out = ""
        for ch in value.unicodeScalars {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }
}
