import Foundation

/// A bar chart as inline SVG, drawn by the server: no script, no library, nothing fetched.
/// Every text that goes in is escaped here, because the page puts the SVG in unescaped.
struct Chart {
    struct Series {
        let name: String
        let colour: String
        let values: [Int]
    }

    let title: String
    /// One label per group (an hour).
    let groups: [String]
    let series: [Series]

    func svg() -> String {
        let width = 720.0, height = 220.0, left = 40.0, bottom = 24.0, top = 24.0
        let maxValue = max(1, series.flatMap(\.values).max() ?? 1)
        let plotHeight = height - bottom - top
        let groupWidth = (width - left) / Double(max(groups.count, 1))
        let barWidth = max(1, (groupWidth - 2) / Double(max(series.count, 1)))
        var out = #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \#(Int(width)) \#(Int(height))" role="img" aria-labelledby="chart-title">"#
        out += #"<title id="chart-title">\#(escape(title))</title>"#
        // Scale: zero and the top value.
        out += #"<text x="0" y="\#(fmt(height - bottom))">0</text><text x="0" y="\#(fmt(top + 4))">\#(maxValue)</text>"#
        out += #"<line x1="\#(fmt(left))" y1="\#(fmt(height - bottom))" x2="\#(fmt(width))" y2="\#(fmt(height - bottom))" stroke="currentColor" stroke-opacity="0.4"/>"#
        for (g, label) in groups.enumerated() {
            let x0 = left + Double(g) * groupWidth
            for (s, serie) in series.enumerated() {
                let v = g < serie.values.count ? serie.values[g] : 0
                guard v > 0 else { continue }
                let h = plotHeight * Double(v) / Double(maxValue)
                out += #"<rect x="\#(fmt(x0 + 1 + Double(s) * barWidth))" y="\#(fmt(height - bottom - h))" width="\#(fmt(barWidth))" height="\#(fmt(h))" fill="\#(serie.colour)"><title>\#(escape("\(serie.name) \(label): \(v)"))</title></rect>"#
            }
            if g % 3 == 0 {
                out += #"<text x="\#(fmt(x0))" y="\#(fmt(height - 6))">\#(escape(label))</text>"#
            }
        }
        // Legend across the top.
        var x = left
        for serie in series {
            out += #"<rect x="\#(fmt(x))" y="4" width="10" height="10" fill="\#(serie.colour)"/><text x="\#(fmt(x + 14))" y="13">\#(escape(serie.name))</text>"#
            x += 24 + Double(serie.name.count) * 7
        }
        return out + "</svg>"
    }

    private func fmt(_ v: Double) -> String { String(format: "%.1f", v) }

    func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
